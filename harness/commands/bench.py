"""`harness bench memcpy|gemm|latency`."""
from __future__ import annotations

import importlib

BENCHES = {
    "memcpy": "achieved HBM bandwidth per direction, PC count and size",
    "gemm": "GEMM time and GFLOP/s per shape, element type and epilogue, fused or unfused",
    "latency": "dispatch overhead of an empty kernel and batch-1 latency of GEMM shapes",
}


def register(sub) -> None:
    p = sub.add_parser("bench", help="run a benchmark and write a run directory under results/runs/",
                       description="Run a benchmark. Every repetition is verified against a reference "
                                   "before any figure is written; results go to results/runs/<id>/.")
    bench_sub = p.add_subparsers(dest="bench", metavar="BENCH", required=True)
    for name, help_text in BENCHES.items():
        mod = importlib.import_module(f"harness.bench.{name}")
        bp = bench_sub.add_parser(name, help=help_text, description=(mod.__doc__ or "").strip().splitlines()[0])
        mod.add_arguments(bp)
        bp.set_defaults(func=mod.run)
