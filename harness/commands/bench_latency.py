"""`harness bench latency`: dispatch overhead of an empty kernel and batch-1 latency of GEMM shapes."""
from __future__ import annotations

import argparse


from harness.bench import MIN_HW_LAUNCHES
from harness.commands.bench_gemm import add_shape_arguments, resolve_shapes
from harness.commands.options import add_common, run_options, xrt_emulation
from harness.commands.report import print_closing, print_table, timing_label, us


def us2(x) -> str:
    return us(x, 2)
from harness.commands.workload_args import add_workload_args
from harness.designs.codes import epilogue_codes
from harness.errors import UserError

HELP = "dispatch overhead of an empty kernel and batch-1 latency of GEMM shapes"
# XRT emulation simulates the RTL: a few launches and one shape within the emulation tiles
EMULATION_LAUNCHES, EMULATION_SHAPES = 8, "16x64x64"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_common(p)
    p.add_argument("--dtype", default="fp32",
                   help="element type: the gemm_<dtype> design whose nop and gemm are launched (default fp32)")
    p.add_argument("--launches", type=int, default=None,
                   help=f"measured launches of the empty kernel (default {MIN_HW_LAUNCHES}, at least "
                        f"{MIN_HW_LAUNCHES} on hardware; {EMULATION_LAUNCHES} in hw_emu/sw_emu); --warmup launches "
                        "come first")
    add_shape_arguments(p, "GEMM shapes MxKxN, comma-separated (default: --workload smolvla; "
                           f"{EMULATION_SHAPES} in hw_emu/sw_emu)",
                        "the distinct linear-layer GEMM shapes of one inference (the default without --shapes)")
    p.add_argument("--epilogue", default="none", choices=list(epilogue_codes()),
                   help="epilogue of the GEMM launches (default none)")
    add_workload_args(p)


def plan_from_args(args):
    from harness.bench import gemm as gb
    from harness.bench.latency import LatencyPlan
    opts = run_options(args)
    emulation = xrt_emulation(args)
    if args.launches is None:
        args.launches = EMULATION_LAUNCHES if emulation else MIN_HW_LAUNCHES
    if emulation and not args.shapes and not args.workload:
        args.shapes = EMULATION_SHAPES
    if args.launches < 1:
        raise UserError("--launches must be at least 1")
    if args.mode == "hw" and args.launches < MIN_HW_LAUNCHES:
        raise UserError(f"--launches {args.launches}: use at least {MIN_HW_LAUNCHES} on hardware so the p99 "
                        "is meaningful")
    if not args.shapes and not args.workload:
        args.workload = "smolvla"
    shapes, source = resolve_shapes(args)
    plan = LatencyPlan(args.dtype, shapes, args.launches, args.epilogue, source, opts)
    design = gb.load_gemm_design(plan.dtype, emulation)    # before any runtime opens or directory exists
    gb.check_fits(design, plan.dtype, plan.shapes, False)
    return plan


def run(args) -> int:
    from harness.bench import latency
    plan = plan_from_args(args)
    report(latency.run(plan), plan.dtype)
    return 0


def report(result, dtype) -> None:
    summary = result.summary
    label = timing_label(result.timing_source)
    d = summary[summary["kind"] == "dispatch"]
    print(f"\ndispatch overhead (empty kernel, start..wait), {label}")
    rows = [[int(r["n"]), us2(r["time_s_min"]), us2(r["time_s_median"]), us2(r["time_s_p99"]),
             us2(r["predicted_dispatch_s"])] for _, r in d.iterrows()]
    print_table(rows, ["launches", "min us", "median us", "p99 us", "model us"])
    g = summary[summary["kind"] == "gemm"]
    if len(g):
        print(f"\nbatch-1 GEMM latency, {dtype}, one launch (dispatch included), {label}")
        rows = []
        for _, r in g.iterrows():
            shape = f"{r['M']}x{r['K']}x{r['N']}"
            if not r["verified"]:
                rows.append([shape, r["epilogue"], "-", "-", "-",
                             us2(r["predicted_time_s"] + r["predicted_dispatch_s"]), us2(r["pipeline_fill_s"]),
                             f"FAILED {r['n_verified']}/{r['n']}"])
                continue
            rows.append([shape, r["epilogue"], us2(r["time_s_median"]), us2(r["time_s_iqr"]),
                         f"{r['time_s_cv']:.1%}", us2(r["predicted_time_s"] + r["predicted_dispatch_s"]),
                         us2(r["pipeline_fill_s"]), f"{r['n_verified']}/{r['n']}"])
        print_table(rows, ["M x K x N", "epilogue", "median us", "IQR us", "cv", "model us", "refills us", "verified"])
    print_closing(result,
                  lambda r: "dispatch" if r["kind"] == "dispatch" else f"{r['M']}x{r['K']}x{r['N']}")
