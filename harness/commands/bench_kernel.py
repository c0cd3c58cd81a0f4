"""`harness bench kernel --spec FILE`: your kernel, described by a spec, timed and verified per shape."""
from __future__ import annotations

import argparse
import math

from harness.commands.options import add_common, run_options
from harness.commands.report import print_closing, print_table, us

HELP = "time and verify one kernel of your own xclbin, described by a spec file (TOML)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--spec", required=True, metavar="FILE",
                   help="kernel spec (TOML): name, CUs, arguments with banks, shapes or smolVLA op names, "
                        "reference, HLS source and cycle model; see README 'Writing a spec for your own kernel'")
    add_common(p)
    # where this bench's xclbin comes from differs from the harness's own designs
    p._option_string_actions["--xclbin"].help = ("the xclbin holding the kernel (--mode hw, hw_emu, sw_emu); "
                                                 "default: xclbin = in the spec's [kernel]; in --mode emu the "
                                                 "spec's source is built natively")


def plan_from_args(args):
    from harness.bench.kernel import KernelPlan, check_plan
    from harness.designs.spec import load_spec
    opts = run_options(args)
    plan = KernelPlan(load_spec(args.spec), opts)
    check_plan(plan)            # before any runtime opens or directory exists
    return plan


def run(args) -> int:
    from harness.bench import kernel
    plan = plan_from_args(args)
    report(kernel.run(plan), plan.spec)
    return 0


def _rate(x) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3g}"


def report(result, spec) -> None:
    from harness.bench.kernel import NO_TIME
    summary = result.summary
    timed = result.timing_source != "none"
    from harness.commands.report import timing_label
    label = {"model": "MODELED (emulation: the spec's cycle model, not a measurement)",
             "none": NO_TIME.upper()}.get(result.timing_source) or timing_label(result.timing_source)
    print(f"\nkernel {spec.name} ({spec.path.name}), {label}")
    rows = []
    for _, r in summary.iterrows():
        names = str(r["ops"]).split(";") if isinstance(r["ops"], str) and r["ops"] else ["-"]
        ops = ", ".join(names)
        if len(ops) > 40:
            ops = f"{names[0]} (+{len(names) - 1})"
        shape = str(r["dims"])
        status = f"{r['n_verified']}/{r['n']}" if r["verified"] else f"FAILED {r['n_verified']}/{r['n']}"
        if timed:
            rows.append([ops, shape, us(r["time_s_median"]), us(r["predicted_time_s"]),
                         _rate(r["throughput_GFLOPps_median"]), _rate(r["bandwidth_GBps_median"]), status])
        else:
            rows.append([ops, shape, status])
    if timed:
        print_table(rows, ["ops", "shape", "median us", "cycle model us", "GFLOP/s", "GB/s", "verified"])
    else:
        print_table(rows, ["ops", "shape", "verified"])
        print(f"{NO_TIME}: the spec has no [timing] cycles; results are verified, no performance "
              "figure is given")
    if spec.reference is None:
        print("warning: the spec has no [reference]: no launch could be verified, so the run has no figure")
    print_closing(result, lambda r: f"{r['kernel']} {r['dims']}")
