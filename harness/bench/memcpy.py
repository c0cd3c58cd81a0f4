"""`harness bench memcpy`: achieved HBM bandwidth per direction, PC count and size.

CU i of bw_memcpy reads HBM[2i] and writes HBM[2i+1] (kernels/designs/memcpy.toml),
so `read` and `write` drive one PC per CU and `copy` two. Bytes counted: read or
write: bytes read or written; copy: bytes read + bytes written (as Xilinx's
hbm_bandwidth example counts). Bandwidth is decimal GB/s (1e9 B/s) over the
start()..wait() time of all CUs launched together, and is written only for a
repetition whose output was verified.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from harness import model
from harness.bench import reference
from harness.bench.common import (BenchResult, RunOptions, attach_launch_marks, device_times, guarded,
                                  make_context, progress, timeout_ms)
from harness.results import schema
from harness.results.stats import summarize_samples
from harness.results.writer import RunWriter
from harness.designs import load_design
from harness.designs.codes import memcpy_modes
from harness.errors import UserError
from harness.runtime import open_runtime
from harness.runtime.session import Session

KERNEL = "bw_memcpy"
WORD_BYTES = 64
DIRECTIONS = memcpy_modes()       # direction -> bw_memcpy `mode` code (kernels/designs/memcpy.toml)
POISON = np.uint64(0xDEADBEEFDEADBEEF)
AUTO_REPS_TARGET_BYTES = 64 << 20     # in-kernel repetitions until each CU moves ~64 MiB per launch
MAX_AUTO_REPS = 1024
# XRT emulation simulates the RTL: ~64 KiB per CU per launch, at most 64 repetitions.
EMULATION_REPS_TARGET_BYTES = 64 << 10
MAX_EMULATION_REPS = 64
DEFAULT_SIZES, EMULATION_SIZES = "4K..256M", "4K,16K"
DEFAULT_PCS = [1, 2, 4, 8, 16, 32]
SAMPLE_COLUMNS = schema.MEMCPY.sample_columns


# ---------------------------------------------------------------- the kernel's contract
# (flat uint64 arrays here; the references themselves live in harness.bench.reference, the
# contract in kernels/memcpy/memcpy.cpp: every word at its index, every rep with its number)
def write_pattern(n_words: int, reps: int = 1) -> np.ndarray:
    """What mode `write` leaves: word i, lane j = ((i << 3) | j) ^ key ^ rk(reps - 1), flattened."""
    return reference.memcpy_write_pattern(n_words, reps).reshape(-1)


def read_checksum(words: np.ndarray, reps: int) -> np.ndarray:
    """What mode `read` stores in out[0]: lane sums of (word ^ pattern) + rk(rep) over all words and reps."""
    return reference.memcpy_read_checksum(words.reshape(-1, 8), reps)


def copy_matches(got: np.ndarray, src: np.ndarray, reps: int) -> bool:
    """Whether mode `copy` left out = in ^ rk(reps - 1). Undoes the key in `got` itself (the
    output is poisoned before the next launch anyway), so no copy of the input is made."""
    np.bitwise_xor(got, reference.memcpy_copy_key(reps), out=got)
    return np.array_equal(got, src)


def auto_kernel_reps(size: int) -> int:
    return int(min(MAX_AUTO_REPS, max(1, AUTO_REPS_TARGET_BYTES // size)))


def auto_kernel_reps_emulation(size: int) -> int:
    return int(min(MAX_EMULATION_REPS, max(1, EMULATION_REPS_TARGET_BYTES // size)))


# ---------------------------------------------------------------- the plan
@dataclass(frozen=True)
class MemcpyPoint:
    direction: str          # read | write | copy
    pcs: int                # PCs driven at once (copy: 2 per CU)
    bytes_per_pc: int
    kernel_reps: int        # in-kernel repetitions per launch

    @property
    def cus(self) -> int:
        return self.pcs // 2 if self.direction == "copy" else self.pcs


@dataclass(frozen=True)
class MemcpyPlan:
    points: list[MemcpyPoint]
    opts: RunOptions = field(default_factory=RunOptions)
    target: str | None = None        # hw_emu / sw_emu: the design's [emulation] variant


def memcpy_design(target: str | None = None):
    """The memcpy design (for a mode or TARGET), its bw_memcpy kernel, the platform, one PC's bytes
    and the HBM PC count."""
    design = load_design("memcpy", target=target)
    kern = design.kernels[KERNEL]
    if kern.args[0].width_bits != 8 * WORD_BYTES:
        raise UserError(f"bw_memcpy ports are {kern.args[0].width_bits}-bit in kernels/designs/memcpy.toml, but "
                        f"the kernel and this bench move {8 * WORD_BYTES}-bit words; keep them equal")
    plat = model.load_platform("u280")
    pc_bytes = plat.memory(kern.args[0].bank_for(0)).size_bytes
    n_pcs = sum(1 for m in plat.memories if m.kind == "hbm")
    return design, kern, plat, pc_bytes, n_pcs


def fits(direction: str, pcs: int, cus: int) -> bool:
    """Whether `pcs` PCs can be driven in `direction` by at most `cus` CUs (copy: 2 PCs per CU)."""
    per_cu = 2 if direction == "copy" else 1
    return pcs % per_cu == 0 and pcs // per_cu <= cus


# ---------------------------------------------------------------- the bench
def run(plan: MemcpyPlan) -> BenchResult:
    """Run every point of the plan, verified; write and return the run directory."""
    opts = plan.opts
    rt = open_runtime(opts.mode, opts.device, vitis_platform=opts.vitis_platform)
    design, kern, plat, _, _ = memcpy_design(rt.mode)
    if max((p.cus for p in plan.points), default=0) > kern.cus:
        raise UserError(f"the plan needs {max(p.cus for p in plan.points)} bw_memcpy CUs but the {rt.mode} design "
                        f"has {kern.cus}; use --pcs up to {kern.cus} (read, write) or {2 * kern.cus} (copy)")
    sess = Session(rt, design, opts.xclbin)
    context = make_context("memcpy", rt, sess, design, opts.clock_mhz)
    writer = RunWriter("memcpy", rt.mode, context, opts.out, SAMPLE_COLUMNS)
    marks = attach_launch_marks(writer, sess)
    params = design.all_params(KERNEL)
    rng = np.random.default_rng(2026)
    with guarded(writer):
        bar = progress(len(plan.points) * (opts.warmup + opts.repeats), f"memcpy ({rt.mode})")
        for point, pt in enumerate(plan.points):
            pred = model.predict_memcpy(plat, memory="hbm", ports=2 if pt.direction == "copy" else 1,
                                        direction=pt.direction, width_bits=kern.args[0].width_bits,
                                        clock_mhz=context["clock_mhz"], burst=params["MEMCPY_BURST"],
                                        outstanding=params["MEMCPY_OUTSTANDING"],
                                        bytes=pt.bytes_per_pc * pt.kernel_reps)
            _run_point(opts, sess, writer, bar, rng, point, pt,
                       timeout_ms(opts, pred.time_s + model.dispatch_overhead(plat).value, rt.mode), pred.time_s)
        bar.close()
        device_times(writer, marks)
        summary = summarize_samples("memcpy", writer.rows)
        writer.finish(summary)
    return BenchResult(writer.path, writer.run_id, summary, rt.timing_source)


def _run_point(opts, sess, writer, bar, rng, point, pt: MemcpyPoint, tmo_ms, model_s: float):
    direction, pcs, cus, size, reps = pt.direction, pt.pcs, pt.cus, pt.bytes_per_pc, pt.kernel_reps
    n_words = size // WORD_BYTES
    mode = DIRECTIONS[direction]
    # Inputs: random words in each CU's `in` PC (read, copy); write mode ignores `in`.
    in_bytes = size if direction != "write" else WORD_BYTES
    out_bytes = WORD_BYTES if direction == "read" else size
    data = rng.integers(0, 2 ** 63, size=in_bytes // 8, dtype=np.uint64)
    ins, outs, runs, expected = [], [], [], []
    pattern = write_pattern(n_words, reps) if direction == "write" else None
    for cu in range(cus):
        b_in = sess.alloc(KERNEL, cu, "in", in_bytes)
        b_out = sess.alloc(KERNEL, cu, "out", out_bytes)
        # Each CU gets its own input, so a CU reading another CU's PC fails verification.
        host_in = np.frombuffer(b_in.map(), np.uint64)
        np.bitwise_xor(data, np.uint64(cu) * np.uint64(0x0101010101010101), out=host_in)
        ins.append(b_in)
        outs.append(b_out)
        runs.append(sess.run(KERNEL, cu, [b_in, b_out, n_words, reps, mode]))
        expected.append(read_checksum(host_in, reps) if direction == "read"
                        else pattern if direction == "write" else host_in)
    h2d = sess.to_device(ins)
    moved = cus * size * reps * (2 if direction == "copy" else 1)
    first = True
    for phase, count in (("warmup", opts.warmup), ("measure", opts.repeats)):
        for rep in range(count):
            # Poison the outputs so a launch that did nothing cannot pass as verified.
            for b in outs:
                np.frombuffer(b.map(), np.uint64)[:] = POISON
            sess.to_device(outs)
            t, wall = sess.launch(runs, tmo_ms, f"memcpy {direction} {pcs} PCs {size} B")
            d2h, bad = 0.0, []
            for cu, (b, want) in enumerate(zip(outs, expected)):
                d2h += sess.from_device(b)
                got = np.frombuffer(b.map(), np.uint64)[:want.size]
                same = copy_matches(got, want, reps) if direction == "copy" else np.array_equal(got, want)
                if not same:
                    bad.append(f"{KERNEL}_{cu + 1} output differs from the reference")
            ok = not bad
            writer.add_sample({
                "point": point, "phase": phase, "repetition": rep, "time_s": t, "wall_time_s": wall,
                "h2d_time_s": h2d if first else 0.0, "d2h_time_s": d2h,
                "verified": ok, "error": "; ".join(bad), "timing_source": sess.rt.timing_source,
                "direction": direction, "pcs": pcs, "cus": cus, "bytes_per_pc": size, "kernel_reps": reps,
                "bytes": moved, "bandwidth_GBps": moved / t / 1e9 if ok and t > 0 else None,
                "model_time_s": model_s, "device_time_s": None,
            })
            first = False
            bar.update(1)
