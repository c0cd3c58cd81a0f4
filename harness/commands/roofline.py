"""`harness roofline`: ceilings from spec and runs, smolVLA's ops on them, the report."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import pathlib
import sys

from harness import REPO_ROOT
from harness.errors import UserError
from harness.commands.workload_args import add_workload_args, config_from_args
from harness.workload.precision import PRECISIONS
from harness.workload.smolvla import WORKLOADS, build_workload

OUTPUTS = ("roofline.png", "roofline.svg", "roofline.json", "report.md", "report.html", "ops.csv")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "roofline",
        help="draw the roofline from spec ceilings and run directories, with smolVLA's ops on it",
        description="Roofline (GFLOP/s against FLOP/B, log-log) with spec ceilings (dashed) and the "
        "ceilings taken from memcpy, gemm and latency runs (solid; 'emulated (model)' for emulator "
        "runs). With --workload, places every op of one inference on it and writes report.md/.html, "
        "roofline.json and ops.csv. How figures are computed: harness/docs/roofline.md.",
    )
    p.add_argument("--results", nargs="+", metavar="RUN_DIR", default=[],
                   help="run directories (memcpy, gemm, latency; any mix) under results/runs/")
    p.add_argument("--workload", choices=sorted(WORKLOADS), default=None,
                   help="place this workload's ops on the roofline (smolvla)")
    p.add_argument("--precision", default="auto", metavar="P",
                   help=f"element type of the workload's bytes: auto (the GEMM run's dtype) or one of "
                        f"{', '.join(PRECISIONS)} (default auto)")
    p.add_argument("--derate", type=float, default=None, metavar="F",
                   help="also draw spec HBM x F (e.g. 0.8), labelled as an assumption")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="output directory (default: the first run directory, or results/roofline-<timestamp>/)")
    p.add_argument("--json", action="store_true", help="also print roofline.json to stdout")
    p.add_argument("--seed-assumptions", action="store_true",
                   help="print the rejected seed analysis' figures (16-bit, 460 GB/s, 5,410 GFLOP/s) "
                        "beside the corrected ones; writes nothing")
    add_workload_args(p)
    p.set_defaults(func=run)


def _clean(o):
    """JSON-safe: inf/nan -> None."""
    if isinstance(o, float) and not math.isfinite(o):
        return None
    if isinstance(o, dict):
        return {str(k): _clean(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean(v) for v in o]
    if hasattr(o, "item") and not isinstance(o, (str, bytes)):   # numpy scalars
        return _clean(o.item())
    return o


def _ops_csv(rows: list[dict]) -> str:
    import csv
    import io
    if not rows:
        return ""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def _out_dir(args, runs) -> pathlib.Path:
    if args.out:
        return pathlib.Path(args.out)
    if runs:
        return runs[0].path
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = REPO_ROOT / "results" / f"roofline-{stamp}"
    n = 2
    while out.exists():                  # two reports in the same second: never overwrite one
        out = REPO_ROOT / "results" / f"roofline-{stamp}-{n}"
        n += 1
    return out


def write_outputs(out: pathlib.Path, files: dict[str, bytes]) -> None:
    """All files to temporary names first, then renamed: never half a report."""
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create output directory {out} ({exc.strerror}): choose another --out") from None
    tmps = []
    try:
        for name, data in files.items():
            tmp = out / f".{name}.tmp-{os.getpid()}"
            tmps.append((tmp, out / name))
            tmp.write_bytes(data)
    except OSError as exc:
        for tmp, _ in tmps:
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass
        if created:
            try:
                out.rmdir()
            except OSError:
                pass
        raise UserError(f"cannot write into {out} ({exc.strerror}): free some space or choose another "
                        "--out") from None
    for tmp, final in tmps:
        os.replace(tmp, final)
    # Every file this command owns is replaced or removed: no ops.csv of an earlier report
    # stays beside a new one that has none.
    for name in OUTPUTS:
        if name not in files:
            try:
                (out / name).unlink(missing_ok=True)
            except OSError as exc:
                raise UserError(f"cannot remove the stale {out / name} ({exc.strerror}): choose another "
                                "--out") from None


def run(args: argparse.Namespace) -> int:
    from harness.roofline.analysis import analyze
    from harness.results.reader import load_runs

    runs = load_runs(args.results)
    workload = None
    if args.workload or args.seed_assumptions:
        workload = build_workload(args.workload or "smolvla", config_from_args(args))

    if args.seed_assumptions:
        from harness.roofline import seed
        a = analyze(runs, workload, precision=args.precision, derate=args.derate,
                    extra_compute_dtypes=("fx16",),
                    no_kernel_reason="no GEMM run given; fp32, the element type of the seed's "
                                     "kernels (harness/docs/critique.md: 'using bfloat16_t = float')")
        cmp = seed.compare(a)
        _print_warnings(a.warnings)
        if args.json:
            json.dump(_clean(cmp), sys.stdout, indent=2)
            print()
        else:
            print(seed.format_text(cmp))
        return 0

    a = analyze(runs, workload, precision=args.precision, derate=args.derate)
    from harness.roofline import plot, report
    png, svg = plot.render(a)
    data = _clean(a.to_json())
    md = report.markdown(a)
    files = {
        "roofline.png": png,
        "roofline.svg": svg,
        "roofline.json": (json.dumps(data, indent=2) + "\n").encode(),
        "report.md": md.encode(),
        "report.html": report.to_html(md, png).encode(),
    }
    if a.rows:
        files["ops.csv"] = _ops_csv(a.rows).encode()
    out = _out_dir(args, runs)
    default_out = not args.out and not runs
    write_outputs(out, files)

    _print_warnings(a.warnings)
    info = sys.stderr if args.json else sys.stdout
    for line in summary_lines(a):
        print(line, file=info)
    where = "default directory, no --results or --out given" if default_out else \
        ("--out" if args.out else "the first run directory")
    print(f"wrote {', '.join(files)} to {out} ({where})", file=info)
    if args.json:
        json.dump(data, sys.stdout, indent=2)
        print()
    return 0


def _tagged(fig) -> str:
    """'363.6 GB/s (emulated (model): run ..., emulated; ...)': the value with its source tag."""
    from harness.roofline.ceilings import source_tag
    v = fig.value
    txt = f"{v:,.1f}" if abs(v) >= 10 else f"{v:.3g}"
    return f"{txt} {fig.unit} ({source_tag(fig)}: {fig.detail})"


def summary_lines(a) -> list[str]:
    """The terminal summary: every ceiling set with its roofs, each with its source."""
    c = a.ceilings
    lines = []
    for s in c.sets():
        comp = f"compute {s.compute.figure.name} {_tagged(s.compute.figure)}"
        if s.ew_compute is not s.compute:
            comp = (f"compute for GEMM/attention ops {s.compute.figure.name} {_tagged(s.compute.figure)}; "
                    f"compute for elementwise ops {s.ew_compute.figure.name} {_tagged(s.ew_compute.figure)}")
        ridge = f"ridge {s.ridge_FLOPpB:.1f} FLOP/B"
        if s.ew_compute is not s.compute:
            ridge += f" (GEMM/attention), {s.ridge_elementwise_FLOPpB:.1f} FLOP/B (elementwise)"
        lines.append(f"{s.label}: memory roof {s.memory.figure.name} {_tagged(s.memory.figure)}; {comp}; {ridge}")
    if c.aggregate is not None:
        used = c.run_set is not None and c.run_set.memory is c.aggregate
        lines.append(f"memory ceiling taken from the runs (best verified aggregate bandwidth over all PCs): "
                     f"{_tagged(c.aggregate.figure)}" +
                     ("; the memory roof ops are classified under" if used else
                      f"; drawn, but ops are classified under {c.run_set.memory.figure.name}, "
                      f"{c.run_set.memory.value:,.1f} GB/s (what the GEMM kernel's ports reach)"
                      if c.run_set is not None else ""))
    for x in a.latency:
        if x["variant"] == "unfused":
            lines.append(f"predicted latency of one inference under {x['label']}: {x['latency_s'] * 1e3:.1f} ms "
                         f"({x['roofline_time_s'] * 1e3:.1f} ms roofline + {x['launches']} launches x "
                         f"{x['dispatch_per_launch_s'] * 1e6:.0f} us dispatch)")
    return lines


def _print_warnings(warnings: list[str]) -> None:
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
