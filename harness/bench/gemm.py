"""`harness bench gemm`: GEMM time and GFLOP/s per shape, element type and epilogue, fused or not.

One point per shape and path. Path `gemm`: one launch of `gemm` with --epilogue.
With --compare-fusion, two points per shape: `fused` (gemm with the epilogue
applied as C is stored) and `unfused` (gemm with epilogue none writing C, then
`bias_gelu` reading C and the bias and writing `out`); the unfused time is the
sum of the two launches, each timed start()..wait() on its own
(`gemm_time_s`, `epilogue_time_s`).

Counting (harness/docs/design.md, Run directories):
- flop = 2 M K N per GEMM. The epilogue's operations (bias add, GELU) are not
  counted as FLOPs, so fused and unfused points of a shape have the same flop
  and GFLOP/s compares their times directly.
- bytes = what the kernels must move, each array once: A + B + C
  (+ bias with an epilogue); unfused adds bias_gelu's read of C, the bias and
  its write of `out`. The kernel re-reads A once per column tile and B once per
  row tile (kernels/gemm/README.md); those re-reads are not counted, so
  bandwidth_GBps is the effective bandwidth of the compulsory traffic.

`--workload smolvla`: the distinct M x K x N of the linear layers of one smolVLA
inference at batch size 1 (harness.workload.smolvla, shapes from
harness/docs/smolvla.md). The per-head attention products (scores, values)
are left out: the workload runs them as one batched launch per layer, which this
single-GEMM kernel does not implement; pass their shapes with --shapes to time
one head.

Every repetition's output is poisoned before the launch, read back and checked
against harness.bench.reference; a repetition that fails is kept with
verified=false and no figures.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from harness import model
from harness.bench import reference
from harness.bench.common import (BenchResult, RunOptions, attach_launch_marks, device_times, guarded,
                                  make_context, progress, timeout_ms)
from harness.designs import load_design
from harness.errors import UserError
from harness.results.stats import summarize_samples
from harness.results import schema
from harness.results.writer import RunWriter
from harness.runtime import XRT_EMULATION_MODES, open_runtime, requested_emulation
from harness.runtime.session import Session

KERNEL, EPI_KERNEL = "gemm", "bias_gelu"
PLATFORM = "u280"
EPILOGUES = reference.EPILOGUES                       # name -> kernel `epilogue` code
WORKLOADS = ("smolvla",)
SAMPLE_COLUMNS = schema.GEMM.sample_columns
SUMMARY_KEYS = schema.GEMM.summary_keys
RATE_COLS = schema.GEMM.rate_cols
SEED = 2026


# ---------------------------------------------------------------- shapes
def workload_gemm_shapes(workload) -> dict[tuple[int, int, int], list[str]]:
    """Distinct (M, K, N) of the workload's linear-layer GEMMs, in order, with the op names of each."""
    shapes: dict[tuple[int, int, int], list[str]] = {}
    for op in workload.ops:
        if op.kind == "gemm" and op.count > 0:
            shapes.setdefault((op.M, op.K, op.N), []).append(op.name)
    return shapes


def smolvla_shapes(config=None) -> dict[tuple[int, int, int], list[str]]:
    from harness.workload.smolvla import build_smolvla
    return workload_gemm_shapes(build_smolvla(config))


# ---------------------------------------------------------------- design and sizes
def load_gemm_design(dtype: str, target: str | None = None):
    """The gemm design built for `dtype` (UserError naming the built ones otherwise); for
    hw_emu/sw_emu its [emulation] variant."""
    return load_design("gemm", dtype=dtype, target=target)


def elem_bytes(dtype: str) -> int:
    return np.dtype(reference.ELEM_TYPES[dtype]).itemsize


def out_bytes(dtype: str) -> int:
    return np.dtype(reference.OUT_TYPES[dtype]).itemsize


def buffer_bytes(dtype: str, M: int, K: int, N: int, unfused: bool) -> dict[tuple[str, str], int]:
    """{(kernel, arg): bytes} of every buffer one point allocates (bias_gelu reads gemm's C and bias)."""
    eb, ob = elem_bytes(dtype), out_bytes(dtype)
    sizes = {(KERNEL, "A"): M * K * eb, (KERNEL, "B"): K * N * eb, (KERNEL, "C"): M * N * ob,
             (KERNEL, "bias"): N * eb}
    if unfused:
        sizes[(EPI_KERNEL, "out")] = M * N * ob
    return sizes


def check_fits(design, dtype: str, shapes, unfused: bool, platform=None) -> None:
    """Refuse, before anything runs, a shape whose buffers exceed the bank they are connected to."""
    plat = platform or model.load_platform(PLATFORM)
    if unfused:
        for ek, gk in (("in", "C"), ("bias", "bias")):
            eb_, gb_ = _bank(design, EPI_KERNEL, ek), _bank(design, KERNEL, gk)
            if eb_ != gb_:
                raise UserError(f"kernels/designs/{design.base}.toml connects bias_gelu.{ek} to {eb_} but "
                                f"gemm.{gk} to {gb_}; the unfused path reads gemm's buffer in place")
    for M, K, N in shapes:
        per_bank: dict[str, int] = {}
        for (kname, arg), nbytes in buffer_bytes(dtype, M, K, N, unfused).items():
            tag = _bank(design, kname, arg)
            per_bank[tag] = per_bank.get(tag, 0) + nbytes
        for tag, nbytes in per_bank.items():
            cap = plat.memory(tag).size_bytes
            if nbytes > cap:
                raise UserError(f"shape {M}x{K}x{N} ({dtype}) needs {nbytes} bytes in {tag}, which holds "
                                f"{cap} bytes; use a smaller shape")


def _bank(design, kname: str, arg: str) -> str:
    k = design.kernels[kname]
    return k.args[k.arg_index(arg)].bank_for(0)


def point_flop(M: int, K: int, N: int) -> int:
    return 2 * M * K * N


def point_bytes(dtype: str, M: int, K: int, N: int, epilogue: str, path: str) -> int:
    """Compulsory bytes the kernel(s) of one point move (see the module docstring)."""
    eb, ob = elem_bytes(dtype), out_bytes(dtype)
    gemm_epi = "none" if path == "unfused" else epilogue
    n = (M * K + K * N) * eb + M * N * ob + (N * eb if gemm_epi != "none" else 0)
    if path == "unfused":
        n += 2 * M * N * ob + (N * eb if epilogue != "none" else 0)
    return n


# ---------------------------------------------------------------- inputs
def gemm_inputs(dtype: str, M: int, K: int, N: int, rng, params: dict | None = None):
    """A (M x K), B (K x N), bias (N) as the kernel's element type.

    fp32/fp16 uniform(-1, 1); fx16 raw ap_fixed<16, I> bits small enough that
    K |a||b| and C + bias stay far from 16.16 saturation; int8 the full range.
    """
    if dtype in ("fp32", "fp16"):
        t = reference.ELEM_TYPES[dtype]
        return (rng.uniform(-1, 1, (M, K)).astype(t), rng.uniform(-1, 1, (K, N)).astype(t),
                rng.uniform(-1, 1, N).astype(t))
    if dtype == "fx16":
        frac = 16 - int((params or {}).get("GEMM_FX_INT_BITS", 6))
        lim_real = min(2.0, float(np.sqrt(8192.0 / K)))           # K |a| |b| <= 8192 < 32768
        lim = max(1, min(2 ** 15 - 1, int(lim_real * 2 ** frac)))
        blim = max(1, min(2 ** 15 - 1, 2 ** frac))                # |bias| <= 1.0
        return (rng.integers(-lim, lim + 1, (M, K), dtype=np.int16),
                rng.integers(-lim, lim + 1, (K, N), dtype=np.int16),
                rng.integers(-blim, blim + 1, N, dtype=np.int16))
    if dtype == "int8":
        return (rng.integers(-128, 128, (M, K), dtype=np.int8), rng.integers(-128, 128, (K, N), dtype=np.int8),
                rng.integers(-128, 128, N, dtype=np.int8))
    raise UserError(f"no input generator for element type {dtype!r}")


def shape_rng(M: int, K: int, N: int):
    """The inputs of a shape depend only on the shape: fused and unfused get the same data."""
    return np.random.default_rng([SEED, M, K, N])


def _poison(view: np.ndarray) -> None:
    """A value no correct result takes: a NaN for float outputs, 0x7EADBEEF for int32."""
    if view.dtype == np.float32:
        view.view(np.uint32)[:] = 0x7FC0DEAD
    else:
        view.view(np.uint32)[:] = 0x7EADBEEF


# ---------------------------------------------------------------- one point
@dataclass
class Launch:
    time_s: float
    wall_time_s: float
    gemm_time_s: float
    epilogue_time_s: float | None
    d2h_time_s: float
    verified: bool
    error: str


class GemmCase:
    """Buffers, runs and expected result of one (dtype, shape, epilogue, path) on a Session."""

    def __init__(self, sess: Session, dtype: str, M: int, K: int, N: int, epilogue: str, path: str,
                 rng, platform=None, opts=None):
        """opts: RunOptions (its .timeout, ms or None, bounds each launch)."""
        if path not in ("gemm", "fused", "unfused"):
            raise ValueError(f"path {path!r}")
        self.sess, self.dtype, self.M, self.K, self.N = sess, dtype, M, K, N
        self.epilogue, self.path = epilogue, path
        design = sess.design
        self.params = design.all_params()
        self.A, self.B, self.bias = gemm_inputs(dtype, M, K, N, rng, self.params)
        self.flop = point_flop(M, K, N)
        self.bytes = point_bytes(dtype, M, K, N, epilogue, path)
        sizes = buffer_bytes(dtype, M, K, N, path == "unfused")
        bo = {arg: sess.alloc(kname, 0, arg, n) for (kname, arg), n in sizes.items()}
        for arg, data in (("A", self.A), ("B", self.B), ("bias", self.bias)):
            np.frombuffer(bo[arg].map(), np.uint8)[:] = data.reshape(-1).view(np.uint8)
        self.h2d_time_s = sess.to_device([bo["A"], bo["B"], bo["bias"]])
        code = EPILOGUES[epilogue]
        gemm_code = 0 if path == "unfused" else code
        self.runs = [sess.run(KERNEL, 0, [bo["A"], bo["B"], bo["C"], bo["bias"], M, K, N, gemm_code])]
        if path == "unfused":
            self.runs.append(sess.run(EPI_KERNEL, 0, [bo["C"], bo["bias"], bo["out"], M, N, code]))
        self.result_bo = bo["out"] if path == "unfused" else bo["C"]
        self._bo = bo
        self.expected = reference.expected_gemm(dtype, self.A, self.B, self.bias, code, self.params)
        # launch timeouts from the model (50x the modeled time, at least 2 s; --timeout overrides)
        plat = platform or model.load_platform(PLATFORM)
        clock = sess.clock_mhz or design.freq_mhz        # the kernel clock the run reads back
        disp = model.dispatch_overhead(plat).value
        t_gemm = model.predict_gemm(plat, dtype=dtype, M=M, K=K, N=N,
                                    epilogue="none" if path == "unfused" else epilogue,
                                    params=self.params, clock_mhz=clock).time_s
        opts = opts if opts is not None else RunOptions()
        self.timeouts = [timeout_ms(opts, t_gemm + disp, sess.rt.mode)]
        if path == "unfused":
            t_epi = model.predict_elementwise(plat, M=M, N=N, elem_bytes=out_bytes(dtype), clock_mhz=clock,
                                              params=self.params, epilogue=epilogue).time_s
            self.timeouts.append(timeout_ms(opts, t_epi + disp, sess.rt.mode))

    def output(self) -> np.ndarray:
        """The last result read back from the device (C, or bias_gelu's out), M x N."""
        return np.frombuffer(self.result_bo.map(), reference.OUT_TYPES[self.dtype]).reshape(self.M, self.N)

    def launch(self) -> Launch:
        """Poison the output, run (both kernels for unfused, each timed alone), read back, verify."""
        sess = self.sess
        outs = [self._bo["C"]] + ([self._bo["out"]] if self.path == "unfused" else [])
        for b in outs:
            _poison(np.frombuffer(b.map(), reference.OUT_TYPES[self.dtype]))
        sess.to_device(outs)
        what = f"gemm {self.dtype} {self.M}x{self.K}x{self.N} {self.path} {self.epilogue}"
        times, wall = [], 0.0
        for r, tmo, kname in zip(self.runs, self.timeouts, (KERNEL, EPI_KERNEL)):
            t, w = sess.launch([r], tmo, f"{what} ({kname})")
            times.append(t)
            wall += w
        d2h = sess.from_device(self.result_bo)
        ok, msg = reference.compare(self.output(), self.expected)
        if not ok:
            msg = f"{'bias_gelu out' if self.path == 'unfused' else 'C'} differs from the reference: {msg}"
        return Launch(sum(times), wall, times[0], times[1] if len(times) > 1 else None, d2h, ok, msg)

    def repetitions(self, warmup: int, repeats: int, bar=None):
        """Yield one sample dict (common + timing columns) per launch: warm-ups, then measured."""
        first = True
        for phase, count in (("warmup", warmup), ("measure", repeats)):
            for rep in range(count):
                r = self.launch()
                yield {
                    "phase": phase, "repetition": rep, "time_s": r.time_s, "wall_time_s": r.wall_time_s,
                    "h2d_time_s": self.h2d_time_s if first else 0.0, "d2h_time_s": r.d2h_time_s,
                    "verified": r.verified, "error": r.error, "timing_source": self.sess.rt.timing_source,
                    "gemm_time_s": r.gemm_time_s, "epilogue_time_s": r.epilogue_time_s,
                }
                first = False
                if bar is not None:
                    bar.update(1)


# ---------------------------------------------------------------- the plan
@dataclass(frozen=True)
class GemmPlan:
    dtype: str
    shapes: list                     # [(M, K, N)], distinct
    epilogue: str = "none"           # none | bias | bias_gelu
    compare_fusion: bool = False     # two points per shape: fused and unfused
    shape_source: dict = field(default_factory=dict)   # where the shapes came from (context.json)
    opts: RunOptions = field(default_factory=RunOptions)

    def points(self) -> list[tuple[int, int, int, str]]:
        paths = ("fused", "unfused") if self.compare_fusion else ("gemm",)
        return [(M, K, N, path) for (M, K, N) in self.shapes for path in paths]


def check_plan(plan: GemmPlan):
    """The design and platform of a plan, once every shape is known to fit its banks."""
    if plan.epilogue not in EPILOGUES:
        raise UserError(f"unknown epilogue {plan.epilogue!r}; use one of {', '.join(EPILOGUES)}")
    if plan.compare_fusion and plan.epilogue == "none":
        raise UserError("--compare-fusion needs an epilogue to fuse: use --epilogue bias or bias_gelu")
    design = load_gemm_design(plan.dtype, requested_emulation(plan.opts.mode))
    plat = model.load_platform(PLATFORM)
    check_fits(design, plan.dtype, plan.shapes, plan.compare_fusion, plat)
    return design, plat


# ---------------------------------------------------------------- the bench
def run(plan: GemmPlan) -> BenchResult:
    design, plat = check_plan(plan)
    opts = plan.opts
    points = plan.points()
    rt = open_runtime(opts.mode, opts.device, vitis_platform=opts.vitis_platform)
    if rt.mode in XRT_EMULATION_MODES:                 # the design's [emulation] variant
        design = load_gemm_design(plan.dtype, rt.mode)
        check_fits(design, plan.dtype, plan.shapes, plan.compare_fusion, plat)
    sess = Session(rt, design, opts.xclbin)
    ctx = make_context("gemm", rt, sess, design, opts.clock_mhz)
    ctx["gemm"] = {"epilogue": plan.epilogue, "compare_fusion": bool(plan.compare_fusion), **plan.shape_source,
                   "flop": "2 M K N per GEMM; epilogue operations not counted",
                   "bytes": "compulsory: A + B + C (+ bias), unfused adds bias_gelu's C read, bias and out; "
                            "tile re-reads not counted"}
    writer = RunWriter("gemm", rt.mode, ctx, opts.out, SAMPLE_COLUMNS)
    marks = attach_launch_marks(writer, sess)
    with guarded(writer):
        bar = progress(len(points) * (opts.warmup + opts.repeats), f"gemm {plan.dtype} ({rt.mode})")
        for point, (M, K, N, path) in enumerate(points):
            case = GemmCase(sess, plan.dtype, M, K, N, plan.epilogue, path, shape_rng(M, K, N), plat, opts)
            for s in case.repetitions(opts.warmup, opts.repeats, bar):
                writer.add_sample({"point": point, **s, **figures(case, s)})
            del case
        bar.close()
        device_times(writer, marks)
        summary = summarize_gemm(writer.rows)
        writer.finish(summary)
    return BenchResult(writer.path, writer.run_id, summary, rt.timing_source)


def figures(case: GemmCase, s: dict) -> dict:
    """The gemm columns of one sample; rates only for a verified repetition."""
    ok, t = s["verified"], s["time_s"]
    return {"dtype": case.dtype, "M": case.M, "K": case.K, "N": case.N, "epilogue": case.epilogue,
            "path": case.path, "flop": case.flop, "bytes": case.bytes,
            "throughput_GFLOPps": case.flop / t / 1e9 if ok and t > 0 else None,
            "bandwidth_GBps": case.bytes / t / 1e9 if ok and t > 0 else None}


def summarize_gemm(rows: list[dict]):
    return summarize_samples("gemm", rows)
