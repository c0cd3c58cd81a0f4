"""`harness bench gemm`: GEMM time and GFLOP/s per shape, element type and epilogue, fused or not."""
from __future__ import annotations

import argparse

from harness.commands.options import add_common, parse_shapes, run_options
from harness.commands.report import print_closing, print_table, timing_label, us
from harness.commands.workload_args import add_workload_args, config_from_args
from harness.designs.codes import epilogue_codes
from harness.errors import UserError

HELP = "GEMM time and GFLOP/s per shape, element type and epilogue, fused or unfused"
WORKLOADS = ("smolvla",)


def add_shape_arguments(p: argparse.ArgumentParser, shapes_help: str, workload_help: str) -> None:
    p.add_argument("--shapes", default=None, help=shapes_help)
    p.add_argument("--workload", default=None, choices=WORKLOADS, help=workload_help)


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_common(p)
    add_shape_arguments(p, "GEMM shapes MxKxN, comma-separated (e.g. 64x64x64,50x720x960)",
                        "the distinct linear-layer GEMM shapes of one inference at batch size 1")
    p.add_argument("--dtype", default="fp32",
                   help="element type: selects the gemm_<dtype> design (built: see kernels/designs/gemm.toml; "
                        "default fp32)")
    p.add_argument("--epilogue", default=None, choices=list(epilogue_codes()),
                   help="applied to C: none, bias, bias_gelu (default none; bias_gelu with --compare-fusion)")
    p.add_argument("--compare-fusion", action="store_true",
                   help="per shape, time the epilogue fused in gemm and unfused (gemm, then bias_gelu)")
    add_workload_args(p)


def resolve_shapes(args) -> tuple[list[tuple[int, int, int]], dict]:
    """The shapes to run and a description of where they came from (for context.json)."""
    from harness.bench.gemm import smolvla_shapes
    if args.shapes and args.workload:
        raise UserError("give --shapes or --workload, not both")
    if args.workload:
        if args.workload not in WORKLOADS:
            raise UserError(f"unknown workload {args.workload!r}; use one of {', '.join(WORKLOADS)}")
        shapes = smolvla_shapes(config_from_args(args))
        if not shapes:
            raise UserError("the workload parameters leave no GEMM to run")
        return list(shapes), {"workload": args.workload, "includes": "linear layers (attention products excluded)",
                              "ops": {"x".join(map(str, s)): names for s, names in shapes.items()}}
    if not args.shapes:
        raise UserError("give --shapes MxKxN,... or --workload smolvla")
    given = [k[3:].replace("_", "-") for k, v in vars(args).items() if k.startswith("wl_") and v is not None]
    if given:
        raise UserError(f"workload parameters (--{given[0]}) apply only with --workload smolvla, not --shapes")
    return parse_shapes(args.shapes), {"shapes": args.shapes}


def plan_from_args(args):
    from harness.bench.gemm import GemmPlan, check_plan
    opts = run_options(args)
    if args.compare_fusion:
        if args.epilogue == "none":
            raise UserError("--compare-fusion needs an epilogue to fuse: use --epilogue bias or bias_gelu")
        epilogue = args.epilogue or "bias_gelu"
    else:
        epilogue = args.epilogue or "none"
    shapes, source = resolve_shapes(args)
    plan = GemmPlan(args.dtype, shapes, epilogue, bool(args.compare_fusion), source, opts)
    check_plan(plan)          # before any runtime opens or directory exists
    return plan


def run(args) -> int:
    from harness.bench import gemm
    plan = plan_from_args(args)
    report(gemm.run(plan), plan.dtype)
    return 0


def report(result, dtype) -> None:
    summary = result.summary
    label = timing_label(result.timing_source)
    print(f"\nGEMM {dtype}, {label}")
    rows = []
    for _, r in summary.iterrows():
        shape = f"{int(r['M'])}x{int(r['K'])}x{int(r['N'])}"
        if not r["verified"]:
            rows.append([shape, r["path"], r["epilogue"], "-", "-", "-", f"FAILED {r['n_verified']}/{r['n']}"])
            continue
        rows.append([shape, r["path"], r["epilogue"], us(r["time_s_median"]),
                     f"{r['throughput_GFLOPps_median']:.3g}", f"{r['bandwidth_GBps_median']:.3g}",
                     f"{r['n_verified']}/{r['n']}"])
    print_table(rows, ["M x K x N", "path", "epilogue", "median us", "GFLOP/s", "GB/s", "verified"])
    pairs = summary[summary["path"].isin(["fused", "unfused"]) & summary["verified"]]
    if len(pairs):
        prow = []
        for (M, K, N), g in pairs.groupby(["M", "K", "N"], sort=False):
            t = dict(zip(g["path"], g["time_s_median"]))
            if "fused" in t and "unfused" in t:
                prow.append([f"{int(M)}x{int(K)}x{int(N)}", us(t["fused"]), us(t["unfused"]),
                             us(t["unfused"] - t["fused"]), f"{t['unfused'] / t['fused']:.2f}x"])
        if prow:
            print(f"\nfusion ({summary['epilogue'].iloc[0]}), median times, {label}")
            print_table(prow, ["M x K x N", "fused us", "unfused us", "saved us", "unfused/fused"])
    print_closing(result, lambda r: f"{int(r['M'])}x{int(r['K'])}x{int(r['N'])} {r['path']}")
