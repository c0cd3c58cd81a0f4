"""`harness bench flops`: the empirical roofline of the card, one element type per xclbin.

Every CU of the flops design (one per SLR, kernels/designs/flops.toml) streams
its own input PCs, applies F multiply-adds to every element and writes one
32-bit result per element to its own output PCs (kernels/flops/README.md). One
point per F: all CUs launched together, timed start()..wait() of the last.

Counting: flop = 2 F x elements (all CUs); bytes = elements x (element bytes +
4), what is read and written; oi_FLOPpB = flop / bytes. The operational
intensity grows with F, so one xclbin traces the roofline from the memory slope
(small F) to the compute roof (large F).

Every repetition's outputs are poisoned before the launch, read back and compared
bit for bit with the kernel's order replayed in numpy (harness.bench.reference.
flops_expected: float32 step by step for fp32 and fp16, exact integers for fx16
and int8); a repetition that fails is kept with verified=false and no figures.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from harness import model
from harness.bench import reference
from harness.bench.common import BenchResult, RunOptions, guarded, make_context, progress, timeout_ms
from harness.designs import load_design
from harness.errors import UserError
from harness.results import schema
from harness.results.stats import summarize_samples
from harness.results.writer import RunWriter
from harness.runtime import open_runtime
from harness.runtime.session import Session

KERNEL = "flops"
PLATFORM = "u280"
WORD_BYTES = 64
PORTS = 4
HOST_TYPES = {"fp32": np.float32, "fp16": np.float16, "fx16": np.int16, "int8": np.int8}
SAMPLE_COLUMNS = schema.FLOPS.sample_columns
SUMMARY_KEYS = schema.FLOPS.summary_keys
RATE_COLS = schema.FLOPS.rate_cols
DEFAULT_F = [2 ** i for i in range(13)]            # 1 .. 4096
# Input bytes per port and CU when not given: the card gets buffers long enough for the memory slope;
# the emulator (whose times come from the model anyway) small ones, so a full sweep takes seconds.
DEFAULT_BYTES_PER_PORT = {"hw": 16 << 20, "emu": 16 << 10}
MAX_F = 2 ** 32 - 1
SEED = 2027


@dataclass(frozen=True)
class FlopsPlan:
    dtype: str
    flops_per_element: list          # F values
    bytes_per_port: int | None       # input bytes per port per CU (None: DEFAULT_BYTES_PER_PORT of the mode)
    opts: RunOptions = field(default_factory=RunOptions)


def elem_bytes(dtype: str) -> int:
    return np.dtype(HOST_TYPES[dtype]).itemsize


def check_plan(plan: FlopsPlan):
    if plan.dtype not in HOST_TYPES:
        raise UserError(f"unknown element type {plan.dtype!r}; use one of {', '.join(HOST_TYPES)}")
    design = load_design("flops", dtype=plan.dtype)
    plat = model.load_platform(PLATFORM)
    if not plan.flops_per_element:
        raise UserError("--flops-per-element is empty; give values like 1,2,4,...,4096")
    for f in plan.flops_per_element:
        if not 1 <= f <= MAX_F:
            raise UserError(f"--flops-per-element {f}: use 1 to {MAX_F} (a 32-bit kernel argument)")
    if plan.bytes_per_port is not None:
        check_bytes(plan.dtype, plan.bytes_per_port, plat)
    return design, plat


def check_bytes(dtype: str, nbytes: int, plat) -> None:
    if nbytes < WORD_BYTES or nbytes % WORD_BYTES:
        raise UserError(f"--bytes-per-port {nbytes}: use a positive multiple of {WORD_BYTES} B "
                        "(one 512-bit word), e.g. 64K")
    out_bytes = nbytes // elem_bytes(dtype) * 4
    cap = plat.memory("hbm").banks[0].size_bytes
    if max(nbytes, out_bytes) > cap or nbytes // WORD_BYTES > 2 ** 32 - 1:
        raise UserError(f"--bytes-per-port {nbytes}: its {out_bytes} output bytes exceed one PC "
                        f"({cap} bytes); use at most {cap * elem_bytes(dtype) // 4 >> 20}M")


def _poison(view: np.ndarray) -> None:
    view.view(np.uint32)[:] = 0x7FC0DEAD        # a NaN for fp32, a value no integer result here takes


class FlopsCase:
    """Buffers and runs of every CU; inputs are written once and reused for every F."""

    def __init__(self, sess: Session, dtype: str, n_words: int, rng):
        self.sess, self.dtype, self.n_words = sess, dtype, n_words
        design = sess.design
        self.params = design.all_params(KERNEL)
        self.cus = design.kernels[KERNEL].cus
        la = WORD_BYTES // elem_bytes(dtype)
        self.n = n_words * la                       # elements per port
        self.x, self.bo_in, self.bo_out = {}, {}, {}
        t = HOST_TYPES[dtype]
        for cu in range(self.cus):
            for p in range(PORTS):
                if dtype in ("fp32", "fp16"):
                    x = rng.uniform(-2, 2, self.n).astype(t)
                else:
                    lim = 2 ** 15 if dtype == "fx16" else 2 ** 7
                    x = rng.integers(-lim, lim, self.n).astype(t)
                self.x[(cu, p)] = x
                b = self.bo_in[(cu, p)] = sess.alloc(KERNEL, cu, f"in{p}", n_words * WORD_BYTES)
                np.frombuffer(b.map(), np.uint8)[:] = x.view(np.uint8)
                self.bo_out[(cu, p)] = sess.alloc(KERNEL, cu, f"out{p}", self.n * 4)
        self.h2d_time_s = sess.to_device(list(self.bo_in.values()))
        self.elements = self.cus * PORTS * self.n

    def runs(self, f: int) -> list:
        return [self.sess.run(KERNEL, cu, [*[self.bo_in[(cu, p)] for p in range(PORTS)],
                                           *[self.bo_out[(cu, p)] for p in range(PORTS)], self.n_words, f])
                for cu in range(self.cus)]

    def launch(self, runs, f: int, tmo: int, expected: dict) -> tuple[float, float, float, bool, str]:
        sess = self.sess
        outs = list(self.bo_out.values())
        for b in outs:
            _poison(np.frombuffer(b.map(), np.uint32))
        sess.to_device(outs)
        t, wall = sess.launch(runs, tmo, f"flops {self.dtype} F={f}")
        d2h = sum(sess.from_device(b) for b in outs)
        for key, b in self.bo_out.items():
            got = np.frombuffer(b.map(), np.uint32)
            exp = expected[key]
            if not np.array_equal(got, exp):
                bad = int(np.count_nonzero(got != exp))
                i = int(np.argmax(got != exp))
                return t, wall, d2h, False, (f"CU {key[0]} out{key[1]}: {bad} of {got.size} outputs differ from "
                                             f"the replayed order; first at {i}: got 0x{got[i]:08x}, "
                                             f"expected 0x{exp[i]:08x}")
        return t, wall, d2h, True, ""


def run(plan: FlopsPlan) -> BenchResult:
    design, plat = check_plan(plan)
    opts = plan.opts
    rt = open_runtime(opts.mode, opts.device)
    sess = Session(rt, design, opts.xclbin)
    ctx = make_context("flops", rt, sess, design, opts.clock_mhz)
    nbytes_port = plan.bytes_per_port or DEFAULT_BYTES_PER_PORT["emu" if rt.mode == "emu" else "hw"]
    check_bytes(plan.dtype, nbytes_port, plat)
    n_words = nbytes_port // WORD_BYTES
    ctx["flops"] = {"flops_per_element": list(plan.flops_per_element), "bytes_per_port": nbytes_port,
                    "flop": "2 F x elements of all CUs", "bytes": "elements x (element bytes + 4): read + written",
                    "verification": "bit-exact against the kernel's order replayed in numpy"}
    writer = RunWriter("flops", rt.mode, ctx, opts.out, SAMPLE_COLUMNS)
    params = design.all_params(KERNEL)
    with guarded(writer):
        case = FlopsCase(sess, plan.dtype, n_words, np.random.default_rng(SEED))
        preds = {f: model.predict_flops(plat, dtype=plan.dtype, n_words=n_words, f=f, params=params,
                                        cus=case.cus, clock_mhz=design.freq_mhz) for f in plan.flops_per_element}
        # progress weighted by each point's modeled time (plus a fixed cost per launch)
        bar = progress(sum((opts.warmup + opts.repeats) * (p.time_s + 2e-6) for p in preds.values()),
                       f"flops {plan.dtype} ({rt.mode})")
        first = True
        for point, f in enumerate(plan.flops_per_element):
            bar.point(f"F={f}")
            expected = {k: reference.flops_expected(plan.dtype, x, f, params).view(np.uint32)
                        for k, x in case.x.items()}
            pred = preds[f]
            rates = []
            tmo = timeout_ms(opts, pred.time_s + model.dispatch_overhead(plat).value, rt.mode)
            runs = case.runs(f)
            flop = 2 * f * case.elements
            nbytes = case.elements * (elem_bytes(plan.dtype) + 4)
            for phase, count in (("warmup", opts.warmup), ("measure", opts.repeats)):
                for rep in range(count):
                    t, wall, d2h, ok, err = case.launch(runs, f, tmo, expected)
                    writer.add_sample({
                        "point": point, "phase": phase, "repetition": rep, "time_s": t, "wall_time_s": wall,
                        "h2d_time_s": case.h2d_time_s if first else 0.0, "d2h_time_s": d2h, "verified": ok,
                        "error": err, "timing_source": rt.timing_source, "dtype": plan.dtype,
                        "flops_per_element": f, "n_words": n_words, "cus": case.cus, "elements": case.elements,
                        "flop": flop, "bytes": nbytes, "oi_FLOPpB": flop / nbytes,
                        "throughput_GFLOPps": flop / t / 1e9 if ok and t > 0 else None,
                        "bandwidth_GBps": nbytes / t / 1e9 if ok and t > 0 else None})
                    first = False
                    if phase == "measure" and ok and t > 0:
                        rates.append(flop / t / 1e9)
                    bar.update(pred.time_s + 2e-6)
            bar.point_done(f"F={f}", (f"{float(np.median(rates)):.4g} GFLOP/s" if rates else "no verified repetition")
                           + f", {len(rates)}/{opts.repeats} verified")
        bar.close()
        summary = summarize_samples("flops", writer.rows)
        writer.finish(summary)
    return BenchResult(writer.path, writer.run_id, summary, rt.timing_source, rt.mode)
