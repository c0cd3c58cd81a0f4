"""`harness plot RUN_DIR`: draw what a run holds (bandwidth against size, GFLOP/s per shape, launch CDF)."""
from __future__ import annotations

import argparse


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "plot", help="draw what a run directory holds",
        description="Draw one run: memcpy bandwidth against size per direction and PC count, and per CU, and "
        "for --pattern stride/random runs bandwidth against transaction size per pattern beside the model; gemm "
        "GFLOP/s per shape; for a memcpy run with --target-pc, a port PC x target PC heat map (GB/s per CU) "
        "beside the model's, a row per port with --port-pc; latency distributions (the launch CDF of the empty kernel, each GEMM shape's "
        "times); flops GFLOP/s against operational intensity; transfer bandwidth and time per transfer against "
        "size per direction and bank, beside the model's. Verified measured repetitions only.")
    p.add_argument("runs", nargs="+", metavar="RUN_DIR", help="run directories under results/runs/")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="output directory (default: a new results/plot-<UTC time>/; never a run directory)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import io
    from harness.commands.roofline import out_dir, write_outputs
    from harness.results.plots import _plt, describe, draw, is_cross_switch, switch_heatmap
    from harness.results.reader import load_runs
    runs = load_runs(args.runs)
    out = out_dir(args.out, "plot")
    files = {}
    for r in runs:
        figs = {f"{r.run_id}.png": draw(r)}
        if is_cross_switch(r):          # --target-pc: port PC x target PC beside the model
            figs[f"{r.run_id}-switch.png"] = switch_heatmap(r)
        for name, fig in figs.items():
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=130)
            _plt().close(fig)
            files[name] = buf.getvalue()
    write_outputs(out, files)
    for r in runs:
        print(describe(r) + (" (EMULATED: model figures)" if r.emulated else ""))
    print(f"wrote {', '.join(files)} to {out}")
    return 0
