"""GEMM, elementwise (bias+GELU), dispatch and PCIe models. Equations: harness/docs/model.md."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from harness.errors import UserError
from harness.figures import Figure
from harness.model import data
from harness.model.memory import _int, _num, _platform, first_word_s, port_rate_GBps
from harness.model.platform import DTYPES, dtype_figure

EPILOGUES = ("none", "bias", "bias_gelu")
# Build parameters of kernels/designs/gemm.toml the model uses (all required in `params`).
GEMM_PARAMS = ("GEMM_ROWS", "GEMM_COLS", "GEMM_TILE_M", "GEMM_TILE_N", "GEMM_TILE_K", "GEMM_B_PORTS",
               "GEMM_EPI_LANES", "GEMM_ACC_LATENCY", "GEMM_DSP_PER_MAC", "GEMM_DSP_RESERVE", "GEMM_BURST",
               "GEMM_OUTSTANDING", "GEMM_PORT_BITS")
WORD_BYTES = 64            # every port moves ap_uint<512> words (GEMM_PORT_BITS, checked)


def _check_port_bits(params: dict, key: str) -> None:
    if int(params[key]) != WORD_BYTES * 8:
        raise UserError(f"{key} = {params[key]}: the kernels' ports are ap_uint<512> words; use 512")
OUT_LANES = 16             # 32-bit outputs per C word


def _memory_kind(p, memory):
    if memory is not None:
        p.group(memory)
        return memory
    return "hbm" if "hbm" in p.groups else "ddr"


def _clock(p, clock_mhz):
    if clock_mhz is None:
        return float(p.clock_mhz.value)
    return _num(clock_mhz, "clock_mhz", p.max_clock_mhz.value, " MHz")


def _dtype(dtype):
    if dtype not in DTYPES:
        raise UserError(f"unknown dtype {dtype!r}; use one of {', '.join(DTYPES)}")
    return dtype


def _cdiv(a: int, b: int) -> int:
    return -(-a // b)


def split_columns(N: int, cus: int, unit: int) -> list[tuple[int, int]]:
    """[(n_start, n_count)] per CU: N dealt in whole groups of `unit` columns (the array's width),
    as evenly as possible, the first CUs taking one group more; a CU may get none (count 0).
    The host (harness.bench.gemm_layout) splits exactly this way."""
    groups = _cdiv(N, unit)
    base, extra = divmod(groups, cus)
    out, start = [], 0
    for c in range(cus):
        cnt = max(0, min(N - start, (base + (1 if c < extra else 0)) * unit))
        out.append((start, cnt))
        start += cnt
    return out


@dataclass(frozen=True)
class GemmDesign:
    """What the model needs of a GEMM design: the kernel's build parameters (kernels/designs/gemm.toml)
    and its CU count, plus the structural options of other designs (the published references)."""
    rows: int
    cols: int
    tm: int
    tn: int
    tk: int
    b_ports: int
    epi_lanes: int
    acc_latency: int
    dsp_per_mac: float
    dsp_reserve: int
    burst: int
    outstanding: int
    cus: int
    overlap_loads: bool = True      # chunk loads double-buffered behind compute
    overlap_store: bool = True      # a tile's store runs during the next tile's first chunk
    c_read: bool = False            # reads C too (C = A B + beta C), in the store stage
    split: str = "n"                # 'n': N split over the CUs; 'replicate': every CU does the whole GEMM

    @classmethod
    def from_params(cls, params: dict, cus: int, **structure) -> "GemmDesign":
        missing = [k for k in GEMM_PARAMS if k not in params]
        if missing:
            raise UserError(f"GEMM design parameters missing: {', '.join(missing)} (kernels/designs/gemm.toml)")
        _check_port_bits(params, "GEMM_PORT_BITS")
        v = {k: params[k] for k in GEMM_PARAMS}
        for k in GEMM_PARAMS:
            if k != "GEMM_DSP_PER_MAC":
                v[k] = _int(v[k], k, 0 if k == "GEMM_DSP_RESERVE" else 1)
        d = cls(v["GEMM_ROWS"], v["GEMM_COLS"], v["GEMM_TILE_M"], v["GEMM_TILE_N"], v["GEMM_TILE_K"],
                v["GEMM_B_PORTS"], v["GEMM_EPI_LANES"], v["GEMM_ACC_LATENCY"],
                _num(float(v["GEMM_DSP_PER_MAC"]), "GEMM_DSP_PER_MAC"), v["GEMM_DSP_RESERVE"],
                v["GEMM_BURST"], v["GEMM_OUTSTANDING"], _int(cus, "cus", 1, 64), **structure)
        if d.tm % d.rows or d.tn % d.cols:
            raise UserError(f"GEMM tiles {d.tm}x{d.tn} must be multiples of the array {d.rows}x{d.cols}")
        if d.burst > data.value("axi", "max_burst_beats"):
            raise UserError(f"GEMM burst {d.burst} exceeds the AXI4 limit of 256 beats")
        return d

    @property
    def macs(self) -> int:
        return self.rows * self.cols


@dataclass
class GemmPrediction(data.Modeled):
    time_s: float
    gflops: float
    bound: str                  # 'compute' | 'memory' | 'latency': what the critical path spends most on
    pipeline_fill_s: float      # every pipeline fill on the critical path (steps, prologue, epilogue)
    cycles: int
    compute_s: float            # critical-path time in steps that compute bounds
    memory_s: float             # critical-path time in steps that loads or stores bound
    latency_s: float            # exposed time: first load, last store, per-step overheads
    bytes: int                  # DRAM traffic of all CUs (A and B re-read per tile)
    flop: int                   # 2 M N K (useful, not padded)
    kernel_peak_GFLOPps: float  # CUs x MACs x 2 x clock
    dsps: float                 # MAC DSPs + reserve, all CUs
    inputs: dict
    pipeline_depth_s: float = 0.0          # one pass through the MAC pipeline and the epilogue
    device_peak_GFLOPps: float = 0.0       # the device's DSPs at this dtype's DSPs per MAC x 2 x clock
    fraction_of_kernel_peak: float = 0.0
    fraction_of_device_peak: float = 0.0
    cus: int = 1
    per_cu: list = field(default_factory=list)   # [{cu, n_start, N, time_s, flop, bytes, gflops}]
    model_version: str = field(default_factory=data.version)
    source: str = "model"


@dataclass
class _Rates:
    rd: float       # cycles per word on one read port
    wr: float       # cycles per word on the write port
    lat_r: float    # first-word latency of a read stream, cycles
    lat_w: float    # write response latency, cycles
    fill: float     # fill of one pipelined load/store loop
    step: float     # handshake between steps
    depth: float    # compute pipeline depth
    epi_depth: float


def _cu_time(d: GemmDesign, M: int, K: int, N: int, epilogue: str, eb: int, rt: _Rates) -> dict:
    """Cycles of one CU computing M x K x N (kernels/gemm/gemm.cpp "Structure")."""
    la = WORD_BYTES // eb
    mts = [(d.tm, M // d.tm)] if M // d.tm else []
    if M % d.tm:
        mts.append((M % d.tm, 1))
    nts = [min(d.tn, N - n0) for n0 in range(0, N, d.tn)]
    kcs = [(d.tk, K // d.tk)] if K // d.tk else []
    if K % d.tk:
        kcs.append((K % d.tk, 1))
    ii_st = 1 if epilogue == "none" else OUT_LANES // d.epi_lanes

    def comp(mv, nv, kv):
        g = _cdiv(mv, d.rows) * _cdiv(nv, d.cols)
        return kv * max(g, d.acc_latency) + rt.depth

    def load(mv, nv, kv):
        a = mv * _cdiv(kv, la) * rt.rd + rt.lat_r + rt.fill
        b = kv * _cdiv(_cdiv(nv, la), d.b_ports) * rt.rd + rt.lat_r + rt.fill
        return max(a, b)

    def load_bytes(mv, nv, kv):
        return WORD_BYTES * (mv * _cdiv(kv, la) + d.b_ports * kv * _cdiv(_cdiv(nv, la), d.b_ports))

    def store(mv, nv):
        # bias, then the tile's rows: consecutive words of C's block (packed C), one stream
        t = 0.0
        if epilogue != "none":
            t += _cdiv(nv, la) * rt.rd + rt.lat_r + rt.fill
        per_word = max(ii_st, rt.wr, rt.rd if d.c_read else 0)
        return t + mv * _cdiv(nv, OUT_LANES) * per_word + rt.lat_w + rt.fill + rt.epi_depth

    def store_bytes(mv, nv):
        nw = _cdiv(nv, OUT_LANES)
        return WORD_BYTES * (mv * nw * (2 if d.c_read else 1) + (_cdiv(nv, la) if epilogue != "none" else 0))

    # The tiles in order: each M tile runs every N tile; an M tile class repeats `cnt` times.
    seq = []                                    # [(mv, nv, count)] with the count of repetitions
    for mv, cnt in mts:
        for nv in nts:
            seq.append((mv, nv, cnt))
    acc = {"total": 0.0, "compute": 0.0, "memory": 0.0, "latency": 0.0, "fill": 0.0, "bytes": 0.0}

    def add(kind, cycles, times, fill=0.0):
        acc["total"] += cycles * times
        acc[kind] += cycles * times
        acc["fill"] += fill * times

    # The K chunks of one tile as (kv, kv of the next chunk or None at the tile's end, first?, count).
    ksteps = []
    for r, (kv, c) in enumerate(kcs):
        after_run = kcs[r + 1][0] if r + 1 < len(kcs) else None
        first = r == 0
        if c == 1:
            ksteps.append((kv, after_run, first, 1))
        else:
            ksteps.append((kv, kv, first, 1))
            if c > 2:
                ksteps.append((kv, kv, False, c - 2))
            ksteps.append((kv, after_run, False, 1))

    def tile(prev, cur, nxt, times):
        mv, nv = cur
        for kv, nk, first, cnt in ksteps:
            acc["bytes"] += load_bytes(mv, nv, kv) * cnt * times
            c = comp(mv, nv, kv)
            if d.overlap_loads:
                parts = {"compute": c}
                if nk is not None:
                    parts["memory"] = load(mv, nv, nk)
                elif nxt is not None:
                    parts["memory"] = load(nxt[0], nxt[1], kcs[0][0])
                if d.overlap_store and first and prev is not None:
                    parts["memory"] = max(parts.get("memory", 0.0), store(*prev))
                kind = max(parts, key=parts.get)
                add(kind, parts[kind], cnt * times, rt.depth if kind == "compute" else rt.fill)
            else:
                add("memory", load(mv, nv, kv), cnt * times, rt.fill)
                add("compute", c, cnt * times, rt.depth)
            add("latency", rt.step, cnt * times)
        acc["bytes"] += store_bytes(mv, nv) * times
        if not d.overlap_store:
            add("memory", store(mv, nv), times, rt.fill + rt.epi_depth)

    # prologue: the first chunk's load is exposed (double-buffered designs; the others count it per step)
    first = seq[0]
    if d.overlap_loads:
        add("latency", load(first[0], first[1], kcs[0][0]), 1, rt.fill)
    # walk the tile sequence; a repeated M tile class: its first repetition follows the previous class
    flat = []                                   # [(prev, tile, next, times)]
    groups = []
    i = 0
    while i < len(seq):
        j = i
        while j < len(seq) and seq[j][2] == seq[i][2] and seq[j][0] == seq[i][0]:
            j += 1
        groups.append(([(mv, nv) for mv, nv, _ in seq[i:j]], seq[i][2]))
        i = j
    for gi, (tiles, reps) in enumerate(groups):
        before = groups[gi - 1][0][-1] if gi > 0 else None
        after = groups[gi + 1][0][0] if gi + 1 < len(groups) else None
        n = len(tiles)
        for r_kind, times in (("first", 1), ("middle", reps - 2), ("last", 1 if reps > 1 else 0)):
            if times <= 0:
                continue
            for t in range(n):
                if t > 0:
                    prev = tiles[t - 1]
                elif r_kind == "first":
                    prev = before
                else:
                    prev = tiles[-1]
                if t + 1 < n:
                    nxt = tiles[t + 1]
                elif r_kind == "last" or reps == 1:
                    nxt = after
                else:
                    nxt = tiles[0]
                flat.append((prev, tiles[t], nxt, times))
    for prev, cur, nxt, times in flat:
        tile(prev, cur, nxt, times)
    last = seq[-1]
    if d.overlap_store:
        add("latency", store(last[0], last[1]), 1, rt.fill + rt.epi_depth)
    return acc


def predict_gemm(platform, *, dtype, M, K, N, params, cus, epilogue="none", clock_mhz=None,
                 port_bandwidth_GBps=None, memory=None, macs_per_dsp=None, structure=None) -> GemmPrediction:
    """Time of one GEMM on all CUs of the design (dispatch not included). Structure: harness/docs/model.md.

    params: the design's build parameters (kernels/designs/gemm.toml names, GEMM_PARAMS); the caller
    reads them from the design file (harness.designs.gemm_model_args): the model never does.
    cus: CUs the GEMM is split over (1 = one CU's launch, as the emulator times each CU).
    structure: GemmDesign options of other designs. macs_per_dsp: overrides the design's DSPs per MAC
    in the DSP count."""
    p = _platform(platform)
    dtype = _dtype(dtype)
    M, K, N = (_int(x, n, 1) for x, n in ((M, "M"), (K, "K"), (N, "N")))
    if epilogue not in EPILOGUES:
        raise UserError(f"epilogue must be one of {', '.join(EPILOGUES)}, got {epilogue!r}")
    if cus is None:
        raise UserError("the GEMM model needs the design's CU count (cus); pass the design's")
    d = GemmDesign.from_params(dict(params or {}), cus, **(structure or {}))
    if macs_per_dsp is not None:
        d = GemmDesign(**{**d.__dict__, "dsp_per_mac": 1 / _num(macs_per_dsp, "macs_per_dsp")})
    clk = _clock(p, clock_mhz)
    f_hz = clk * 1e6
    mem = _memory_kind(p, memory)
    dsps = d.cus * (d.macs * d.dsp_per_mac + d.dsp_reserve)
    if dsps > p.dsp_available.value:
        raise UserError(f"the GEMM design needs about {dsps:,.0f} DSPs ({d.cus} CUs of {d.rows}x{d.cols} MACs) "
                        f"but {p.name} has {p.dsp_available.value:,.0f} for kernels; use a smaller array")
    eb = int(dtype_figure(dtype, "elem_bytes").value)
    G = data.params()["gemm"]
    if port_bandwidth_GBps is not None:
        r_rd = r_wr = _num(port_bandwidth_GBps, "port_bandwidth_GBps")
    else:
        kw = dict(memory=mem, width_bits=WORD_BYTES * 8, clock_mhz=clk, burst=d.burst, outstanding=d.outstanding)
        r_rd = port_rate_GBps(p, direction="read", **kw)
        r_wr = port_rate_GBps(p, direction="write", **kw)
    word_s = WORD_BYTES / f_hz / 1e9
    ovh = G["loop_overhead_cycles"].value
    rt = _Rates(rd=max(1.0, WORD_BYTES / (r_rd * 1e9 / f_hz)), wr=max(1.0, WORD_BYTES / (r_wr * 1e9 / f_hz)),
                lat_r=first_word_s(p, mem, "read", clk) * f_hz, lat_w=first_word_s(p, mem, "write", clk) * f_hz,
                fill=ovh, step=ovh,
                depth=ovh + dtype_figure(dtype, "mul_latency").value + dtype_figure(dtype, "add_latency").value,
                epi_depth={"none": ovh, "bias": G["bias_depth_cycles"].value,
                           "bias_gelu": G["gelu_depth_cycles"].value}[epilogue])
    del word_s
    if d.split == "replicate":
        parts = [(0, N)] * d.cus
    else:
        parts = split_columns(N, d.cus, d.cols)
    per_cu, tot = [], {"compute": 0.0, "memory": 0.0, "latency": 0.0, "fill": 0.0}
    worst, nbytes = None, 0
    for ci, (n0, nc) in enumerate(parts):
        if nc == 0:
            per_cu.append({"cu": ci, "n_start": n0, "N": 0, "time_s": 0.0, "flop": 0, "bytes": 0, "gflops": None})
            continue
        a = _cu_time(d, M, K, nc, epilogue, eb, rt)
        t = a["total"] / f_hz
        fl = 2 * M * K * nc
        per_cu.append({"cu": ci, "n_start": n0, "N": nc, "time_s": t, "flop": fl, "bytes": int(a["bytes"]),
                       "gflops": fl / t / 1e9})
        nbytes += int(a["bytes"])
        if worst is None or a["total"] > worst["total"]:
            worst = a
    cyc = worst["total"]
    time_s = cyc / f_hz
    flop = 2 * M * N * K * (d.cus if d.split == "replicate" else 1)
    parts_s = {k: worst[k] / f_hz for k in ("compute", "memory", "latency")}
    bound = max(parts_s, key=parts_s.get)
    kpeak = d.cus * d.macs * 2 * f_hz / 1e9
    dpeak = p.dsp_count.value / d.dsp_per_mac * 2 * f_hz / 1e9
    gflops = flop / time_s / 1e9
    inputs = dict(platform=p.name, dtype=dtype, M=M, K=K, N=N, epilogue=epilogue, clock_mhz=clk, memory=mem,
                  cus=d.cus, rows=d.rows, cols=d.cols, macs_per_cu=d.macs, tile_m=d.tm, tile_n=d.tn, tile_k=d.tk,
                  b_ports=d.b_ports, epi_lanes=d.epi_lanes, acc_latency=d.acc_latency, dsp_per_mac=d.dsp_per_mac,
                  dsp_reserve=d.dsp_reserve, burst=d.burst, outstanding=d.outstanding, elem_bytes=eb,
                  overlap_loads=d.overlap_loads, overlap_store=d.overlap_store, c_read=d.c_read, split=d.split,
                  port_read_GBps=r_rd, port_write_GBps=r_wr, pipeline_depth_cycles=rt.depth,
                  port_bandwidth_GBps=port_bandwidth_GBps)
    return GemmPrediction(time_s, gflops, bound, worst["fill"] / f_hz, round(cyc), parts_s["compute"],
                          parts_s["memory"], parts_s["latency"], nbytes, flop, kpeak, dsps, inputs,
                          pipeline_depth_s=(rt.depth + rt.epi_depth) / f_hz, device_peak_GFLOPps=dpeak,
                          fraction_of_kernel_peak=gflops / kpeak, fraction_of_device_peak=gflops / dpeak,
                          cus=d.cus, per_cu=per_cu)


def gemm_pipeline_depth_s(platform, *, dtype, epilogue="none", clock_mhz=None) -> float:
    """One pass through the GEMM's MAC pipeline and epilogue, depth / clock: the batch-1 latency floor
    beside the throughput-derived time (predict_gemm's pipeline_depth_s; needs no design parameters,
    so runs of any design can be analysed)."""
    p = _platform(platform)
    clk = _clock(p, clock_mhz)
    G = data.params()["gemm"]
    ovh = G["loop_overhead_cycles"].value
    depth = ovh + dtype_figure(_dtype(dtype), "mul_latency").value + dtype_figure(dtype, "add_latency").value
    epi = {"none": ovh, "bias": G["bias_depth_cycles"].value, "bias_gelu": G["gelu_depth_cycles"].value}[epilogue]
    return (depth + epi) / (clk * 1e6)


REFERENCE_DESIGNS = ("hpcc_u280", "autosa_u250")


def predict_reference_design(name: str) -> dict:
    """A published GEMM design modeled with its published parameters (model_params.toml
    [reference_designs]), beside its published GFLOP/s."""
    refs = data.read_toml(data.PARAMS_FILE).get("reference_designs", {})
    if name not in refs:
        raise UserError(f"unknown reference design {name!r}; use one of {', '.join(refs)}")
    r = refs[name]
    pub = data.params()["reference_designs"][name]["published_gflops"]
    M, K, N = r["shape"]
    g = predict_gemm(r["platform"], dtype=r["dtype"], M=M, K=K, N=N, params=r["params"], cus=r["cus"],
                     clock_mhz=r["clock_mhz"], memory=r["memory"], structure=r["structure"])
    out = g.to_dict()
    out.update(reference_design=name, description=r["description"], published_gflops=pub.value,
               published_source=pub.detail, model_error=g.gflops / pub.value - 1)
    return out


@dataclass
class ElementwisePrediction(data.Modeled):
    time_s: float
    bound: str
    pipeline_fill_s: float
    cycles: int
    compute_s: float
    memory_s: float
    latency_s: float
    bytes: int
    bandwidth_GBps: float       # bytes / time_s
    inputs: dict
    model_version: str = field(default_factory=data.version)
    source: str = "model"

    def __float__(self):
        return float(self.time_s)


def predict_elementwise(platform, *, M, N, elem_bytes=4, clock_mhz=None, params=None, port_bandwidth_GBps=None,
                        epilogue="bias_gelu", memory=None) -> ElementwisePrediction:
    """One CU of the unfused bias(+GELU) kernel over an M x N output matrix in memory (kernels/gemm/bias_gelu.cpp):
    per block of GEMM_TILE_N columns, load the block's bias, then stream its M rows (read C, write out).

    elem_bytes: bytes of one output element (4). params: the design's build parameters (GEMM_TILE_N,
    GEMM_EPI_LANES, GEMM_BURST, GEMM_OUTSTANDING; the caller reads them from the design file)."""
    p = _platform(platform)
    M, N = _int(M, "M", 1), _int(N, "N", 1)
    elem_bytes = _int(elem_bytes, "elem_bytes", 1, 8)
    if epilogue not in ("bias", "bias_gelu"):
        raise UserError(f"the elementwise epilogue must be bias or bias_gelu, got {epilogue!r}")
    need = ("GEMM_TILE_N", "GEMM_EPI_LANES", "GEMM_BURST", "GEMM_OUTSTANDING", "GEMM_PORT_BITS")
    missing = [k for k in need if k not in (params or {})]
    if missing:
        raise UserError(f"the elementwise model needs the design's {', '.join(missing)} (kernels/designs/gemm.toml)")
    _check_port_bits(params, "GEMM_PORT_BITS")
    tn, lanes_epi = _int(params["GEMM_TILE_N"], "GEMM_TILE_N"), _int(params["GEMM_EPI_LANES"], "GEMM_EPI_LANES")
    burst, outstanding = _int(params["GEMM_BURST"], "GEMM_BURST"), _int(params["GEMM_OUTSTANDING"], "GEMM_OUTSTANDING")
    clk = _clock(p, clock_mhz)
    f_hz = clk * 1e6
    mem = _memory_kind(p, memory)
    G = data.params()["gemm"]
    lanes = WORD_BYTES // elem_bytes                   # outputs per word (16)
    if port_bandwidth_GBps is not None:
        r_copy = r_read = _num(port_bandwidth_GBps, "port_bandwidth_GBps")
    else:
        kw = dict(memory=mem, width_bits=WORD_BYTES * 8, clock_mhz=clk, burst=burst, outstanding=outstanding)
        r_copy = port_rate_GBps(p, direction="copy", **kw)
        r_read = port_rate_GBps(p, direction="read", **kw)
    word_copy = max(1.0, WORD_BYTES / (r_copy * 1e9 / f_hz))     # in and out on their own PCs, lock-step
    word_read = max(1.0, WORD_BYTES / (r_read * 1e9 / f_hz))
    ii = lanes // lanes_epi
    lat = (first_word_s(p, mem, "read", clk) + first_word_s(p, mem, "write", clk)) * f_hz
    ovh = G["loop_overhead_cycles"].value
    depth = G["gelu_depth_cycles"].value if epilogue == "bias_gelu" else G["bias_depth_cycles"].value
    comp = memc = latc = fillc = 0.0
    for n0 in range(0, N, tn):
        nv = min(tn, N - n0)
        words = M * _cdiv(nv, lanes)
        comp += words * ii
        memc += max(0.0, words * word_copy - words * ii)          # beyond the epilogue rate
        latc += _cdiv(nv, lanes) * word_read + first_word_s(p, mem, "read", clk) * f_hz + lat
        fillc += 2 * ovh + depth
    time_c = comp + memc + latc + fillc
    n = M * N
    nbytes = 2 * n * elem_bytes + N * elem_bytes
    parts = {"compute": comp, "memory": memc, "latency": latc + fillc}
    inputs = dict(platform=p.name, M=M, N=N, elem_bytes=elem_bytes, clock_mhz=clk, memory=mem, epilogue=epilogue,
                  lanes=lanes, epi_lanes=lanes_epi, tile_n=tn, burst=burst, outstanding=outstanding,
                  port_bandwidth_GBps=port_bandwidth_GBps)
    time_s = time_c / f_hz
    return ElementwisePrediction(time_s, max(parts, key=parts.get), fillc / f_hz, round(time_c), comp / f_hz,
                                 memc / f_hz, (latc + fillc) / f_hz, nbytes, nbytes / time_s / 1e9, inputs)


# ---------------------------------------------------------------- flops (compute ceiling)
FLOPS_PARAMS = ("FLOPS_LANES", "FLOPS_BLOCK_WORDS", "FLOPS_PORTS", "FLOPS_ACC_LATENCY", "FLOPS_DSP_PER_MAC",
                "FLOPS_DSP_RESERVE", "FLOPS_BURST", "FLOPS_OUTSTANDING", "FLOPS_PORT_BITS")


@dataclass
class FlopsPrediction(data.Modeled):
    time_s: float
    gflops: float
    bandwidth_GBps: float       # bytes read + written / time
    oi_FLOPpB: float
    bound: str                  # 'compute' | 'memory' | 'latency'
    cycles: int
    flop: int
    bytes: int
    kernel_peak_GFLOPps: float  # CUs x lanes x 2 x clock
    device_peak_GFLOPps: float  # the device's DSPs / DSPs per MAC x 2 x clock
    dsps: float
    inputs: dict
    model_version: str = field(default_factory=data.version)
    source: str = "model"


def predict_flops(platform, *, dtype, n_words, f, params, cus, clock_mhz=None, memory=None) -> FlopsPrediction:
    """Time of one launch of the flops kernel on `cus` CUs, each streaming n_words words per input port
    (kernels/flops/flops.cpp "Structure"). params: the design's build parameters (the caller reads them)."""
    p = _platform(platform)
    dtype = _dtype(dtype)
    n_words, f = _int(n_words, "n_words", 1), _int(f, "f", 1)
    cus = _int(cus, "cus", 1, 64)
    missing = [k for k in FLOPS_PARAMS if k not in (params or {})]
    if missing:
        raise UserError(f"the flops model needs the design's {', '.join(missing)} (kernels/designs/flops.toml)")
    _check_port_bits(params, "FLOPS_PORT_BITS")
    lanes, bw_max, ports, accl = (_int(params[k], k) for k in FLOPS_PARAMS[:4])
    dpm, reserve = _num(float(params["FLOPS_DSP_PER_MAC"]), "FLOPS_DSP_PER_MAC"), _int(params["FLOPS_DSP_RESERVE"], "FLOPS_DSP_RESERVE", 0)
    burst, outstanding = _int(params["FLOPS_BURST"], "FLOPS_BURST"), _int(params["FLOPS_OUTSTANDING"], "FLOPS_OUTSTANDING")
    clk = _clock(p, clock_mhz)
    f_hz = clk * 1e6
    mem = _memory_kind(p, memory)
    eb = int(dtype_figure(dtype, "elem_bytes").value)
    la = WORD_BYTES // eb
    ow = la // OUT_LANES
    kw = dict(memory=mem, width_bits=WORD_BYTES * 8, clock_mhz=clk, burst=burst, outstanding=outstanding)
    rd = max(1.0, WORD_BYTES / (port_rate_GBps(p, direction="read", **kw) * 1e9 / f_hz))
    wr = max(1.0, WORD_BYTES / (port_rate_GBps(p, direction="write", **kw) * 1e9 / f_hz))
    lat_r = first_word_s(p, mem, "read", clk) * f_hz
    lat_w = first_word_s(p, mem, "write", clk) * f_hz
    G = data.params()["gemm"]
    ovh = G["loop_overhead_cycles"].value
    depth = ovh + dtype_figure(dtype, "mul_latency").value + dtype_figure(dtype, "add_latency").value
    iters = max(_cdiv(ports * bw_max * la, lanes), accl)
    comp = f * iters + depth                         # f passes of iters, one pipelined loop per block
    nb = _cdiv(n_words, bw_max)
    last = n_words - (nb - 1) * bw_max

    def load(bw):
        return bw * rd + lat_r + ovh

    def store(bw):
        return bw * ow * wr + lat_w + ovh

    parts = {"compute": 0.0, "memory": 0.0, "latency": load(min(bw_max, n_words)) + store(last)}

    def step(next_bw, has_prev, times):
        t = {"compute": comp}
        if next_bw:
            t["memory"] = load(next_bw)
        if has_prev:                                # the previous block is always a full one
            t["memory"] = max(t.get("memory", 0.0), store(bw_max))
        kind = max(t, key=t.get)
        parts[kind] += t[kind] * times
        parts["latency"] += ovh * times             # handshake between steps

    sizes = lambda b: bw_max if b < nb - 1 else last            # noqa: E731
    if nb <= 4:
        for b in range(nb):
            step(sizes(b + 1) if b + 1 < nb else 0, b > 0, 1)
    else:                                           # first, middle x (nb - 3), next-to-last, last
        step(bw_max, False, 1)
        step(bw_max, True, nb - 3)
        step(last, True, 1)
        step(0, True, 1)
    cyc = sum(parts.values())
    time_s = cyc / f_hz
    elems = cus * ports * n_words * la
    flop = 2 * f * elems
    nbytes = elems * (eb + 4)
    kpeak = cus * lanes * 2 * f_hz / 1e9
    inputs = dict(platform=p.name, dtype=dtype, n_words=n_words, flops_per_element=f, cus=cus, lanes=lanes,
                  block_words=bw_max, ports=ports, clock_mhz=clk, memory=mem, elem_bytes=eb,
                  dsp_per_mac=dpm, burst=burst, outstanding=outstanding)
    return FlopsPrediction(time_s, flop / time_s / 1e9, nbytes / time_s / 1e9, flop / nbytes,
                           max(parts, key=parts.get), round(cyc), flop, nbytes, kpeak,
                           p.dsp_count.value / dpm * 2 * f_hz / 1e9, cus * (lanes * dpm + reserve), inputs)


# ---------------------------------------------------------------- dispatch, PCIe
def dispatch_overhead(platform=None) -> Figure:
    """Fixed cost of one kernel launch (start() to wait() of an empty kernel), seconds."""
    D = data.params()["dispatch"]
    v, lo, hi = D["overhead_s"].value, D["low_s"].value, D["high_s"].value
    return Figure("kernel dispatch overhead", v, "s", "model",
                  f"{data.version()}: {D['overhead_s'].detail}; spread {lo * 1e6:g}-{hi * 1e6:g} us "
                  f"(published K1-K3, harness/docs/published-measurements.md)")


def dispatch_overhead_s(platform=None) -> float:
    return dispatch_overhead(platform).value


def dispatch_spread(platform=None) -> tuple[Figure, Figure]:
    D = data.params()["dispatch"]
    return D["low_s"], D["high_s"]


def pcie_transfer(platform, nbytes, direction: str = "h2d") -> Figure:
    """Modeled time of one host<->card buffer sync of `nbytes` (seconds): harness.model.transfer."""
    from harness.model.transfer import predict_transfer
    return predict_transfer(_int(nbytes, "nbytes", 0), direction).figure()