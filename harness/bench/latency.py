"""`harness bench latency`: dispatch overhead of an empty kernel and batch-1 latency of GEMM shapes.

Dispatch: `--launches` launches of `nop` (a kernel that only returns), each
timed alone from start() to wait(); min, median and p99 of those times are the
fixed cost of one launch. On the card at least 1,000 launches are required so
the p99 means something. `nop` has no output: a launch counts as verified when
wait() reports it completed (Session.launch raises otherwise).

GEMM: for each shape (default: the smolVLA linear-layer shapes, see
harness.bench.gemm), one `gemm` launch at a time, repeated; every launch is
verified exactly as `harness bench gemm` does it (same code). The summary gives
the median and spread (IQR, cv) of the start-to-wait time, and beside it the
timing model's prediction (`predicted_time_s`) and pipeline-fill estimate
(`pipeline_fill_s`) from harness.model.predict_gemm, for the roofline's latency
gap. In emulation every time is modeled (dispatch from the published figures
K1-K3 in harness/docs/published-measurements.md, GEMM from the kernel's cycle
structure): the table says MODELED.
"""
from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from harness import model
from harness.bench import gemm as gb
from harness.bench.common import COMMON_SAMPLE_COLUMNS, guarded, make_context, print_closing, print_table, progress
from harness.bench.options import add_common, check_common, timeout_ms
from harness.bench.rundir import RunWriter
from harness.bench.stats import summarize
from harness.errors import UserError
from harness.runtime import open_runtime
from harness.runtime.session import Session
from harness.workload.args import add_workload_args

NOP = "nop"
MIN_HW_LAUNCHES = 1000
SAMPLE_COLUMNS = COMMON_SAMPLE_COLUMNS + ["kind", "dtype", "M", "K", "N", "epilogue", "flop", "bytes"]
SUMMARY_KEYS = ["kind", "dtype", "M", "K", "N", "epilogue"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_common(p)
    p.add_argument("--dtype", default="fp32",
                   help="element type: the gemm_<dtype> design whose nop and gemm are launched (default fp32)")
    p.add_argument("--launches", type=int, default=MIN_HW_LAUNCHES,
                   help=f"measured launches of the empty kernel (default {MIN_HW_LAUNCHES}; at least "
                        f"{MIN_HW_LAUNCHES} on hardware); --warmup launches come first")
    p.add_argument("--shapes", default=None, help="GEMM shapes MxKxN, comma-separated (default: --workload smolvla)")
    p.add_argument("--workload", default=None, choices=gb.WORKLOADS,
                   help="the distinct linear-layer GEMM shapes of one inference (the default without --shapes)")
    p.add_argument("--epilogue", default="none", choices=list(gb.EPILOGUES),
                   help="epilogue of the GEMM launches (default none)")
    add_workload_args(p)


def _validate(args, mode_hint: str | None):
    check_common(args)
    if args.launches < 1:
        raise UserError("--launches must be at least 1")
    if mode_hint == "hw" and args.launches < MIN_HW_LAUNCHES:
        raise UserError(f"--launches {args.launches}: use at least {MIN_HW_LAUNCHES} on hardware so the p99 "
                        "is meaningful")
    if not args.shapes and not args.workload:
        args.workload = "smolvla"
    return gb.resolve_shapes(args)


def run(args) -> int:
    shapes, shape_source = _validate(args, args.mode)
    design = gb.load_gemm_design(args.dtype)
    plat = model.load_platform(gb.PLATFORM)
    gb.check_fits(design, args.dtype, shapes, False, plat)

    rt = open_runtime(args.mode, args.device)
    if rt.mode == "hw" and args.launches < MIN_HW_LAUNCHES:       # mode picked automatically
        raise UserError(f"--launches {args.launches}: use at least {MIN_HW_LAUNCHES} on hardware")
    sess = Session(rt, design, args.xclbin)
    ctx = make_context("latency", rt, sess, design, args.clock_mhz)
    disp_model = model.dispatch_overhead(plat)
    ctx["latency"] = {"dispatch_launches": args.launches, "epilogue": args.epilogue, **shape_source,
                      "dispatch": "nop launched alone, start()..wait() per launch",
                      "gemm": "one gemm launch at a time, start()..wait(), every launch verified"}
    writer = RunWriter("latency", rt.mode, ctx, args.out, SAMPLE_COLUMNS)
    with guarded(writer):
        total = args.warmup + args.launches + len(shapes) * (args.warmup + args.repeats)
        bar = progress(total, f"latency {args.dtype} ({rt.mode})")
        _dispatch_point(args, sess, writer, bar, timeout_ms(args, disp_model.value))
        for i, (M, K, N) in enumerate(shapes, start=1):
            case = gb.GemmCase(sess, args.dtype, M, K, N, args.epilogue, "gemm", gb.shape_rng(M, K, N), plat,
                               args)
            for s in case.repetitions(args.warmup, args.repeats, bar):
                s.pop("gemm_time_s"), s.pop("epilogue_time_s")
                writer.add_sample({"point": i, **s, "kind": "gemm", "dtype": args.dtype, "M": M, "K": K, "N": N,
                                   "epilogue": args.epilogue, "flop": case.flop, "bytes": case.bytes})
            del case
        bar.close()
        summary = summarize_latency(writer.rows, plat, design, disp_model.value, ctx["clock_mhz"])
        writer.finish(summary)
    _report(writer, summary, rt, args.dtype)
    return 0


def _dispatch_point(args, sess, writer, bar, tmo_ms: int) -> None:
    r = sess.run(NOP, 0, [])
    for phase, count in (("warmup", args.warmup), ("measure", args.launches)):
        for rep in range(count):
            t, wall = sess.launch([r], tmo_ms, "nop (dispatch overhead)")
            writer.add_sample({"point": 0, "phase": phase, "repetition": rep, "time_s": t, "wall_time_s": wall,
                               "h2d_time_s": 0.0, "d2h_time_s": 0.0, "verified": True, "error": "",
                               "timing_source": sess.rt.timing_source, "kind": "dispatch", "dtype": args.dtype,
                               "M": None, "K": None, "N": None, "epilogue": None, "flop": 0, "bytes": 0})
            bar.update(1)


def summarize_latency(rows: list[dict], plat, design, dispatch_model_s: float,
                      clock_mhz: float | None = None) -> pd.DataFrame:
    """Per point: time statistics (stats.summarize) plus the model's prediction for it."""
    s = summarize(rows, SUMMARY_KEYS)
    if s.empty:
        return s
    for k in ("M", "K", "N"):
        s[k] = pd.array([None if v is None or pd.isna(v) else int(v) for v in s[k]], dtype="Int64")
    pred, fill, depth = [], [], []
    params = design.all_params()
    for _, r in s.iterrows():
        if r["kind"] == "dispatch":
            pred.append(np.nan)
            fill.append(np.nan)
            depth.append(np.nan)
            continue
        g = model.predict_gemm(plat, dtype=r["dtype"], M=int(r["M"]), K=int(r["K"]), N=int(r["N"]),
                               epilogue=r["epilogue"], params=params, clock_mhz=clock_mhz or design.freq_mhz)
        pred.append(g.time_s)
        fill.append(g.pipeline_fill_s)
        depth.append(g.pipeline_depth_s)
    s["predicted_time_s"] = pred               # harness.model.predict_gemm: the kernel alone
    s["pipeline_fill_s"] = fill                # every pipeline (re)fill of the call, summed
    s["pipeline_depth_s"] = depth              # one pass: (MAC + epilogue depth) / clock
    s["predicted_dispatch_s"] = dispatch_model_s   # harness.model.dispatch_overhead, per launch
    return s


def _us(x) -> str:
    return "-" if x is None or pd.isna(x) else f"{x * 1e6:,.2f}"


def _report(writer, summary, rt, dtype) -> None:
    label = "measured" if rt.timing_source == "measured" else "MODELED (emulation, not a measurement)"
    d = summary[summary["kind"] == "dispatch"]
    print(f"\ndispatch overhead (empty kernel, start..wait), {label}")
    rows = [[int(r["n"]), _us(r["time_s_min"]), _us(r["time_s_median"]), _us(r["time_s_p99"]),
             _us(r["predicted_dispatch_s"])] for _, r in d.iterrows()]
    print_table(rows, ["launches", "min us", "median us", "p99 us", "model us"])
    g = summary[summary["kind"] == "gemm"]
    if len(g):
        print(f"\nbatch-1 GEMM latency, {dtype}, one launch (dispatch included), {label}")
        rows = []
        for _, r in g.iterrows():
            shape = f"{r['M']}x{r['K']}x{r['N']}"
            if not r["verified"]:
                rows.append([shape, r["epilogue"], "-", "-", "-",
                             _us(r["predicted_time_s"] + r["predicted_dispatch_s"]), _us(r["pipeline_fill_s"]),
                             f"FAILED {r['n_verified']}/{r['n']}"])
                continue
            rows.append([shape, r["epilogue"], _us(r["time_s_median"]), _us(r["time_s_iqr"]),
                         f"{r['time_s_cv']:.1%}", _us(r["predicted_time_s"] + r["predicted_dispatch_s"]),
                         _us(r["pipeline_fill_s"]), f"{r['n_verified']}/{r['n']}"])
        print_table(rows, ["M x K x N", "epilogue", "median us", "IQR us", "cv", "model us", "fill us", "verified"])
    print_closing(writer, summary,
                  lambda r: "dispatch" if r["kind"] == "dispatch" else f"{r['M']}x{r['K']}x{r['N']}")
