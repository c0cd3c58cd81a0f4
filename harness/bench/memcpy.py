"""`harness bench memcpy`: achieved HBM bandwidth per direction, PC count and size.

CU i of bw_memcpy reads HBM[2i] and writes HBM[2i+1] (kernels/designs/memcpy.toml),
so `read` and `write` drive one PC per CU and `copy` two. Bytes counted: read or
write: bytes read or written; copy: bytes read + bytes written (as Xilinx's
hbm_bandwidth example counts). Bandwidth is decimal GB/s (1e9 B/s) over the
start()..wait() time of all CUs launched together, and is written only for a
repetition whose output was verified.
"""
from __future__ import annotations

import argparse

import numpy as np

from harness import model
from harness.bench import reference
from harness.bench.common import (COMMON_SAMPLE_COLUMNS, guarded, make_context, print_closing, print_table,
                                   progress)
from harness.bench.options import add_common, check_common, parse_int_list, parse_sizes, timeout_ms
from harness.bench.rundir import RunWriter
from harness.bench.stats import summarize
from harness.design import load_design
from harness.errors import UserError
from harness.runtime import open_runtime
from harness.runtime.session import Session

KERNEL = "bw_memcpy"
WORD_BYTES = 64
DIRECTIONS = {"read": 0, "write": 1, "copy": 2}
POISON = np.uint64(0xDEADBEEFDEADBEEF)
AUTO_REPS_TARGET_BYTES = 64 << 20     # in-kernel repetitions until each CU moves ~64 MiB per launch
MAX_AUTO_REPS = 1024
DEFAULT_PCS = [1, 2, 4, 8, 16, 32]
SAMPLE_COLUMNS = COMMON_SAMPLE_COLUMNS + ["direction", "pcs", "cus", "bytes_per_pc", "kernel_reps", "bytes",
                                          "bandwidth_GBps"]


# ---------------------------------------------------------------- the kernel's contract
# (flat uint64 arrays here; the references themselves live in harness.bench.reference)
def write_pattern(n_words: int) -> np.ndarray:
    """What mode `write` stores: word i, lane j = ((i << 3) | j) ^ key, flattened."""
    return reference.memcpy_write_pattern(n_words).reshape(-1)


def read_checksum(words: np.ndarray, reps: int) -> np.ndarray:
    """What mode `read` stores in out[0]: the lane-wise wrapping uint64 sum over all reps."""
    return reference.memcpy_read_checksum(words.reshape(-1, 8), reps)


def auto_kernel_reps(size: int) -> int:
    return int(min(MAX_AUTO_REPS, max(1, AUTO_REPS_TARGET_BYTES // size)))


# ---------------------------------------------------------------- options
def add_arguments(p: argparse.ArgumentParser) -> None:
    add_common(p)
    p.add_argument("--sizes", default="4K..256M",
                   help="bytes per PC: a doubling range LO..HI or a list (K/M/G suffixes; default 4K..256M)")
    p.add_argument("--direction", action="append", choices=list(DIRECTIONS),
                   help="read, write or copy; repeat for several (default: all three)")
    p.add_argument("--pcs", default=None,
                   help="PCs driven at once, a list like 1,2,4,8,16,32 (default: every one of those "
                        "the direction can drive)")
    p.add_argument("--kernel-reps", default="auto",
                   help="in-kernel repetitions per launch, or auto (~64 MiB per CU per launch, at most 1024)")


def _validate(args, cus: int, pc_bytes: int, n_pcs: int):
    check_common(args)
    sizes = parse_sizes(args.sizes)
    if not sizes:
        raise UserError("--sizes is empty; give sizes like 4K..256M")
    for s in sizes:
        if s <= 0:
            raise UserError(f"--sizes {s}: sizes must be positive, e.g. 4K")
        if s % WORD_BYTES:
            raise UserError(f"--sizes {s}: use a multiple of {WORD_BYTES} B (one 512-bit word), e.g. {s // 64 * 64 or 64}")
        if s > pc_bytes:
            raise UserError(f"--sizes {s}: larger than one PC ({pc_bytes} bytes); use at most {pc_bytes >> 20}M")
    if args.kernel_reps == "auto":
        reps_of = auto_kernel_reps
    else:
        try:
            fixed = int(args.kernel_reps)
        except ValueError:
            raise UserError("--kernel-reps must be a positive integer or auto") from None
        if not 1 <= fixed <= 2 ** 32 - 1:
            raise UserError("--kernel-reps must be between 1 and 4294967295 (a 32-bit kernel argument)")
        reps_of = lambda _s: fixed  # noqa: E731
    directions = args.direction or list(DIRECTIONS)
    explicit = args.pcs is not None
    pcs_list = parse_int_list(args.pcs, "--pcs") if explicit else DEFAULT_PCS
    def fits(d: str, pcs: int) -> bool:
        per_cu = 2 if d == "copy" else 1
        return pcs % per_cu == 0 and pcs // per_cu <= cus

    directions = list(dict.fromkeys(directions))
    for pcs in pcs_list:
        if not 1 <= pcs <= n_pcs:
            raise UserError(f"--pcs {pcs}: the U280 has {n_pcs} HBM PCs; use 1 to {n_pcs}")
        # An explicit PC count must suit at least one requested direction; with several
        # directions, a count that suits only some (e.g. 1 for read, not copy) is skipped for the others.
        if explicit and not any(fits(d, pcs) for d in directions):
            d = directions[0]
            if d == "copy":
                raise UserError(f"--pcs {pcs} with copy: each CU drives 2 PCs (read + write); "
                                f"use an even number up to {2 * cus}")
            raise UserError(f"--pcs {pcs} with {d}: each CU drives one PC and there are {cus} CUs; "
                            f"use at most {cus}, or --direction copy to drive {2 * cus}")
    plan = [(d, pcs, s) for d in directions for pcs in pcs_list if fits(d, pcs) for s in sizes]
    return plan, reps_of


# ---------------------------------------------------------------- the bench
def run(args) -> int:
    design = load_design("memcpy")
    kern = design.kernels[KERNEL]
    if kern.args[0].width_bits != 8 * WORD_BYTES:
        raise UserError(f"bw_memcpy ports are {kern.args[0].width_bits}-bit in kernels/designs/memcpy.toml, but "
                        f"the kernel and this bench move {8 * WORD_BYTES}-bit words; keep them equal")
    plat = model.load_platform("u280")
    pc_bytes = plat.memory(kern.args[0].bank_for(0)).size_bytes
    n_pcs = sum(1 for m in plat.memories if m.kind == "hbm")
    plan, reps_of = _validate(args, kern.cus, pc_bytes, n_pcs)

    rt = open_runtime(args.mode, args.device)
    sess = Session(rt, design, args.xclbin)
    context = make_context("memcpy", rt, sess, design, args.clock_mhz)
    writer = RunWriter("memcpy", rt.mode, context, args.out, SAMPLE_COLUMNS)
    params = design.all_params(KERNEL)
    rng = np.random.default_rng(2026)
    with guarded(writer):
        bar = progress(len(plan) * (args.warmup + args.repeats), f"memcpy ({rt.mode})")
        for point, (direction, pcs, size) in enumerate(plan):
            cus = pcs // 2 if direction == "copy" else pcs
            reps = reps_of(size)
            pred = model.predict_memcpy(plat, memory="hbm", ports=2 if direction == "copy" else 1, direction=direction,
                                        width_bits=kern.args[0].width_bits,
                                        clock_mhz=context["clock_mhz"], burst=params["MEMCPY_BURST"],
                                        outstanding=params["MEMCPY_OUTSTANDING"], bytes=size * reps)
            _run_point(args, sess, writer, bar, rng, point, direction, pcs, cus, size, reps,
                       timeout_ms(args, pred.time_s + model.dispatch_overhead(plat).value))
        bar.close()
        summary = summarize(writer.rows, ["direction", "pcs", "cus", "bytes_per_pc", "kernel_reps"],
                            ("bandwidth_GBps",))
        writer.finish(summary)
    _report(writer, summary, rt)
    return 0


def _run_point(args, sess, writer, bar, rng, point, direction, pcs, cus, size, reps, tmo_ms):
    n_words = size // WORD_BYTES
    mode = DIRECTIONS[direction]
    # Inputs: random words in each CU's `in` PC (read, copy); write mode ignores `in`.
    in_bytes = size if direction != "write" else WORD_BYTES
    out_bytes = WORD_BYTES if direction == "read" else size
    data = rng.integers(0, 2 ** 63, size=in_bytes // 8, dtype=np.uint64)
    ins, outs, runs, expected = [], [], [], []
    pattern = write_pattern(n_words) if direction == "write" else None
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
    for phase, count in (("warmup", args.warmup), ("measure", args.repeats)):
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
                if not np.array_equal(got, want):
                    bad.append(f"{KERNEL}_{cu + 1} output differs from the reference")
            ok = not bad
            writer.add_sample({
                "point": point, "phase": phase, "repetition": rep, "time_s": t, "wall_time_s": wall,
                "h2d_time_s": h2d if first else 0.0, "d2h_time_s": d2h,
                "verified": ok, "error": "; ".join(bad), "timing_source": sess.rt.timing_source,
                "direction": direction, "pcs": pcs, "cus": cus, "bytes_per_pc": size, "kernel_reps": reps,
                "bytes": moved, "bandwidth_GBps": moved / t / 1e9 if ok and t > 0 else None,
            })
            first = False
            bar.update(1)


def _report(writer, summary, rt) -> None:
    label = "measured" if rt.timing_source == "measured" else "MODELED (emulation, not a measurement)"
    print(f"\nmemcpy bandwidth, decimal GB/s, {label}")
    rows = []
    for (d, pcs), g in summary.groupby(["direction", "pcs"], sort=False):
        ok = g[g["verified"]]
        if ok.empty:
            rows.append([d, pcs, "-", "-", "FAILED verification"])
            continue
        best = ok.loc[ok["bandwidth_GBps_best"].idxmax()]
        rows.append([d, pcs, f"{best['bandwidth_GBps_best']:.2f}", f"{int(best['bytes_per_pc']):,}",
                     f"{len(ok)}/{len(g)} sizes verified"])
    print_table(rows, ["direction", "PCs", "best GB/s", "at bytes/PC", "verification"])
    print_closing(writer, summary, lambda r: f"{r['direction']} {r['pcs']} PCs {int(r['bytes_per_pc'])} B")
