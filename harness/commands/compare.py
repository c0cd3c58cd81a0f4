"""`harness compare RUN_A RUN_B`: the change of each point's median between two runs of one bench."""
from __future__ import annotations

import argparse


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "compare", help="compare two runs of the same bench point by point",
        description="For every point of two runs of one bench: the median time of each, the change B/A - 1 "
        "with a 95%% bootstrap confidence interval of the ratio of medians, and a two-sided Mann-Whitney U "
        "rank test (scipy); points with p < 0.05 are marked '*'. Verified measured repetitions only.")
    p.add_argument("run_a", metavar="RUN_A", help="the reference run directory")
    p.add_argument("run_b", metavar="RUN_B", help="the run compared with it")
    p.add_argument("--json", action="store_true", help="print the rows as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json
    import math
    from harness.results.compare import compare, format_table
    from harness.results.reader import load_run
    a, b = load_run(args.run_a), load_run(args.run_b)
    rows = compare(a, b)
    if args.json:
        def clean(v):
            if isinstance(v, float) and not math.isfinite(v):
                return None
            return v.item() if hasattr(v, "item") else v
        print(json.dumps([{k: clean(v) for k, v in r.items()} for r in rows], indent=2))
    else:
        print(format_table(a, b, rows))
    return 0
