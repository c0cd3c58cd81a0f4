"""`harness bench transfer`: host<->card bandwidth and latency per buffer size and bank.

One buffer per bank (the largest size of the plan), allocated in that bank by its memory index
in the loaded xclbin (the memcpy design's, whose ports use every HBM PC). Each repetition of a
(bank, size) point is one round trip, both halves timed on rt.now_ns() around a single bo.sync():

    h2d: fresh data (a base pattern XOR a 64-bit key new to this repetition) written into the
         host copy, then sync(XCL_BO_SYNC_BO_TO_DEVICE, size, 0)          -> an h2d sample
    d2h: the host copy overwritten with a poison word, then
         sync(XCL_BO_SYNC_BO_FROM_DEVICE, size, 0)                         -> a d2h sample
    check: the host copy XOR the key must equal the base pattern, word for word.

So a d2h that returns stale data (the poison, or the previous repetition's data when an h2d did
not land) fails both samples of the repetition: the check covers the round trip, and is recorded
on both rows. Bandwidth is decimal GB/s (bytes / time_s / 1e9); latency is the time of the
smallest size. In --mode emu every sync's time is harness.model.predict_transfer's (modeled).
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

import numpy as np

from harness import model
from harness.bench.common import BenchResult, RunOptions, guarded, make_context, progress, size_label
from harness.designs import load_design
from harness.errors import UserError
from harness.model.transfer import DIRECTIONS
from harness.results import schema
from harness.results.stats import summarize_samples
from harness.results.writer import RunWriter
from harness.runtime import open_runtime
from harness.runtime.session import Session

DESIGN = "memcpy"                     # any xclbin whose ports use the banks; this one uses every HBM PC
WORD_BYTES = 8                        # data are checked as 64-bit words
POISON_WORD = 0xDEADBEEFDEADBEEF      # left in the host copy when a d2h moves nothing (odds 2^-64)
DEFAULT_SIZES, EMULATION_SIZES = "64..256M", "64..1M"
SAMPLE_COLUMNS = schema.TRANSFER.sample_columns
_BANK = re.compile(r"^(HBM|DDR|PLRAM)\[(\d+)\]$")


@dataclass(frozen=True)
class TransferPlan:
    sizes: list[int]
    banks: list[str] | None           # None: the default set, from what the xclbin uses
    opts: RunOptions = field(default_factory=RunOptions)
    target: str | None = None         # hw_emu / sw_emu: the design's [emulation] variant


def check_bank_names(text: str | None, platform="u280") -> list[str] | None:
    """--banks HBM[0],HBM[31],DDR[0] -> tags (the platform's names); None when not given."""
    if text is None:
        return None
    plat = model.load_platform(platform)
    known = [m.tag for m in plat.memories]
    out = []
    for t in (x.strip() for x in text.split(",")):
        if not t:
            continue
        if not _BANK.match(t) or t not in known:
            raise UserError(f"--banks: {t!r} is not a memory of the {platform.upper()}; give tags like "
                            f"HBM[0],HBM[31] ({known[0]}..{[m.tag for m in plat.memories if m.kind == 'hbm'][-1]}"
                            + (f", {', '.join(m.tag for m in plat.memories if m.kind != 'hbm')}" if
                               any(m.kind != "hbm" for m in plat.memories) else "") + ")")
        out.append(t)
    if not out:
        raise UserError("--banks is empty; give tags like HBM[0],HBM[31]")
    return out


def default_banks(used: list[str]) -> list[str]:
    """A small representative set: the first and last HBM PC the xclbin uses (different switch
    groups) and its first DDR bank, if it uses one."""
    hbm = [t for t in used if t.startswith("HBM[")]
    ddr = [t for t in used if t.startswith("DDR[")]
    out = hbm[:1] + hbm[-1:] + ddr[:1]
    return list(dict.fromkeys(out)) or used[:1]


def rep_key(bank: int, size_index: int, rep: int) -> np.uint64:
    """The 64-bit key of one repetition (splitmix64 of its coordinates): never the same twice in a
    run, so data left by an earlier repetition cannot pass for this one's."""
    x = (bank << 48 | size_index << 32 | rep) + 0x9E3779B97F4A7C15
    x &= 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return np.uint64(x ^ (x >> 31))


def run(plan: TransferPlan, bar=None) -> BenchResult:
    """Every (bank, size) of the plan, both directions, verified; write and return the run directory."""
    opts = plan.opts
    rt = open_runtime(opts.mode, opts.device, vitis_platform=opts.vitis_platform)
    design = load_design(DESIGN, target=rt.mode)
    sess = Session(rt, design, opts.xclbin)
    used = sess.used_banks()
    banks = plan.banks if plan.banks is not None else default_banks(used)
    for b in banks:                   # before any run directory exists
        if b not in used:
            raise UserError(f"--banks {b}: {sess.xclbin_path.name} does not use it (no kernel port is connected to "
                            f"it), so XRT allocates no buffer there; use {', '.join(default_banks(used))} "
                            f"(any of {used[0]}..{used[-1]})")
        cap = sess.mem_size.get(b)
        if cap is not None and max(plan.sizes) > cap:
            raise UserError(f"--sizes {max(plan.sizes)}: larger than {b} ({cap} bytes); use at most "
                            f"{size_label(cap)}")
    context = make_context("transfer", rt, sess, design, opts.clock_mhz)
    context["dtype"] = None
    notes = []
    if plan.banks is None:
        notes.append(f"banks: {', '.join(banks)} (the default: first and last HBM PC the xclbin uses, and a DDR "
                     "bank if it uses one); --banks picks others")
    context["notes"].extend(notes)
    context["transfer"] = {"banks": banks, "sizes": plan.sizes, "design": DESIGN,
                           "check": "round trip: fresh data h2d, host copy poisoned, d2h, compared word for word"}
    writer = RunWriter("transfer", rt.mode, context, opts.out, SAMPLE_COLUMNS)
    with guarded(writer):
        reps = opts.warmup + opts.repeats
        bar = bar or progress(len(banks) * sum(reps * (3 * s + (1 << 16)) for s in plan.sizes),
                              f"transfer ({rt.mode})")
        for n in notes:
            bar.write(f"note: {n}")
        largest = max(plan.sizes)
        base = np.random.default_rng(2026).bit_generator.random_raw(largest // WORD_BYTES)
        point = 0
        for bi, bank in enumerate(banks):
            bo = sess.alloc_bank(bank, largest)
            host = np.frombuffer(bo.map(), np.uint64)
            for si, size in enumerate(plan.sizes):
                _run_point(opts, sess, writer, bar, bo, host, base, bank, bi, si, size, point)
                point += 2
            del host, bo               # one bank's buffer at a time
        bar.close()
        summary = summarize_samples("transfer", writer.rows)
        writer.finish(summary)
    return BenchResult(writer.path, writer.run_id, summary, rt.timing_source, rt.mode)


def _run_point(opts, sess, writer, bar, bo, host, base, bank, bi, si, size, point):
    words = size // WORD_BYTES
    label = f"{bank} {size_label(size)}"
    bar.point(label)
    model_s = {d: model.predict_transfer(size, d).time_s for d in DIRECTIONS}
    h, b = host[:words], base[:words]
    rep_no = 0
    figures = {d: [] for d in DIRECTIONS}
    for phase, count in (("warmup", opts.warmup), ("measure", opts.repeats)):
        for rep in range(count):
            key = rep_key(bi, si, rep_no)
            rep_no += 1
            np.bitwise_xor(b, key, out=h)                  # fresh data, new to this repetition
            w0 = time.perf_counter_ns()
            t_h2d = sess.to_device([bo], size)
            w1 = time.perf_counter_ns()
            h[:] = np.uint64(POISON_WORD)                  # a d2h that moves nothing leaves this
            w2 = time.perf_counter_ns()
            t_d2h = sess.from_device(bo, size, 0)
            w3 = time.perf_counter_ns()
            wall = {"h2d": (w1 - w0) / 1e9, "d2h": (w3 - w2) / 1e9}
            np.bitwise_xor(h, key, out=h)
            ok = bool(np.array_equal(h, b))
            err = ""
            if not ok:
                diff = h != b
                n = int(np.count_nonzero(diff))
                err = (f"round trip h2d then d2h of {size} B in {bank}: {n} of {words} 64-bit words differ from "
                       f"what was written (first at word {int(np.argmax(diff))})")
            for d, t in (("h2d", t_h2d), ("d2h", t_d2h)):
                bw = size / t / 1e9 if ok and t > 0 else None
                writer.add_sample({
                    "point": point + (d == "d2h"), "phase": phase, "repetition": rep, "time_s": t,
                    "wall_time_s": wall[d], "h2d_time_s": t if d == "h2d" else 0.0, "d2h_time_s": t if d == "d2h" else 0.0,
                    "verified": ok, "error": err, "timing_source": sess.rt.timing_source, "device_time_s": None,
                    "direction": d, "bank": bank, "bytes": size, "bandwidth_GBps": bw, "model_time_s": model_s[d],
                })
                if phase == "measure":
                    figures[d].append(bw)
            bar.update(3 * size + (1 << 16))
    good = {d: [f for f in v if f is not None] for d, v in figures.items()}
    fig = ", ".join(f"{d} {float(np.median(g)):.2f} GB/s" if g else f"{d} not verified" for d, g in good.items())
    bar.point_done(label, f"{fig}, {len(good['h2d'])}/{len(figures['h2d'])} verified")
