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

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from harness import model
from harness.bench import MIN_HW_LAUNCHES
from harness.bench import gemm as gb
from harness.bench.common import (BenchResult, RunOptions, attach_launch_marks, device_times, guarded,
                                  make_context, progress, timeout_ms)
from harness.errors import UserError
from harness.results import schema
from harness.results.stats import summarize_samples
from harness.results.writer import RunWriter
from harness.runtime import XRT_EMULATION_MODES, open_runtime, requested_emulation
from harness.runtime.session import Session

NOP = "nop"
SAMPLE_COLUMNS = schema.LATENCY.sample_columns
SUMMARY_KEYS = schema.LATENCY.summary_keys


@dataclass(frozen=True)
class LatencyPlan:
    dtype: str
    shapes: list                        # [(M, K, N)] of the batch-1 GEMM launches
    launches: int = MIN_HW_LAUNCHES     # measured launches of the empty kernel
    epilogue: str = "none"
    shape_source: dict = field(default_factory=dict)
    opts: RunOptions = field(default_factory=RunOptions)


def run(plan: LatencyPlan) -> BenchResult:
    opts = plan.opts
    if plan.launches < 1:
        raise UserError("--launches must be at least 1")
    if opts.mode == "hw" and plan.launches < MIN_HW_LAUNCHES:
        raise UserError(f"--launches {plan.launches}: use at least {MIN_HW_LAUNCHES} on hardware so the p99 "
                        "is meaningful")
    design = gb.load_gemm_design(plan.dtype, requested_emulation(opts.mode))
    plat = model.load_platform(gb.PLATFORM)
    gb.check_fits(design, plan.dtype, plan.shapes, False, plat)

    rt = open_runtime(opts.mode, opts.device, vitis_platform=opts.vitis_platform)
    if rt.mode in XRT_EMULATION_MODES:                 # the design's [emulation] variant
        design = gb.load_gemm_design(plan.dtype, rt.mode)
        gb.check_fits(design, plan.dtype, plan.shapes, False, plat)
    if rt.mode == "hw" and plan.launches < MIN_HW_LAUNCHES:       # mode picked automatically
        raise UserError(f"--launches {plan.launches}: use at least {MIN_HW_LAUNCHES} on hardware")
    sess = Session(rt, design, opts.xclbin)
    ctx = make_context("latency", rt, sess, design, opts.clock_mhz)
    disp_model = model.dispatch_overhead(plat)
    ctx["latency"] = {"dispatch_launches": plan.launches, "epilogue": plan.epilogue, **plan.shape_source,
                      "dispatch": "nop launched alone, start()..wait() per launch",
                      "gemm": "one gemm launch at a time, start()..wait(), every launch verified"}
    writer = RunWriter("latency", rt.mode, ctx, opts.out, SAMPLE_COLUMNS)
    marks = attach_launch_marks(writer, sess)
    with guarded(writer):
        total = (opts.warmup + plan.launches) * gb.repetition_weight(disp_model.value) + sum(
            (opts.warmup + opts.repeats) * gb.point_weight(plat, design, plan.dtype, M, K, N, plan.epilogue, "gemm")
            for M, K, N in plan.shapes)
        bar = progress(total, f"latency {plan.dtype} ({rt.mode})")
        bar.point("nop (dispatch)")
        _dispatch_point(plan, sess, writer, bar, timeout_ms(opts, disp_model.value, rt.mode))
        for i, (M, K, N) in enumerate(plan.shapes, start=1):
            label = f"{M}x{K}x{N}"
            bar.point(label)
            case = gb.GemmCase(sess, plan.dtype, M, K, N, plan.epilogue, "gemm", gb.shape_rng(M, K, N), plat,
                               opts)
            times = []
            for s in case.repetitions(opts.warmup, opts.repeats, bar):
                s = {k: v for k, v in s.items()
                     if k not in ("gemm_time_s", "epilogue_time_s", "cus") and not k.startswith("cu")}
                writer.add_sample({"point": i, **s, "kind": "gemm", "dtype": plan.dtype, "M": M, "K": K, "N": N,
                                   "epilogue": plan.epilogue, "flop": case.flop, "bytes": case.bytes})
                if s["phase"] == "measure" and s["verified"]:
                    times.append(s["time_s"])
            bar.point_done(label, (f"{float(np.median(times)) * 1e6:,.1f} us median" if times
                                   else "no verified repetition") + f", {len(times)}/{opts.repeats} verified")
            del case
        bar.close()
        device_times(writer, marks)
        summary = summarize_latency(writer.rows, plat, design, disp_model.value, ctx["clock_mhz"])
        writer.finish(summary)
    return BenchResult(writer.path, writer.run_id, summary, rt.timing_source, rt.mode)


def _dispatch_point(plan, sess, writer, bar, tmo_ms: int) -> None:
    r = sess.run(NOP, 0, [])
    weight = gb.repetition_weight(model.dispatch_overhead(model.load_platform(gb.PLATFORM)).value)
    times = []
    for phase, count in (("warmup", plan.opts.warmup), ("measure", plan.launches)):
        for rep in range(count):
            t, wall = sess.launch([r], tmo_ms, "nop (dispatch overhead)")
            if phase == "measure":
                times.append(t)
            writer.add_sample({"point": 0, "phase": phase, "repetition": rep, "time_s": t, "wall_time_s": wall,
                               "h2d_time_s": 0.0, "d2h_time_s": 0.0, "verified": True, "error": "",
                               "timing_source": sess.rt.timing_source, "kind": "dispatch", "dtype": plan.dtype,
                               "M": None, "K": None, "N": None, "epilogue": None, "flop": 0, "bytes": 0})
            bar.update(weight)
    bar.point_done("nop (dispatch)", f"{float(np.median(times)) * 1e6:,.1f} us median, {len(times)} launches")


def summarize_latency(rows: list[dict], plat, design, dispatch_model_s: float,
                      clock_mhz: float | None = None) -> pd.DataFrame:
    """Per point: time statistics (stats.summarize) plus the model's prediction for it."""
    s = summarize_samples("latency", rows)
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
                               epilogue=r["epilogue"], params=params, cus=design.kernels["gemm"].cus,
                               clock_mhz=clock_mhz or design.freq_mhz)
        pred.append(g.time_s)
        fill.append(g.pipeline_fill_s)
        depth.append(g.pipeline_depth_s)
    s["predicted_time_s"] = pred               # harness.model.predict_gemm: the kernel alone
    s["pipeline_fill_s"] = fill                # every pipeline (re)fill of the call, summed
    s["pipeline_depth_s"] = depth              # one pass: (MAC + epilogue depth) / clock
    s["predicted_dispatch_s"] = dispatch_model_s   # harness.model.dispatch_overhead, per launch
    return s
