"""`harness bench memcpy`: achieved HBM bandwidth per direction, PC count and size.

CU i of bw_memcpy reads HBM[2i] and writes HBM[2i+1] (kernels/designs/memcpy.toml),
so `read` and `write` drive one PC per CU and `copy` two. Its ports reach every PC from
those switch ports, so a point may place the buffers under test elsewhere (`target`:
local, same-group, other-group or a PC number; target_pc_for says where). Bytes counted: read or
write: bytes read or written; copy: bytes read + bytes written (as Xilinx's
hbm_bandwidth example counts). Bandwidth is decimal GB/s (1e9 B/s) over the
start()..wait() time of all CUs launched together, and is written only for a
repetition whose output was verified.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from harness import model
from harness.bench import reference
from harness.bench.common import (BenchResult, RunOptions, attach_launch_marks, device_times, guarded,
                                  make_context, progress, size_label, timeout_ms)
from harness.results import schema
from harness.results.points import modeled_memcpy_GBps as modeled_GBps  # noqa: F401 (the table's and tests')
from harness.results.stats import summarize_samples
from harness.results.writer import RunWriter
from harness.designs import load_design
from harness.designs.codes import memcpy_modes, memcpy_patterns
from harness.errors import UserError
from harness.runtime import open_runtime
from harness.runtime.buffers import IndexWords
from harness.runtime.session import Session

KERNEL = "bw_memcpy"
WORD_BYTES = 64
DIRECTIONS = memcpy_modes()       # direction -> bw_memcpy `mode` code (kernels/designs/memcpy.toml)
PATTERNS = memcpy_patterns()      # pattern -> bw_memcpy `pattern` code (same file)
DEFAULT_SEED = 1                  # random pattern's generator seed (context.json `pattern_seed`)
POISON_WORD = 0xDEADBEEFDEADBEEF      # left where a launch skipped a word (a right word is this: odds 2^-64)
AUTO_REPS_TARGET_BYTES = 64 << 20     # in-kernel repetitions until each CU moves ~64 MiB per launch
MAX_AUTO_REPS = 1024
# XRT emulation simulates the RTL: ~64 KiB per CU per launch, at most 64 repetitions.
EMULATION_REPS_TARGET_BYTES = 64 << 10
MAX_EMULATION_REPS = 64
DEFAULT_SIZES, EMULATION_SIZES = "4K..256M", "4K,16K"
DEFAULT_PCS = [1, 2, 4, 8, 16, 32]
# --pattern stride/random: transactions of 64 B .. 4 KiB (AXI bursts stop at 4 KiB) on one PC of
# 64 MiB (the H3 rows use 256 MB; 64 MiB is past every row and bank of a PC and moves in ~5 ms).
DEFAULT_TXN, MAX_TXN_BYTES = "64..4K", 4096
PATTERN_SIZES = "64M"
# --port-pc: one CU per point and up to 16 x 32 points per direction: 256 KiB per point (x 256
# repetitions, ~64 MiB a launch, ~5 ms on a card)
PORT_SWEEP_SIZES, PORT_SWEEP_EMU_SIZES = "256K", "16K"
SAMPLE_COLUMNS = schema.MEMCPY.sample_columns


# ---------------------------------------------------------------- the kernel's contract
# (flat uint64 arrays here; the references themselves live in harness.bench.reference, the
# contract in kernels/memcpy/memcpy.cpp: every word at its index, every rep with its number)
def write_pattern(n_words: int, reps: int = 1) -> np.ndarray:
    """What mode `write` leaves: word i, lane j = ((i << 3) | j) ^ key ^ rk(reps - 1), flattened."""
    return reference.memcpy_write_pattern(n_words, reps).reshape(-1)


def write_expectation(n_words: int, reps: int = 1) -> tuple[IndexWords, int]:
    """write_pattern(n_words, reps) as (expected words, XOR key) for Session.fetch_compare: lane j
    of word i is flat 64-bit word w = 8i + j = (i << 3) | j, so the pattern's word w is
    w ^ WRITE_KEY ^ rk(reps - 1): the output XOR that key must be its own index (the emulator
    then compares without reading a pattern array; tests/test_memcpy_bench.py checks the identity)."""
    key = np.uint64(reference.WRITE_KEY) ^ reference.memcpy_rep_key(max(reps, 1) - 1)
    return IndexWords(n_words * 8), int(key)


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
    pattern: str = "seq"    # seq | stride | random (kernels/memcpy/memcpy.cpp "Patterns")
    txn_bytes: int | None = None      # stride, random: contiguous bytes per transaction
    stride_bytes: int | None = None   # stride: bytes from one transaction's start to the next
    target: str = "local"   # where the buffers under test lie: local | same-group | other-group | a PC number
    port_pc: int | None = None        # --port-pc: the one CU whose port under test is next to this PC drives
    first_cu: int = 0                 # the CUs driven are first_cu .. first_cu + cus - 1

    @property
    def cus(self) -> int:
        return self.pcs // 2 if self.direction == "copy" else self.pcs

    @property
    def cu_ids(self) -> range:
        return range(self.first_cu, self.first_cu + self.cus)

    @property
    def ports(self) -> tuple:
        """The ports whose buffers are under test (placed at the target)."""
        return PORTS_UNDER_TEST[self.direction]


PORTS_UNDER_TEST = model.MEMCPY_PORTS


# ---------------------------------------------------------------- where the buffers go
# where the buffers go (one source for the bench, the emulator's costs and the fit: harness.model)
target_pc_for = model.target_pc_for
target_of = model.target_of


def placement(kern, plat, target: str, cus, ports) -> dict[tuple[int, str], int]:
    """{(cu, port): PC} of the buffers under test of CUs `cus` (a count: the first ones; or their indices)."""
    ids = range(cus) if isinstance(cus, int) else cus
    return {(cu, p): target_pc_for(plat, target, _pc(kern.args[kern.arg_index(p)].home_for(cu)))
            for cu in ids for p in ports}


def port_cus(kern, direction: str) -> dict[int, int]:
    """{port PC: CU} for --port-pc: the PC next to the switch port of each CU's first port under test
    (read, copy: `in`; write: `out`), from the connectivity (kernels/designs/memcpy.toml)."""
    port = PORTS_UNDER_TEST[direction][0]
    return {_pc(kern.args[kern.arg_index(port)].home_for(cu)): cu for cu in range(kern.cus)}


def _pc(tag: str) -> int:
    return int(tag[tag.index("[") + 1:tag.index("]")])


@dataclass(frozen=True)
class MemcpyPlan:
    points: list[MemcpyPoint]
    opts: RunOptions = field(default_factory=RunOptions)
    default_sizes: bool = False      # sizes not chosen by the user: emulation stops where the model does
    notes: tuple = ()                # said to the user and kept in context.json (e.g. skipped combinations)
    target: str | None = None        # hw_emu / sw_emu: the design's [emulation] variant
    seed: int = DEFAULT_SEED         # the random pattern's seed
    emu_size: int | None = None      # --port-pc at default sizes in mode auto: the size if it runs emulated
    emu_reps: int | None = None      # ... and its in-kernel repetitions


def memcpy_design(target: str | None = None):
    """The memcpy design (for a mode or TARGET), its bw_memcpy kernel, the platform, one PC's bytes
    and the HBM PC count."""
    design = load_design("memcpy", target=target)
    kern = design.kernels[KERNEL]
    if kern.args[0].width_bits != 8 * WORD_BYTES:
        raise UserError(f"bw_memcpy ports are {kern.args[0].width_bits}-bit in kernels/designs/memcpy.toml, but "
                        f"the kernel and this bench move {8 * WORD_BYTES}-bit words; keep them equal")
    plat = model.load_platform("u280")
    pc_bytes = plat.memory(kern.args[0].home_for(0)).size_bytes
    n_pcs = sum(1 for m in plat.memories if m.kind == "hbm")
    return design, kern, plat, pc_bytes, n_pcs


def fits(direction: str, pcs: int, cus: int) -> bool:
    """Whether `pcs` PCs can be driven in `direction` by at most `cus` CUs (copy: 2 PCs per CU)."""
    per_cu = 2 if direction == "copy" else 1
    return pcs % per_cu == 0 and pcs // per_cu <= cus


# ---------------------------------------------------------------- where the model stops changing
EMU_STABLE_REL = 0.01         # default emulated sizes stop where no larger size moves the figure by 1%


def predict_point(plat, kern, params: dict, clock_mhz: float, pt: MemcpyPoint):
    """The model's prediction of one CU's kernel time for a point (the emulator's, harness.runtime.costs):
    its pattern, and its switch target, the costliest of its CUs' (port PC, target PC) pairs, with as
    many CUs on one PC as the most crowded one holds (an explicit PC shared by every CU)."""
    access = {} if pt.pattern == "seq" else {"pattern": pt.pattern, "txn_bytes": pt.txn_bytes,
                                             "stride_bytes": pt.stride_bytes}
    where = placement(kern, plat, pt.target, pt.cu_ids, pt.ports)
    homes = {(cu, p): _pc(kern.args[kern.arg_index(p)].home_for(cu)) for cu, p in where}
    return model.predict_memcpy_placed(plat, memory="hbm", direction=pt.direction, homes=homes, where=where,
                                       width_bits=kern.args[0].width_bits, clock_mhz=clock_mhz,
                                       burst=params["MEMCPY_BURST"], outstanding=params["MEMCPY_OUTSTANDING"],
                                       bytes=pt.bytes_per_pc * pt.kernel_reps, **access)


def point_pcs(kern, plat, pt: MemcpyPoint) -> tuple[int, int]:
    """(port_pc, target_pc) of a point's samples: the PC next to the first driven CU's first port under
    test (in; write: out; bw_memcpy_1's unless --port-pc chose another CU) and the PC its buffer lies
    in (every CU's at the same place from its own port)."""
    first = (pt.first_cu, pt.ports[0])
    return (_pc(kern.args[kern.arg_index(first[1])].home_for(pt.first_cu)),
            placement(kern, plat, pt.target, [pt.first_cu], pt.ports)[first])


def modeled_bandwidth_GBps(plat, kern, params: dict, clock_mhz: float, pt: MemcpyPoint) -> float:
    """What the emulator will report for a point: the model's bytes over dispatch + kernel time."""
    pred = predict_point(plat, kern, params, clock_mhz, pt)
    t = pred.time_s + model.dispatch_overhead(plat).value
    return pt.cus * pt.bytes_per_pc * pt.kernel_reps * (2 if pt.direction == "copy" else 1) / t / 1e9


def modeled_point_GBps(row) -> float:
    """The model's bandwidth for a summary row: its bytes over dispatch + model_time_s (the kernel
    time the bench recorded from harness.model for that point), as the emulator would time it."""
    cus, copy = int(row["cus"]), row["direction"] == "copy"
    moved = cus * int(row["bytes_per_pc"]) * int(row["kernel_reps"]) * (2 if copy else 1)
    t = float(row["model_time_s"]) + model.dispatch_overhead(model.load_platform("u280")).value
    return moved / t / 1e9


def emu_size_limit(plan: "MemcpyPlan", plat, kern, params: dict, clock_mhz: float) -> int | None:
    """The smallest size of the plan from which no larger size's modeled figure differs by more than
    EMU_STABLE_REL, for every direction and PC count; None if only the largest qualifies."""
    sizes = sorted({p.bytes_per_pc for p in plan.points})
    by_key: dict[tuple, dict[int, float]] = {}
    for p in plan.points:
        key = (p.direction, p.pcs, p.pattern, p.txn_bytes, p.stride_bytes)
        by_key.setdefault(key, {})[p.bytes_per_pc] = modeled_bandwidth_GBps(plat, kern, params, clock_mhz, p)
    for i, s in enumerate(sizes[:-1]):
        if all(abs(bw[t] - bw[s]) <= EMU_STABLE_REL * bw[s]
               for bw in by_key.values() if s in bw for t in sizes[i + 1:] if t in bw):
            return s
    return None


# ---------------------------------------------------------------- buffers, made once per run
def buffer_plan(kern, plat, points: list[MemcpyPoint]) -> list[tuple[int, str, int, int]]:
    """(cu, role, bytes, PC) of every buffer one target's points use, as _Buffers allocates them:
    per CU an `in` and an `out` at the largest size any point needs (or one word, unused), the
    ports under test at the target's PC, the others in their port's own; away from the own PCs, a
    read's checksum goes to a word of its own (`sum`) in the out port's PC, never to a buffer
    another CU's data may reach."""
    cus = sorted({cu for p in points for cu in p.cu_ids})
    target = points[0].target
    size = {"in": max([p.bytes_per_pc for p in points if p.direction != "write"] or [WORD_BYTES]),
            "out": max([p.bytes_per_pc for p in points if p.direction != "read"] or [WORD_BYTES])}
    tested = {port for p in points for port in p.ports}
    where = placement(kern, plat, target, cus, tested)
    own = {(cu, r): _pc(kern.args[kern.arg_index(r)].home_for(cu)) for cu in cus for r in ("in", "out")}
    out = [(cu, r, size[r], where.get((cu, r), own[(cu, r)])) for r in ("in", "out") for cu in cus]
    if target != "local" and any(p.direction == "read" for p in points):
        out += [(cu, "sum", WORD_BYTES, own[(cu, "out")]) for cu in cus]
    return out


def pc_loads(kern, plat, points: list[MemcpyPoint]) -> dict[int, int]:
    """{PC: bytes} the buffers of one target's points take in each PC."""
    load: dict[int, int] = {}
    for _, _, n, pc in buffer_plan(kern, plat, points):
        load[pc] = load.get(pc, 0) + n
    return load


class _Buffers:
    """The buffers of one target's points (buffer_plan), allocated once and reused by every point of
    it; inputs made once (distinct per CU and per target), their prefixes used by smaller points."""

    def __init__(self, sess: Session, points: list[MemcpyPoint], seed: int = 2026, group: int = 0):
        kern, plat = sess.design.kernels[KERNEL], model.load_platform("u280")
        bufs: dict[str, dict] = {"in": {}, "out": {}, "sum": {}}      # role -> {CU: buffer}
        for cu, role, n, pc in buffer_plan(kern, plat, points):
            bufs[role][cu] = sess.alloc(KERNEL, cu, "in" if role == "in" else "out", n, pc)
        self.ins, self.outs, self.sums = bufs["in"], bufs["out"], bufs["sum"]
        base = np.random.default_rng(seed).bit_generator.random_raw(next(iter(self.ins.values())).size() // 8)
        self.host_in = {}
        for cu, b in self.ins.items():
            # Each CU gets its own input, and each target its own too: a CU reading another CU's PC,
            # or its own PC instead of the target (where an earlier target's buffer may still lie),
            # fails verification.
            h = np.frombuffer(b.map(), np.uint64)
            key = np.uint64((cu * 0x0101010101010101 ^ group * 0x9E3779B97F4A7C15) & (2 ** 64 - 1))
            np.bitwise_xor(base, key, out=h)
            self.host_in[cu] = h
        del base

    def release(self) -> None:
        """Give the device memory back (the next target places its buffers in other PCs)."""
        self.ins, self.outs, self.sums, self.host_in = {}, {}, {}, {}


# ---------------------------------------------------------------- the bench
def _rep_weight(pt: MemcpyPoint) -> float:
    """Host work of one repetition, for the progress estimate: the kernels' bytes, the verified
    output's bytes (poison, fetch, compare) and a fixed cost per launch."""
    counted = pt.bytes_per_pc * pt.kernel_reps * (2 if pt.direction == "copy" else 1)
    verified = pt.bytes_per_pc if pt.direction != "read" else WORD_BYTES
    return pt.cus * (counted + 3 * verified + (1 << 20))


def point_label(pt: MemcpyPoint) -> str:
    label = f"{pt.direction} {pt.pcs} PC{'s' if pt.pcs != 1 else ''} {size_label(pt.bytes_per_pc)}"
    if pt.pattern != "seq":
        label += f" {pt.pattern} {size_label(pt.txn_bytes)}"
        label += f"/{size_label(pt.stride_bytes)}" if pt.pattern == "stride" else ""
    if pt.port_pc is not None:
        label += f" port PC {pt.port_pc}"
    if pt.target != "local":
        label += f" -> {'PC ' if pt.target.isdigit() else ''}{pt.target}"
    return label


def run(plan: MemcpyPlan, bar=None) -> BenchResult:
    """Run every point of the plan, verified; write and return the run directory.

    bar: a harness.bench.common.Progress (default: one on stderr)."""
    opts = plan.opts
    rt = open_runtime(opts.mode, opts.device, vitis_platform=opts.vitis_platform)
    design, kern, plat, _, _ = memcpy_design(rt.mode)
    need = max((p.first_cu + p.cus for p in plan.points), default=0)
    if need > kern.cus:
        raise UserError(f"the plan needs {need} bw_memcpy CUs but the {rt.mode} design has {kern.cus}; use --pcs up "
                        f"to {kern.cus} (read, write) or {2 * kern.cus} (copy), or --port-pc PCs of those CUs")
    sess = Session(rt, design, opts.xclbin)
    context = make_context("memcpy", rt, sess, design, opts.clock_mhz)
    if any(p.pattern == "random" for p in plan.points):
        context["pattern_seed"] = plan.seed
    params = design.all_params(KERNEL)
    points = list(plan.points)
    notes = list(plan.notes)
    if rt.mode == "emu" and plan.default_sizes:
        limit = emu_size_limit(plan, plat, kern, params, context["clock_mhz"])
        if limit is not None:
            largest = max(p.bytes_per_pc for p in points)
            points = [p for p in points if p.bytes_per_pc <= limit]
            notes.append(f"emulated: default sizes stop at {size_label(limit)}: the model's bandwidth changes by less "
                         f"than {EMU_STABLE_REL:.0%} from there to {size_label(largest)}; --sizes 4K..{size_label(largest)} "
                         "runs them all")
    if rt.mode == "emu" and plan.emu_size:
        points = list(dict.fromkeys(replace(p, bytes_per_pc=plan.emu_size, kernel_reps=plan.emu_reps) for p in points))
        notes.append(f"emulated: the --port-pc matrix at {size_label(plan.emu_size)} per point (default); --sizes sets it")
    context["notes"].extend(notes)
    # the --target-pc values of the run, in order (["local"]: every buffer in its port's own PC)
    context["target_pc"] = list(dict.fromkeys(p.target for p in points))
    if any(p.port_pc is not None for p in points):      # --port-pc: one CU at a time, these ports
        context["port_pc"] = sorted({p.port_pc for p in points})
    writer = RunWriter("memcpy", rt.mode, context, opts.out, SAMPLE_COLUMNS)
    marks = attach_launch_marks(writer, sess)
    with guarded(writer):
        reps = opts.warmup + opts.repeats
        bar = bar or progress(sum(reps * _rep_weight(p) for p in points), f"memcpy ({rt.mode})")
        for n in notes:
            bar.write(f"note: {n}")
        # buffers per target (and per driving CU with --port-pc: one CU's buffers at a time)
        groups = list(dict.fromkeys((p.target, p.first_cu) for p in points))
        point = 0
        for group, key in enumerate(groups):
            mine = [p for p in points if (p.target, p.first_cu) == key]
            bufs = _Buffers(sess, mine, group=group)
            for pt in mine:
                pred = predict_point(plat, kern, params, context["clock_mhz"], pt)
                _run_point(opts, sess, writer, bar, bufs, point, pt, plan.seed,
                           timeout_ms(opts, pred.time_s + model.dispatch_overhead(plat).value, rt.mode),
                           pred.time_s, point_pcs(kern, plat, pt))
                point += 1
            bufs.release()
            del bufs
        bar.close()
        device_times(writer, marks)
        summary = summarize_samples("memcpy", writer.rows)
        writer.finish(summary)
    return BenchResult(writer.path, writer.run_id, summary, rt.timing_source, rt.mode)


def pattern_expectations(pt: MemcpyPoint, host_in: list, seed: int) -> list:
    """(expected words, XOR key) per CU for a stride or random point (harness.bench.reference replays
    the kernel's transactions): read a checksum weighing each word by its visits; write and copy
    every word of the buffer, poison where no transaction wrote."""
    n_words = pt.bytes_per_pc // WORD_BYTES
    args = (pt.pattern, n_words, pt.txn_bytes // WORD_BYTES, (pt.stride_bytes or 0) // WORD_BYTES, seed,
            pt.kernel_reps)
    if pt.direction == "read":
        visits = reference.memcpy_visits(*args)
        return [(reference.memcpy_pattern_read_checksum(h[:n_words * 8], pt.kernel_reps, visits), 0)
                for h in host_in]
    last = reference.memcpy_last_visit(*args)
    if pt.direction == "write":
        want = reference.memcpy_pattern_output("write", n_words, last, POISON_WORD).reshape(-1)
        return [(want, 0)] * len(host_in)
    return [(reference.memcpy_pattern_output("copy", n_words, last, POISON_WORD, h[:n_words * 8]).reshape(-1), 0)
            for h in host_in]


def kernel_args(pt: MemcpyPoint, seed: int) -> list:
    """bw_memcpy's scalars after the buffers: n_words, reps, mode, pattern, txn_words, stride_words, seed."""
    return [pt.bytes_per_pc // WORD_BYTES, pt.kernel_reps, DIRECTIONS[pt.direction], PATTERNS[pt.pattern],
            (pt.txn_bytes or 0) // WORD_BYTES, (pt.stride_bytes or 0) // WORD_BYTES, seed]


def _run_point(opts, sess, writer, bar, bufs: _Buffers, point, pt: MemcpyPoint, seed: int, tmo_ms,
               model_s: float, where: tuple[int, int]):
    direction, pcs, cus, size, reps = pt.direction, pt.pcs, pt.cus, pt.bytes_per_pc, pt.kernel_reps
    n_words = size // WORD_BYTES
    label = point_label(pt)
    bar.point(label)
    ids = list(pt.cu_ids)
    ins = [bufs.ins[cu] for cu in ids]
    outs = [(bufs.sums if direction == "read" and bufs.sums else bufs.outs)[cu] for cu in ids]
    host_in = [bufs.host_in[cu] for cu in ids]
    # What each CU must leave in `out` (expected words, XOR key): read a checksum; write the index
    # pattern of the last repetition; copy the input keyed by the last repetition.
    if pt.pattern != "seq":
        expected = pattern_expectations(pt, host_in, seed)
    elif direction == "read":
        expected = [(read_checksum(h[:size // 8], reps), 0) for h in host_in]
    elif direction == "write":
        expected = [write_expectation(n_words, reps)] * cus
    else:
        key = int(reference.memcpy_copy_key(reps))
        expected = [(h[:size // 8], key) for h in host_in]
    out_bytes = expected[0][0].size * 8
    runs = [sess.run(KERNEL, cu, [ins[i], outs[i], *kernel_args(pt, seed)]) for i, cu in enumerate(ids)]
    h2d = sess.to_device(ins, size) if direction != "write" else 0.0
    moved = cus * size * reps * (2 if direction == "copy" else 1)
    weight = _rep_weight(pt)
    first = True
    figures = []
    for phase, count in (("warmup", opts.warmup), ("measure", opts.repeats)):
        for rep in range(count):
            # Poison the outputs so a launch that skips a word cannot pass as verified.
            sess.poison([(b, out_bytes) for b in outs], POISON_WORD)
            t, wall = sess.launch(runs, tmo_ms, f"memcpy {label}")
            d2h, results = sess.fetch_compare([(b, want, k) for b, (want, k) in zip(outs, expected)])
            bad = [f"{KERNEL}_{cu + 1} output differs from the reference in {n} of {want.size} 64-bit words "
                   f"(first at word {i})" for cu, ((n, i), (want, _)) in zip(ids, zip(results, expected)) if n]
            ok = not bad
            bw = moved / t / 1e9 if ok and t > 0 else None
            writer.add_sample({
                "point": point, "phase": phase, "repetition": rep, "time_s": t, "wall_time_s": wall,
                "h2d_time_s": h2d if first else 0.0, "d2h_time_s": d2h,
                "verified": ok, "error": "; ".join(bad), "timing_source": sess.rt.timing_source,
                "direction": direction, "pcs": pcs, "cus": cus, "bytes_per_pc": size, "kernel_reps": reps,
                "bytes": moved, "bandwidth_GBps": bw, "model_time_s": model_s, "device_time_s": None,
                "pattern": pt.pattern, "txn_bytes": pt.txn_bytes, "stride_bytes": pt.stride_bytes,
                "port_pc": where[0], "target_pc": where[1],
            })
            if phase == "measure":
                figures.append(bw)
            first = False
            bar.update(weight)
    good = [f for f in figures if f is not None]
    fig = f"{float(np.median(good)):.2f} GB/s" if good else "no verified repetition"
    bar.point_done(label, f"{fig}, {len(good)}/{len(figures)} verified")
