"""`harness demo` (`make demo`): the main job in emulation, end to end, in under a minute.

Builds the emulated kernels, runs a short memcpy sweep, a GEMM run with fused
and unfused epilogues, a latency run and a host-transfer run, then draws the smolVLA roofline from
those runs and prints where the plot and the report are. Every command is the
ordinary CLI, so the demo is the same code path a researcher runs by hand.
"""
from __future__ import annotations

import sys
import time

from harness.results.schema import RUNS_DIR

MEMCPY = ["bench", "memcpy", "--mode", "emu", "--sizes", "256K..16M", "--direction", "read",
          "--direction", "copy", "--pcs", "1,2,16", "--warmup", "1", "--repeats", "3", "--kernel-reps", "1"]
COPY_ALL = ["bench", "memcpy", "--mode", "emu", "--sizes", "4M", "--direction", "copy", "--pcs", "32",
            "--warmup", "1", "--repeats", "3", "--kernel-reps", "1"]
GEMM = ["bench", "gemm", "--mode", "emu", "--dtype", "fp32", "--shapes", "50x720x2048,64x960x960,241x960x320",
        "--compare-fusion", "--warmup", "1", "--repeats", "3"]
# Sizes up to 1M cover the per-inference transfers (camera images of 768 KiB, state, actions),
# so the roofline counts them from this run rather than from the model alone.
TRANSFER = ["bench", "transfer", "--mode", "emu", "--sizes", "64..1M", "--warmup", "1", "--repeats", "3"]
LATENCY = ["bench", "latency", "--mode", "emu", "--dtype", "fp32", "--launches", "200",
           "--shapes", "50x720x2048,50x2048x720", "--repeats", "5"]


def _step(cli, title: str, argv: list[str]) -> None:
    print(f"\n== {title}: harness {' '.join(argv)}", flush=True)
    t0 = time.perf_counter()
    rc = cli(argv)
    if rc != 0:
        print(f"demo: step '{title}' failed with exit code {rc}", file=sys.stderr)
        raise SystemExit(rc)
    print(f"   ({time.perf_counter() - t0:.1f} s)")


def register(sub) -> None:
    p = sub.add_parser("demo", help="the main job in emulation: a short sweep, GEMM, latency and the roofline",
                       description="Run a short emulated memcpy sweep, a fused/unfused GEMM run and a latency "
                                   "run, then draw the smolVLA roofline from them (no card needed).")
    # The demo runs ordinary command lines, so it gets the CLI's entry point from harness.cli
    # (passed in, not imported: the CLI imports the commands, never the other way round).
    p.set_defaults(func=run, wants_cli=True)


def run(args, cli) -> int:
    from harness.results.writer import utc_now
    out = RUNS_DIR / f"demo-{utc_now().strftime('%Y%m%dT%H%M%SZ')}"
    steps = [("HBM bandwidth sweep (emulated)", MEMCPY), ("all 32 PCs at once (emulated)", COPY_ALL),
             ("GEMM fp32, fused vs unfused (emulated)", GEMM), ("batch-1 latency (emulated)", LATENCY),
             ("host transfers (emulated)", TRANSFER)]
    for title, argv in steps:
        _step(cli, title, argv + ["--out", str(out)])
    runs = sorted(str(p) for p in out.iterdir() if (p / "context.json").is_file())
    report_dir = out / "roofline"
    _step(cli, "smolVLA roofline from these runs", ["roofline", "--results", *runs, "--workload", "smolvla",
                                               "--out", str(report_dir)])
    print("\nDemo done. Everything above is EMULATED: times come from the timing model, not a card.")
    print(f"  runs:   {out}")
    print(f"  plot:   {report_dir / 'roofline.png'}")
    print(f"  report: {report_dir / 'report.html'} (and report.md)")
    return 0

