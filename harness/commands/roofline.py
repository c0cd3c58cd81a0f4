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
from harness.commands.options import add_params
from harness.commands.workload_args import add_workload_args, config_from_args
from harness.workload.precision import PRECISIONS
from harness.workload.smolvla import WORKLOADS, build_workload

OUTPUTS = ("roofline.png", "roofline.svg", "roofline.json", "report.md", "report.html", "ops.csv")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "roofline",
        help="draw the roofline from spec ceilings and run directories, with smolVLA's ops on it",
        description="Roofline (GFLOP/s against FLOP/B, log-log) under the spec ceilings and the ceilings "
        "taken from memcpy, flops and latency runs (memory per kernel port; 'emulated (model)' for emulator "
        "runs), with every op of one inference at its per-shape time (gemm/latency run medians, else the "
        "timing model). Prints the answers first; writes report.md/.html, roofline.png/.svg, roofline.json "
        "and ops.csv. How figures are computed: harness/docs/roofline.md.",
    )
    p.add_argument("--results", nargs="+", metavar="RUN_DIR", default=[],
                   help="run directories (memcpy, gemm, latency, flops, transfer; any mix) under results/runs/")
    p.add_argument("--transfer", default=None, metavar="RUN_DIR",
                   help="a `harness bench transfer` run: times the per-inference host transfers (camera images "
                        "and state in, actions out) counted in the achieved latency (default: the model's "
                        "harness.model.predict_transfer, so labelled)")
    p.add_argument("--workload", choices=sorted(WORKLOADS), default=None,
                   help="place this workload's ops on the roofline (smolvla)")
    p.add_argument("--precision", default="auto", metavar="P",
                   help=f"element type of the workload's bytes: auto (the GEMM run's dtype) or one of "
                        f"{', '.join(PRECISIONS)} (default auto)")
    p.add_argument("--derate", type=float, default=None, metavar="F",
                   help="also draw spec HBM x F (e.g. 0.8), labelled as an assumption")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="output directory (default: a new results/roofline-<UTC time>/; never a run directory)")
    p.add_argument("--json", action="store_true", help="also print roofline.json to stdout")
    p.add_argument("--seed-assumptions", action="store_true",
                   help="the rejected seed analysis point by point (OI ~44, ridge ~11.7, OI ~22, ridge ~18) "
                        "beside the corrected values; with --out DIR also writes seed.png and seed.md")
    add_workload_args(p)
    add_params(p)
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
    from harness.roofline.classify import COLUMNS
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def _utc_dir(prefix: str) -> pathlib.Path:
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = REPO_ROOT / "results" / f"{prefix}-{stamp}"
    n = 2
    while out.exists():                  # two reports in the same second: never overwrite one
        out = REPO_ROOT / "results" / f"{prefix}-{stamp}-{n}"
        n += 1
    return out


def out_dir(arg: str | None, prefix: str = "roofline") -> pathlib.Path:
    """--out, or a new results/<prefix>-<UTC time>/; never a run directory."""
    if not arg:
        return _utc_dir(prefix)
    out = pathlib.Path(arg)
    if (out / "context.json").is_file():
        raise UserError(f"{out} is a run directory: its files are the run's own; give --out a directory of "
                        "its own (or leave --out out for results/roofline-<UTC time>/)")
    return out


def write_outputs(out: pathlib.Path, files: dict[str, bytes], owned=()) -> None:
    """All files to temporary names first, then renamed: never half a report. Files in `owned`
    that this write does not produce are removed, so no stale output sits beside a new one."""
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
    for name in owned:
        if name not in files:
            try:
                (out / name).unlink(missing_ok=True)
            except OSError as exc:
                raise UserError(f"cannot remove the stale {out / name} ({exc.strerror}): choose another "
                                "--out") from None


def run(args: argparse.Namespace) -> int:
    from harness.roofline.analysis import analyze
    from harness.results.reader import load_runs

    if args.transfer and not (args.workload or args.seed_assumptions):
        raise UserError("--transfer times the host transfers of one inference of a workload; add --workload smolvla")
    out = out_dir(args.out) if (args.out or not args.seed_assumptions) else None
    runs = load_runs(args.results + ([args.transfer] if args.transfer else []))
    if args.transfer:
        tr = next(r for r in runs if r.path.resolve() == pathlib.Path(args.transfer).resolve())
        if tr.bench != "transfer":
            raise UserError(f"--transfer {args.transfer}: a {tr.bench} run; give a `harness bench transfer` run "
                            "directory (or leave --transfer out for the model's transfer times)")
    workload = None
    if args.workload or args.seed_assumptions:
        workload = build_workload(args.workload or "smolvla", config_from_args(args))

    if args.seed_assumptions:
        return _seed(args, runs, workload, out, analyze)

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
    write_outputs(out, files, OUTPUTS)

    info = sys.stderr if args.json else sys.stdout
    from harness.roofline.summary import headline
    for line in headline(a):
        print(line, file=info)
    _print_notes(a.notices, a.warnings)
    where = "--out" if args.out else "a new directory: no --out given"
    print(f"wrote {', '.join(files)} to {out} ({where})", file=info)
    if args.json:
        json.dump(data, sys.stdout, indent=2)
        print()
    return 0


def _seed(args, runs, workload, out, analyze) -> int:
    from harness.roofline import seed
    a = analyze(runs, workload, precision=args.precision, derate=args.derate, extra_compute_dtypes=("fx16",),
                no_kernel_reason="no GEMM run given; fp32, the element type of the seed's kernels "
                                 "(harness/docs/critique.md: 'using bfloat16_t = float')")
    cmp = seed.compare(a)
    # fp32 without a GEMM run is the seed's own element type here, stated in the output: not a warning
    a.warnings = [w for w in a.warnings if not w.startswith("precision auto")]
    if args.json:
        json.dump(_clean(cmp), sys.stdout, indent=2)
        print()
    else:
        print(seed.format_text(cmp))
    _print_notes(a.notices, a.warnings)
    if out is not None:
        import io
        from harness.roofline.plot import _plt
        fig = seed.draw(a, cmp)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=150)
        _plt().close(fig)
        write_outputs(out, {"seed.png": buf.getvalue(), "seed.md": seed.markdown(cmp).encode()})
        print(f"wrote seed.png, seed.md to {out}", file=sys.stderr if args.json else sys.stdout)
    return 0


def _print_notes(notices: list[str], warnings: list[str]) -> None:
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    for n in notices:
        print(f"note: {n}", file=sys.stderr)
