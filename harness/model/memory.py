"""Memory bandwidth model: what `bytes` moved by `ports` AXI masters should take.

Every number comes from harness/data/model_params.toml and the platform file.
Equations: harness/docs/model.md.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from harness.errors import UserError
from harness.model import data
from harness.model.platform import Platform, load_platform

DIRECTIONS = ("read", "write", "copy")
PATTERNS = ("seq", "stride", "random")
# Where a port's buffer lies, seen from the HBM switch port the master attaches to: its own PC,
# another PC of the same 4x4 switch group, or a PC of another group (lateral traffic).
TARGETS = ("local", "same-group", "other-group")

# Names of the ceilings (keys of MemPrediction.limits). Kernel side first.
PORT = "port width x clock"
LITTLE_R = "Little's law, reads"
LITTLE_W = "Little's law, writes"
WRITE_GAP = "write burst overhead"
NARROW = "narrow writes (AxSIZE)"
ORDERING = "AXI ordering across PCs"
PC_PEAK = "PC peak"
REFRESH = "refresh"
PC_EFF = "PC efficiency"
TURNAROUND = "read/write turnaround"
ACTIVATE = "random row activations"
STRIDE_ROWS = "strided row activations"
LATERAL = "lateral switch 50%"
STARTUP = "start-up latency (small transfer)"


@dataclass
class MemPrediction(data.Modeled):
    bandwidth_GBps: float      # aggregate over all ports, decimal GB/s, = total bytes / time_s
    steady_GBps: float         # aggregate once streaming (min of the ceilings)
    time_s: float              # time for every port to move `bytes`
    limit: str                 # name of the binding factor
    limits: dict               # name -> aggregate GB/s ceiling of each factor
    explain: dict              # name -> how the ceiling was computed
    inputs: dict
    per_port_GBps: float
    total_bytes: int
    model_version: str = field(default_factory=data.version)
    source: str = "model"


# ---------------------------------------------------------------- validation
def _int(x, what, lo=1, hi=None, hint=""):
    if isinstance(x, bool) or not isinstance(x, (int, float)) or (isinstance(x, float) and not x.is_integer()):
        raise UserError(f"{what} must be a whole number, got {x!r}{hint}")
    x = int(x)
    if x < lo:
        raise UserError(f"{what} must be at least {lo}, got {x}{hint}")
    if hi is not None and x > hi:
        raise UserError(f"{what} must be at most {hi}, got {x}{hint}")
    return x


def _num(x, what, hi=None, unit=""):
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        raise UserError(f"{what} must be a number, got {x!r}")
    if not x > 0:
        raise UserError(f"{what} must be positive, got {x!r}")
    if hi is not None and x > hi:
        raise UserError(f"{what} {x:g}{unit} is above the {hi:g}{unit} this platform can run; use a lower value")
    return float(x)


def _platform(p) -> Platform:
    return p if isinstance(p, Platform) else load_platform(p)


def switch_target(platform, port_pc: int, target_pc: int, memory: str = "hbm") -> str:
    """local | same-group | other-group: PC `target_pc` seen from the switch port next to PC `port_pc`."""
    g = _platform(platform).group(memory)
    for what, pc in (("port_pc", port_pc), ("target_pc", target_pc)):
        _int(pc, what, 0, g.pcs - 1, f" ({g.tag} PCs are 0 to {g.pcs - 1})")
    if port_pc == target_pc:
        return "local"
    if not g.switch_group_pcs or port_pc // g.switch_group_pcs == target_pc // g.switch_group_pcs:
        return "same-group"
    return "other-group"


def predict_memcpy(platform, *, memory="hbm", ports=1, pcs_per_port=1, direction="read", width_bits=512,
                   clock_mhz=300, burst=64, outstanding=32, bytes=None, pattern="seq", txn_bytes=None,
                   stride_bytes=None, pcs=None, cross_group=False, target="local") -> MemPrediction:
    """Predicted aggregate bandwidth of `ports` AXI masters moving `bytes` each.

    ports: AXI masters. read/write: every port reads (writes). copy: ceil(P/2)
    read ports and floor(P/2) write ports moving in lock-step (one word each per
    loop iteration, like the memcpy kernel: P=2 per CU); read and write bytes
    both count in the bandwidth. pcs_per_port: PCs (banks) each port's buffer
    spans. pcs: distinct PCs used in all (default ports x pcs_per_port, capped
    by the platform). cross_group: the ports reach PCs in another 4x4 switch group.
    pattern: seq; stride (a transaction of txn_bytes every stride_bytes); random (transactions of
    txn_bytes at random places). txn_bytes: contiguous bytes per transaction (default one burst).
    target: where each port's buffer lies from its switch port (TARGETS; switch_target):
    other-group is cross_group plus the lateral latency on every round trip.
    """
    p = _platform(platform)
    A = data.params()["axi"]
    if memory not in ("hbm", "ddr"):
        raise UserError(f"memory must be hbm or ddr, got {memory!r}")
    g = p.group(memory)
    M = data.params()["memory"][memory]
    if direction not in DIRECTIONS:
        raise UserError(f"direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}")
    if pattern not in PATTERNS:
        raise UserError(f"pattern must be one of {', '.join(PATTERNS)}, got {pattern!r}")
    ports = _int(ports, "ports", 1, 1024)
    if direction == "copy" and ports < 2:
        raise UserError("copy needs at least 2 ports (one read and one write AXI master; a memcpy CU is "
                        "ports=2)")
    pcs_per_port = _int(pcs_per_port, "pcs_per_port", 1, g.pcs,
                        f" ({p.name} has {g.pcs} {g.tag} banks)")
    widths = A["widths_bits"].value
    if isinstance(width_bits, bool) or width_bits not in widths:
        raise UserError(f"a kernel port cannot be {width_bits!r} bits wide; use one of "
                        f"{', '.join(map(str, widths))}")
    width_bits = int(width_bits)
    clock_mhz = _num(clock_mhz, "clock_mhz", p.max_clock_mhz.value, " MHz")
    max_burst = int(A["max_burst_beats"].value)
    burst = _int(burst, "burst", 1, max_burst, f" beats (AXI4 allows 1..{max_burst})")
    outstanding = _int(outstanding, "outstanding", 1, 4096)
    beat = width_bits // 8
    if bytes is None:
        bytes = int(data.value("memcpy_defaults", "bytes"))
    bytes = _int(bytes, "bytes", 1)
    if bytes % beat:
        raise UserError(f"bytes must be a multiple of the {beat} B port word, got {bytes}")
    if txn_bytes is not None:
        if pattern == "seq":
            raise UserError("txn_bytes applies to --pattern stride or random; for sequential "
                            "traffic set the burst length")
        txn_bytes = _int(txn_bytes, "txn_bytes", beat)
        if txn_bytes % beat:
            raise UserError(f"txn_bytes must be a multiple of the {beat} B port word, got {txn_bytes}")
        if txn_bytes > bytes:
            raise UserError(f"txn_bytes ({txn_bytes}) cannot exceed bytes ({bytes})")
    if pattern == "stride":
        if stride_bytes is None:
            raise UserError("--pattern stride needs a stride in bytes (--stride), e.g. 4096")
        stride_bytes = _int(stride_bytes, "stride_bytes", beat)
        if stride_bytes % beat:
            raise UserError(f"stride_bytes must be a multiple of the {beat} B port word, got {stride_bytes}")
    elif stride_bytes is not None:
        raise UserError("stride_bytes applies to --pattern stride only")
    max_pcs = min(ports * pcs_per_port, g.pcs)
    if pcs is None:
        n_pc = max_pcs
    else:
        n_pc = _int(pcs, "pcs", 1, g.pcs, f" ({p.name} has {g.pcs} {g.tag} banks)")
        if n_pc > ports * pcs_per_port:
            raise UserError(f"pcs ({n_pc}) cannot exceed ports x pcs_per_port ({ports * pcs_per_port})")
    if target not in TARGETS:
        raise UserError(f"target must be one of {', '.join(TARGETS)}, got {target!r}")
    if target != "local" and not g.switch_group_pcs:
        raise UserError(f"target {target} applies to HBM (switch groups); {g.tag} has no switch")
    cross_group = cross_group or target == "other-group"
    if cross_group and not g.switch_group_pcs:
        raise UserError(f"cross_group applies to HBM (switch groups); {g.tag} has no switch")

    # ------------------------------------------------------------ kernel side
    f_hz = clock_mhz * 1e6
    t_ns = 1e3 / clock_mhz
    random = pattern == "random"
    txn_beats = (txn_bytes // beat) if (pattern != "seq" and txn_bytes) else burst
    bl = min(burst, txn_beats)                   # beats per AXI burst actually issued
    burst_bytes = bl * beat
    txn = txn_beats * beat                        # contiguous bytes per random transaction
    n_read = ports if direction == "read" else (0 if direction == "write" else ports - ports // 2)
    n_write = ports - n_read
    idle = M["idle_latency_ns"].value
    lateral_ns = M["lateral_latency_ns"].value if target == "other-group" else 0.0
    idle += lateral_ns                   # each round trip crosses the lateral link
    rtt_r = idle + A["read_overhead_ns"].value + bl * t_ns
    rtt_w = idle + A["write_overhead_ns"].value + A["write_rtt_beat_passes"].value * bl * t_ns
    gap = M["write_burst_gap_cycles"].value
    pc_peak = g.pc_peak_GBps.value
    eff = M["efficiency"].value
    pc_eff = pc_peak * eff
    port_GBps = beat * f_hz / 1e9

    per_port, explain = {}, {}
    per_port[PORT] = port_GBps
    explain[PORT] = f"{ports} x {width_bits}/8 B x {clock_mhz:g} MHz"
    if n_read:
        per_port[LITTLE_R] = outstanding * burst_bytes / rtt_r
        explain[LITTLE_R] = (f"{outstanding} outstanding x {burst_bytes} B / {rtt_r:.0f} ns round trip "
                             f"({idle:g} idle{' incl. lateral' if lateral_ns else ''} + "
                             f"{A['read_overhead_ns'].value:g} AXI + {bl} beats)")
    if n_write:
        per_port[LITTLE_W] = outstanding * burst_bytes / rtt_w
        explain[LITTLE_W] = (f"{outstanding} outstanding x {burst_bytes} B / {rtt_w:.0f} ns round trip "
                             f"({idle:g} idle + {A['write_overhead_ns'].value:g} AXI + "
                             f"{A['write_rtt_beat_passes'].value:g} x {bl} beats)")
        if gap:
            per_port[WRITE_GAP] = port_GBps * bl / (bl + gap)
            explain[WRITE_GAP] = f"{bl}-beat bursts + {gap:g} idle cycles each"
        axsize = M["axsize_bytes"].value
        if beat < axsize:
            per_port[NARROW] = pc_eff * beat / axsize
            explain[NARROW] = f"{beat} B beats, each a {axsize:g} B HBM access"
    if random and pcs_per_port > 1:
        t_service = max(M["random_txn_ns"].value, txn / pc_eff)
        t_txn = (pcs_per_port - 1) / pcs_per_port * idle + t_service
        per_port[ORDERING] = txn / t_txn
        explain[ORDERING] = (f"random {txn} B over {pcs_per_port} PCs: a switch of PC waits for the "
                             f"previous reads ({idle:g} ns) {pcs_per_port - 1}/{pcs_per_port} of the time")
    limits = {k: v * ports for k, v in per_port.items()}

    # ------------------------------------------------------------ memory side
    n_active = n_pc if random else min(ports, n_pc)
    refresh = 1 - M["refresh_block_ns"].value / M["refresh_interval_ns"].value
    limits[PC_PEAK] = n_active * pc_peak
    explain[PC_PEAK] = f"{n_active} {g.tag} {'PCs' if memory == 'hbm' else 'banks'} x {pc_peak:g} GB/s (spec)"
    limits[REFRESH] = limits[PC_PEAK] * refresh
    explain[REFRESH] = (f"{M['refresh_block_ns'].value:g} ns blocked every {M['refresh_interval_ns'].value:g} ns")
    mem = limits[PC_PEAK] * eff
    limits[PC_EFF] = mem
    how = {"model": "calibrated", "measured": f"fitted on run(s) {M['efficiency'].run_id}"}.get(
        M["efficiency"].source, M["efficiency"].source)       # a --params file's value says where it came from
    explain[PC_EFF] = f"controller efficiency {eff:g} ({how}, includes refresh)"
    if direction == "copy" and n_pc < 2:
        tau = M["rw_turnaround_efficiency"].value
        mem *= tau
        limits[TURNAROUND] = mem
        explain[TURNAROUND] = f"reads and writes share one {g.tag} bank: x {tau:g}"
    if random:
        limits[ACTIVATE] = n_active * txn / M["random_txn_ns"].value
        explain[ACTIVATE] = f"{n_active} x {txn} B per {M['random_txn_ns'].value:g} ns row activation"
    if pattern == "stride":
        # A transaction opens a new row when the stride leaves the row it is in: a fraction
        # min(1, stride / row) of the transactions pays one activation (random_txn_ns).
        row = M["row_bytes"].value
        frac = min(1.0, stride_bytes / row)
        limits[STRIDE_ROWS] = n_active * txn / (M["random_txn_ns"].value * frac)
        explain[STRIDE_ROWS] = (f"{n_active} x {txn} B per {frac:.3g} x {M['random_txn_ns'].value:g} ns row "
                                f"activation ({stride_bytes} B stride, {row:g} B rows)")
    if g.switch_group_pcs and (cross_group or pcs_per_port > g.switch_group_pcs):
        lat = M["lateral_efficiency"].value
        frac = 1.0 if cross_group else (pcs_per_port - g.switch_group_pcs) / pcs_per_port
        limits[LATERAL] = mem / (1 + frac * (1 / lat - 1))
        explain[LATERAL] = f"{frac:.0%} of the traffic crosses 4x4 switch groups at {lat:.0%}"

    limit = min(limits, key=limits.get)
    steady = limits[limit]
    per_stream = steady / ports
    startup_ns = idle + (A["write_overhead_ns"].value if direction == "write" else A["read_overhead_ns"].value) + t_ns
    stream_s = bytes / (per_stream * 1e9)
    time_s = startup_ns * 1e-9 + stream_s
    if startup_ns * 1e-9 > stream_s:
        limit = STARTUP
    total = ports * bytes
    inputs = dict(platform=p.name, memory=memory, ports=ports, pcs_per_port=pcs_per_port, pcs=n_pc,
                  direction=direction, width_bits=width_bits, clock_mhz=clock_mhz, burst=burst,
                  outstanding=outstanding, bytes=bytes, pattern=pattern,
                  txn_bytes=txn_bytes if pattern != "seq" else None,
                  stride_bytes=stride_bytes,
                  cross_group=bool(cross_group), target=target, read_ports=n_read, write_ports=n_write)
    return MemPrediction(total / time_s / 1e9, steady, time_s, limit, limits, explain, inputs,
                         per_stream, total)


def predict_memcpy_cu(platform, *, direction="read", target="local", crowd=1, own_pcs=None, **kw) -> MemPrediction:
    """One memcpy CU (1 port; copy: 2) whose buffers lie at `target` from its switch ports, in
    `own_pcs` distinct PCs (default: one per port), shared with other CUs launched with it so
    that `crowd` CUs use the most crowded PC (its bandwidth is split: the prediction is for
    their ports together, each moving `bytes`, the same time per port)."""
    per_cu = 2 if direction == "copy" else 1
    own = per_cu if own_pcs is None else own_pcs
    shared = crowd > 1 or own < per_cu
    return predict_memcpy(platform, ports=per_cu * max(1, crowd), pcs=own if shared else None,
                          direction=direction, target=target, **kw)


# Ports of a memcpy CU a direction moves (the kernel's contract, kernels/memcpy/memcpy.cpp): read
# streams `in`, write `out`, copy both.
MEMCPY_PORTS = {"read": ("in",), "write": ("out",), "copy": ("in", "out")}


def target_pc_for(platform, target: str, port_pc: int, memory: str = "hbm") -> int:
    """The PC a buffer goes to for `target`, seen from the switch port next to PC `port_pc`.

    local: that PC. same-group: its mirror in the 4x4 switch group (0<->3, 1<->2); other-group:
    its mirror in the pair of neighbouring groups (0<->7, 1<->6, ...: one lateral hop). A mirror
    swaps PCs in pairs, so the CUs' buffers land in distinct PCs, one per PC as in the local case,
    and it sends a CU's `in` to another CU's `out` PC: a CU that used its own PCs instead would
    read a poisoned output and leave its own output poisoned (verification fails). A number: that PC."""
    g = _platform(platform).group(memory)
    n = g.switch_group_pcs or g.pcs
    if target in ("same-group", "other-group"):
        span = n if target == "same-group" else 2 * n
        base = port_pc - port_pc % span
        pc = base + span - 1 - (port_pc - base)
        return pc if pc < g.pcs else port_pc
    if target == "local":
        return port_pc
    return int(target)


def target_of(platform, port_pc, target_pc, requested=None) -> str:
    """The --target-pc value a (port_pc, target_pc) pair of a memcpy sample came from: the relation
    whose placement puts it there, else the PC itself (missing columns: local). requested: the run's
    --target-pc values (context.json target_pc): a PC number the run asked for and whose relation it
    did not is that number (for copy it differs: both buffers in that one PC)."""
    if port_pc is None or target_pc is None or port_pc != port_pc or target_pc != target_pc:
        return "local"
    port_pc, target_pc = int(port_pc), int(target_pc)
    rel = switch_target(platform, port_pc, target_pc)
    if requested is not None and str(target_pc) in requested and rel not in requested:
        return str(target_pc)
    return rel if target_pc_for(platform, rel, port_pc) == target_pc else str(target_pc)


def predict_memcpy_placed(platform, *, direction: str, homes: dict, where: dict, **kw) -> MemPrediction:
    """memcpy CUs launched together whose ports under test sit next to PC homes[(cu, port)] and whose
    buffers lie in PC where[(cu, port)]: one CU's prediction at the costliest of their switch targets,
    with as many CUs on one PC as the most crowded holds (predict_memcpy_cu)."""
    worst = max((switch_target(platform, homes[k], where[k]) for k in where), key=TARGETS.index)
    crowd = max(len({cu for (cu, _), v in where.items() if v == pc}) for pc in set(where.values()))
    first = min(cu for cu, _ in where)
    own = len({v for (cu, _), v in where.items() if cu == first})   # PCs of one CU's buffers (copy: 1 if in = out)
    return predict_memcpy_cu(platform, direction=direction, target=worst, crowd=crowd, own_pcs=own, **kw)


def port_rate_GBps(platform, *, memory="hbm", direction="read", width_bits=512, clock_mhz=300, burst=16,
                   outstanding=16, burst_beats=None) -> float:
    """Steady bandwidth of one AXI port on its own PC (used by the GEMM/elementwise models)."""
    bl = burst if burst_beats is None else max(1, min(burst, burst_beats))
    w = width_bits // 8
    if direction == "copy":
        pred = predict_memcpy(platform, memory=memory, ports=2, direction="copy", width_bits=width_bits,
                              clock_mhz=clock_mhz, burst=bl, outstanding=outstanding, bytes=w * bl)
    else:
        pred = predict_memcpy(platform, memory=memory, ports=1, direction=direction, width_bits=width_bits,
                              clock_mhz=clock_mhz, burst=bl, outstanding=outstanding, bytes=w * bl)
    return pred.steady_GBps / pred.inputs["ports"]


def first_word_s(platform, memory="hbm", direction="read", clock_mhz=300) -> float:
    """Latency before the first word of a burst-load arrives (read) or is accepted (write)."""
    A = data.params()["axi"]
    M = data.params()["memory"][memory]
    ovh = A["write_overhead_ns"].value if direction == "write" else A["read_overhead_ns"].value
    return (M["idle_latency_ns"].value + ovh + 1e3 / clock_mhz) * 1e-9
