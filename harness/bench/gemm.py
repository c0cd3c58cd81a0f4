"""`harness bench gemm`: GEMM time and GFLOP/s per shape, element type and epilogue, fused or not.

One point per shape and path. Path `gemm`: one launch of `gemm` with --epilogue.
With --compare-fusion, two points per shape: `fused` (gemm with the epilogue
applied as C is stored) and `unfused` (gemm with epilogue none writing C, then
`bias_gelu` reading C and the bias and writing `out`); the unfused time is the
sum of the two launches, each timed start()..wait() on its own
(`gemm_time_s`, `epilogue_time_s`).

Every CU of the design is driven: the host splits N between the CUs in whole
groups of the MAC array's columns (harness.bench.gemm_layout), gives each CU its
own buffers (the whole A, its B, bias and C columns, in the kernel's packed
layout) and starts them together; `time_s` runs from the common start to the last
CU's end, and `cu<i>_time_s` to the end of CU i (its `wait()` returning; the CUs
are waited on in their modeled order of completion), with `cu<i>_N` its columns
and `cu<i>_throughput_GFLOPps` its rate.

Counting (harness/docs/design.md, Run directories):
- flop = 2 M K N per GEMM. The epilogue's operations (bias add, GELU) are not
  counted as FLOPs, so fused and unfused points of a shape have the same flop
  and GFLOP/s compares their times directly.
- bytes = what the kernels must move, each array once: A + B + C
  (+ bias with an epilogue); unfused adds bias_gelu's read of C, the bias and
  its write of `out`. Every CU reads all of A, the kernel re-reads A once per
  column tile and B once per row tile (kernels/gemm/README.md); none of that
  is counted, so bandwidth_GBps is the effective bandwidth of the compulsory traffic.

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
from harness.bench import gemm_layout as lay
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


def geometry(design, dtype: str) -> lay.Geometry:
    return lay.Geometry.from_params(design.all_params("gemm"), elem_bytes(dtype))


def cu_split(design, N: int) -> list[tuple[int, int]]:
    """[(n_start, n_count)] of every CU of the design (count 0: the CU is not launched)."""
    return lay.split_columns(N, design.kernels[KERNEL].cus, int(design.all_params("gemm")["GEMM_COLS"]))


def buffer_bytes(design, dtype: str, M: int, K: int, N: int, unfused: bool) -> dict[tuple[str, int, str], int]:
    """{(kernel, cu, arg): bytes} of every buffer one point allocates (bias_gelu CU i reads gemm CU i's
    C and bias), in the kernel's packed layout."""
    g = geometry(design, dtype)
    a_words = M * lay.cdiv(K, g.lanes)
    sizes = {}
    for cu, (_, nc) in enumerate(cu_split(design, N)):
        if nc == 0:
            continue
        b_words = K * sum(lay.b_row_words(min(g.tn, nc - n0), g) for n0 in range(0, nc, g.tn))
        sizes[(KERNEL, cu, "A")] = a_words * lay.WORD_BYTES
        for p in range(g.b_ports):
            sizes[(KERNEL, cu, f"B{p}")] = b_words * lay.WORD_BYTES
        sizes[(KERNEL, cu, "C")] = lay.c_bytes(M, nc, g)
        sizes[(KERNEL, cu, "bias")] = lay.cdiv(nc, g.lanes) * lay.WORD_BYTES
        if unfused:
            sizes[(EPI_KERNEL, cu, "out")] = lay.c_bytes(M, nc, g)
    return sizes


def check_fits(design, dtype: str, shapes, unfused: bool, platform=None) -> None:
    """Refuse, before anything runs, a shape whose buffers exceed the bank they are connected to."""
    plat = platform or model.load_platform(PLATFORM)
    if unfused:
        for cu in range(design.kernels[KERNEL].cus):
            for ek, gk in (("in", "C"), ("bias", "bias")):
                eb_, gb_ = _bank(design, EPI_KERNEL, ek, cu), _bank(design, KERNEL, gk, cu)
                if eb_ != gb_:
                    raise UserError(f"kernels/designs/{design.base}.toml connects bias_gelu_{cu + 1}.{ek} to {eb_} "
                                    f"but gemm_{cu + 1}.{gk} to {gb_}; the unfused path reads gemm's buffer in place")
    for M, K, N in shapes:
        per_bank: dict[str, int] = {}
        for (kname, cu, arg), nbytes in buffer_bytes(design, dtype, M, K, N, unfused).items():
            tag = _bank(design, kname, arg, cu)
            per_bank[tag] = per_bank.get(tag, 0) + nbytes
        for tag, nbytes in per_bank.items():
            cap = plat.memory(tag).size_bytes
            if nbytes > cap:
                raise UserError(f"shape {M}x{K}x{N} ({dtype}) needs {nbytes} bytes in {tag}, which holds "
                                f"{cap} bytes; use a smaller shape")


def _bank(design, kname: str, arg: str, cu: int = 0) -> str:
    k = design.kernels[kname]
    return k.args[k.arg_index(arg)].bank_for(cu)


def cu_columns(cus: int) -> list[str]:
    """The per-CU sample columns of a design with `cus` CUs (harness.results.schema.GEMM)."""
    return schema.GEMM.sample_columns_for(cus)[len(schema.GEMM.sample_columns):]


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
    cu_time_s: dict = field(default_factory=dict)   # CU -> start .. its end (gemm + bias_gelu when unfused)


class GemmCase:
    """Buffers, runs and expected result of one (dtype, shape, epilogue, path) on every CU of a Session."""

    def __init__(self, sess: Session, dtype: str, M: int, K: int, N: int, epilogue: str, path: str,
                 rng, platform=None, opts=None):
        """opts: RunOptions (its .timeout, ms or None, bounds each launch)."""
        if path not in ("gemm", "fused", "unfused"):
            raise ValueError(f"path {path!r}")
        self.sess, self.dtype, self.M, self.K, self.N = sess, dtype, M, K, N
        self.epilogue, self.path = epilogue, path
        design = sess.design
        self.params = design.all_params()
        self.cus = design.kernels[KERNEL].cus
        g = self.geom = geometry(design, dtype)
        self.A, self.B, self.bias = gemm_inputs(dtype, M, K, N, rng, self.params)
        self.flop = point_flop(M, K, N)
        self.bytes = point_bytes(dtype, M, K, N, epilogue, path)
        sizes = buffer_bytes(design, dtype, M, K, N, path == "unfused")
        self.split = cu_split(design, N)
        self.active = [cu for cu, (_, nc) in enumerate(self.split) if nc]
        a_packed = lay.pack_a(self.A, g)
        self._bo: dict[tuple[str, int, str], object] = {}
        to_dev = []
        for cu in self.active:
            n0, nc = self.split[cu]
            data = {"A": a_packed, "bias": lay.pack_bias(self.bias[n0:n0 + nc], g.lanes)}
            for p, b in enumerate(lay.pack_b(self.B[:, n0:n0 + nc], g)):
                data[f"B{p}"] = b
            for (kname, c, arg), n in sizes.items():
                if c != cu:
                    continue
                bo = self._bo[(kname, cu, arg)] = sess.alloc(kname, cu, arg, n)
                if arg in data:
                    raw = data[arg].reshape(-1).view(np.uint8)
                    view = np.frombuffer(bo.map(), np.uint8)
                    view[:raw.size] = raw
                    view[raw.size:] = 0
                    to_dev.append(bo)
        self.h2d_time_s = sess.to_device(to_dev)
        code = EPILOGUES[epilogue]
        gemm_code = 0 if path == "unfused" else code
        bo = self._bo
        # launch timeouts and the order to wait in, from the model (50x the modeled time, at least 2 s)
        plat = platform or model.load_platform(PLATFORM)
        clock = sess.clock_mhz or design.freq_mhz        # the kernel clock the run reads back
        disp = model.dispatch_overhead(plat).value
        pred = model.predict_gemm(plat, dtype=dtype, M=M, K=K, N=N,
                                  epilogue="none" if path == "unfused" else epilogue,
                                  params=design.all_params(KERNEL), cus=self.cus, clock_mhz=clock)
        cu_pred = {c["cu"]: c["time_s"] for c in pred.per_cu}
        self.active.sort(key=lambda cu: cu_pred.get(cu, 0.0))
        self.runs = [[sess.run(KERNEL, cu, [bo[(KERNEL, cu, "A")], *[bo[(KERNEL, cu, f"B{p}")]
                                                                     for p in range(g.b_ports)],
                                            bo[(KERNEL, cu, "C")], bo[(KERNEL, cu, "bias")], M, K,
                                            self.split[cu][1], gemm_code]) for cu in self.active]]
        if path == "unfused":
            self.runs.append([sess.run(EPI_KERNEL, cu, [bo[(KERNEL, cu, "C")], bo[(KERNEL, cu, "bias")],
                                                        bo[(EPI_KERNEL, cu, "out")], M, self.split[cu][1], code])
                              for cu in self.active])
        self.result = [(cu, bo[(EPI_KERNEL, cu, "out")] if path == "unfused" else bo[(KERNEL, cu, "C")])
                       for cu in self.active]
        self.expected = reference.expected_gemm(dtype, self.A, self.B, self.bias, code, self.params)
        opts = opts if opts is not None else RunOptions()
        self.timeouts = [timeout_ms(opts, pred.time_s + disp, sess.rt.mode)]
        if path == "unfused":
            t_epi = max(model.predict_elementwise(plat, M=M, N=self.split[cu][1], elem_bytes=out_bytes(dtype),
                                                  clock_mhz=clock, params=self.params, epilogue=epilogue).time_s
                        for cu in self.active)
            self.timeouts.append(timeout_ms(opts, t_epi + disp, sess.rt.mode))
        self.weight = repetition_weight(pred.time_s + (t_epi if path == "unfused" else 0.0))

    def output(self) -> np.ndarray:
        """The last result read back from the device (C, or bias_gelu's out), M x N, all CUs' columns."""
        out = np.empty((self.M, self.N), reference.OUT_TYPES[self.dtype])
        for cu, b in self.result:
            n0, nc = self.split[cu]
            flat = np.frombuffer(b.map(), reference.OUT_TYPES[self.dtype])
            out[:, n0:n0 + nc] = lay.unpack_c(flat, self.M, nc, self.geom)
        return out

    def launch(self) -> Launch:
        """Poison the outputs, run (every CU together; unfused: then every bias_gelu CU), read back, verify."""
        sess = self.sess
        outs = [b for (k, _, arg), b in self._bo.items() if (k, arg) in ((KERNEL, "C"), (EPI_KERNEL, "out"))]
        for b in outs:
            _poison(np.frombuffer(b.map(), reference.OUT_TYPES[self.dtype]))
        sess.to_device(outs)
        what = f"gemm {self.dtype} {self.M}x{self.K}x{self.N} {self.path} {self.epilogue}"
        times, wall, per_cu = [], 0.0, {cu: 0.0 for cu in self.active}
        for runs, tmo, kname in zip(self.runs, self.timeouts, (KERNEL, EPI_KERNEL)):
            t, w, each = sess.launch_each(runs, tmo, f"{what} ({kname})")
            times.append(t)
            wall += w
            for cu, tc in zip(self.active, each):
                per_cu[cu] += tc
        d2h = sum(sess.from_device(b) for _, b in self.result)
        ok, msg = reference.compare(self.output(), self.expected)
        if not ok:
            msg = f"{'bias_gelu out' if self.path == 'unfused' else 'C'} differs from the reference: {msg}"
        return Launch(sum(times), wall, times[0], times[1] if len(times) > 1 else None, d2h, ok, msg, per_cu)

    def cu_figures(self, r: "Launch") -> dict:
        """cu<i>_N, cu<i>_time_s, cu<i>_throughput_GFLOPps of one launch (rates only when verified)."""
        out = {}
        for cu in range(self.cus):
            nc = self.split[cu][1]
            t = r.cu_time_s.get(cu)
            out[f"cu{cu}_N"] = nc
            out[f"cu{cu}_time_s"] = t
            out[f"cu{cu}_throughput_GFLOPps"] = (2 * self.M * self.K * nc / t / 1e9
                                                 if r.verified and t and nc else None)
        return out

    def repetitions(self, warmup: int, repeats: int, bar=None):
        """Yield one sample dict (common + timing + per-CU columns) per launch: warm-ups, then measured."""
        first = True
        for phase, count in (("warmup", warmup), ("measure", repeats)):
            for rep in range(count):
                r = self.launch()
                yield {
                    "phase": phase, "repetition": rep, "time_s": r.time_s, "wall_time_s": r.wall_time_s,
                    "h2d_time_s": self.h2d_time_s if first else 0.0, "d2h_time_s": r.d2h_time_s,
                    "verified": r.verified, "error": r.error, "timing_source": self.sess.rt.timing_source,
                    "gemm_time_s": r.gemm_time_s, "epilogue_time_s": r.epilogue_time_s,
                    "cus": len(self.active), **self.cu_figures(r),
                }
                first = False
                if bar is not None:
                    bar.update(self.weight)


def repetition_weight(modeled_s: float) -> float:
    """Progress weight of one repetition: its modeled kernel time plus a fixed cost per launch
    (native GEMM time in emulation grows with the same flops the model's time does)."""
    return modeled_s + 2e-6


def point_weight(plat, design, dtype: str, M: int, K: int, N: int, epilogue: str, path: str) -> float:
    params, clock = design.all_params(), design.freq_mhz
    t = model.predict_gemm(plat, dtype=dtype, M=M, K=K, N=N, epilogue="none" if path == "unfused" else epilogue,
                           params=design.all_params(KERNEL), cus=design.kernels[KERNEL].cus,
                           clock_mhz=clock).time_s
    if path == "unfused":
        t += model.predict_elementwise(plat, M=M, N=N, elem_bytes=out_bytes(dtype), clock_mhz=clock,
                                       params=params, epilogue=epilogue).time_s
    return repetition_weight(t)


def point_done(bar, label: str, samples: list[dict]) -> None:
    """One plain line per finished point (off a terminal): median GFLOP/s of the verified repetitions."""
    good = [s["throughput_GFLOPps"] for s in samples if s["phase"] == "measure" and s["verified"]]
    n = sum(1 for s in samples if s["phase"] == "measure")
    fig = f"{float(np.median(good)):.4g} GFLOP/s" if good else "no verified repetition"
    bar.point_done(label, f"{fig}, {len(good)}/{n} verified")


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
    ctx["gemm"]["cus"] = {"count": design.kernels[KERNEL].cus, "split": "N in whole groups of GEMM_COLS columns",
                          "cu_time_s": "common start to the end of that CU's wait()"}
    writer = RunWriter("gemm", rt.mode, ctx, opts.out, schema.GEMM.sample_columns_for(design.kernels[KERNEL].cus))
    marks = attach_launch_marks(writer, sess)
    with guarded(writer):
        reps = opts.warmup + opts.repeats
        bar = progress(sum(reps * point_weight(plat, design, plan.dtype, M, K, N, plan.epilogue, path)
                           for M, K, N, path in points), f"gemm {plan.dtype} ({rt.mode})")
        for point, (M, K, N, path) in enumerate(points):
            label = f"{M}x{K}x{N} {path}" + (f" {plan.epilogue}" if plan.epilogue != "none" else "")
            bar.point(label)
            case = GemmCase(sess, plan.dtype, M, K, N, plan.epilogue, path, shape_rng(M, K, N), plat, opts)
            done = []
            for s in case.repetitions(opts.warmup, opts.repeats, bar):
                done.append({"point": point, **s, **figures(case, s)})
                writer.add_sample(done[-1])
            point_done(bar, label, done)
            del case
        bar.close()
        device_times(writer, marks)
        summary = summarize_gemm(writer.rows, design.kernels[KERNEL].cus)
        writer.finish(summary)
    return BenchResult(writer.path, writer.run_id, summary, rt.timing_source, rt.mode)


def figures(case: GemmCase, s: dict) -> dict:
    """The gemm columns of one sample; rates only for a verified repetition."""
    ok, t = s["verified"], s["time_s"]
    return {"dtype": case.dtype, "M": case.M, "K": case.K, "N": case.N, "epilogue": case.epilogue,
            "path": case.path, "flop": case.flop, "bytes": case.bytes,
            "throughput_GFLOPps": case.flop / t / 1e9 if ok and t > 0 else None,
            "bandwidth_GBps": case.bytes / t / 1e9 if ok and t > 0 else None}


def summarize_gemm(rows: list[dict], cus: int = 0):
    """The summary of a gemm run with `cus` CUs (per-CU columns included): what readers recompute."""
    return summarize_samples("gemm", rows, cus)
