"""`harness bench flops`: the empirical roofline, GFLOP/s and GB/s per multiply-adds per element."""
from __future__ import annotations

import argparse

from harness.commands.options import add_common, parse_int_list, parse_size, run_options
from harness.commands.report import print_closing, print_table

HELP = "empirical roofline: GFLOP/s and GB/s of F multiply-adds per streamed element, per element type"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_common(p)
    p.add_argument("--dtype", default="fp32", help="element type: selects the flops_<dtype> design (default fp32)")
    p.add_argument("--flops-per-element", default=None,
                   help="multiply-adds per element F, a list like 1,2,4,...,4096 (default: powers of 2 to 4096)")
    p.add_argument("--bytes-per-port", default=None,
                   help="input bytes per port and CU (K/M/G suffixes; default 16M on the card, 16K in emulation)")


def plan_from_args(args):
    from harness.bench import flops as fl
    opts = run_options(args)
    fs = parse_int_list(args.flops_per_element, "--flops-per-element") if args.flops_per_element else fl.DEFAULT_F
    size = parse_size(args.bytes_per_port, "--bytes-per-port") if args.bytes_per_port else None
    plan = fl.FlopsPlan(args.dtype, list(dict.fromkeys(fs)), size, opts)
    fl.check_plan(plan)          # before any runtime opens or directory exists
    return plan


def run(args) -> int:
    from harness.bench import flops as fl
    plan = plan_from_args(args)
    report(fl.run(plan), plan.dtype)
    return 0


def report(result, dtype) -> None:
    summary = result.summary
    label = "measured" if result.timing_source == "measured" else "MODELED (emulation, not a measurement)"
    print(f"\nflops {dtype}, {label}")
    rows = []
    for _, r in summary.iterrows():
        if not r["verified"]:
            rows.append([int(r["flops_per_element"]), f"{r['oi_FLOPpB']:.3g}", "-", "-",
                         f"FAILED {r['n_verified']}/{r['n']}"])
            continue
        rows.append([int(r["flops_per_element"]), f"{r['oi_FLOPpB']:.3g}", f"{r['throughput_GFLOPps_best']:,.1f}",
                     f"{r['bandwidth_GBps_best']:,.1f}", f"{r['n_verified']}/{r['n']}"])
    print_table(rows, ["F", "FLOP/B", "best GFLOP/s", "best GB/s", "verified"])
    ok = summary[summary["verified"].astype(bool)]
    if len(ok):
        best = ok.loc[ok["throughput_GFLOPps_best"].idxmax()]
        print(f"compute ceiling ({dtype}): {best['throughput_GFLOPps_best']:,.1f} GFLOP/s at F = "
              f"{int(best['flops_per_element'])} ({label}, run {result.run_id})")
    print_closing(result, lambda r: f"F={int(r['flops_per_element'])}")
