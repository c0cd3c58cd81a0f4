"""`harness bench memcpy|gemm|latency|flops|kernel|transfer`: the parsers; the benches themselves are harness.bench."""
from __future__ import annotations

import importlib

BENCHES = ("memcpy", "gemm", "latency", "flops", "kernel", "transfer")


def register(sub) -> None:
    p = sub.add_parser("bench", help="run a benchmark and write a run directory under results/runs/",
                       description="Run a benchmark. Every repetition is verified against a reference "
                                   "before any figure is written; results go to results/runs/<id>/.")
    bench_sub = p.add_subparsers(dest="bench", metavar="BENCH", required=True)
    for name in BENCHES:
        mod = importlib.import_module(f"harness.commands.bench_{name}")
        bp = bench_sub.add_parser(name, help=mod.HELP, description=(mod.__doc__ or "").strip().splitlines()[0])
        mod.add_arguments(bp)
        bp.set_defaults(func=mod.run)
