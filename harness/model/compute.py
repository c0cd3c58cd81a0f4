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
# Build-parameter names accepted in `params` (kernels/designs/gemm.toml) -> model_params.toml [gemm] key.
GEMM_PARAM_KEYS = {"GEMM_TILE_M": "tile_m", "GEMM_TILE_N": "tile_n", "GEMM_TILE_K": "tile_k", "GEMM_PE": "pe",
                   "GEMM_BURST": "burst", "GEMM_OUTSTANDING": "outstanding", "GEMM_PORT_BITS": "width_bits"}
GEMM_REQUIRED = ("GEMM_TILE_M", "GEMM_TILE_N", "GEMM_TILE_K", "GEMM_PE", "GEMM_BURST", "GEMM_OUTSTANDING",
                 "GEMM_PORT_BITS")


def _design_params(params: dict | None, required) -> dict:
    """{GEMM_* name: value} from the caller's design params (short names like tile_m accepted)."""
    by_short = {short: name for name, short in GEMM_PARAM_KEYS.items()}     # 'tile_m' -> 'GEMM_TILE_M'
    given = {by_short.get(str(k).lower(), str(k).upper()): v for k, v in (params or {}).items()}
    missing = [k for k in required if given.get(k) is None]
    if missing:
        raise UserError(f"the GEMM model needs the design's {', '.join(missing)} (kernels/designs/gemm.toml); "
                        "pass the design's params")
    return given


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


def gemm_build_params(params: dict | None, dtype: str = "fp32") -> dict:
    """TM, TN, TK, PE from the design params given (the caller reads them from the design file:
    the model never does), and the ports' burst, outstanding and width (GEMM_BURST, GEMM_OUTSTANDING,
    GEMM_PORT_BITS: the values the kernel's pragmas get from the same design file)."""
    out = {}
    given = _design_params(params, GEMM_REQUIRED)
    for k, v in given.items():
        key = GEMM_PARAM_KEYS.get(k)
        if key is not None and v is not None:
            out[key] = _int(v, k, 1)
    if out["burst"] > data.value("axi", "max_burst_beats"):
        raise UserError(f"GEMM burst {out['burst']} exceeds the AXI4 limit of 256 beats")
    return out


@dataclass
class GemmPrediction(data.Modeled):
    time_s: float
    gflops: float
    bound: str                  # 'compute' | 'memory' | 'latency'
    pipeline_fill_s: float      # every pipeline (re)fill over all tiles, chunks and row loops
    cycles: int
    compute_s: float            # zero-acc, MAC loop and epilogue (finish) cycles
    memory_s: float             # row data cycles (word rate or port rate) + zero padding; not overlapped
    latency_s: float            # first-word latency of every row burst + pipeline fills
    bytes: int                  # DRAM traffic (A and B re-read per tile)
    flop: int                   # 2 M N K (useful, not padded)
    kernel_peak_GFLOPps: float  # PE x 2 x clock
    dsps: float
    inputs: dict
    # One pass through the MAC pipeline and the epilogue: pipeline depth / clock, the
    # batch-1 latency floor the critique asks for beside the throughput-derived time.
    pipeline_depth_s: float = 0.0
    model_version: str = field(default_factory=data.version)
    source: str = "model"


def _classes(total, tile):
    """[(size, count)] of full tiles and the edge tile."""
    out = [(tile, total // tile)] if total // tile else []
    if total % tile:
        out.append((total % tile, 1))
    return out


def gemm_lanes(width_bits, elem_bytes, out_bytes, TM, TN, TK):
    """Elements per cycle of the word-wide loops (kernels/gemm/gemm_types.h GEMM_LANES_*):
    one port word of elements, capped at the tile edge. Returns (LA, LB, LC)."""
    w = width_bits // 8
    return min(max(1, w // elem_bytes), TK), min(max(1, w // elem_bytes), TN), min(max(1, w // out_bytes), TN)


def predict_gemm(platform, *, dtype, M, K, N, epilogue="none", params=None, clock_mhz=None,
                 port_bandwidth_GBps=None, memory=None, macs_per_dsp=None) -> GemmPrediction:
    """Time of one call of the tiled GEMM kernel (dispatch not included). Structure: harness/docs/model.md."""
    p = _platform(platform)
    dtype = _dtype(dtype)
    M, K, N = (_int(x, n, 1) for x, n in ((M, "M"), (K, "K"), (N, "N")))
    if epilogue not in EPILOGUES:
        raise UserError(f"epilogue must be one of {', '.join(EPILOGUES)}, got {epilogue!r}")
    bp = gemm_build_params(params, dtype)
    TM, TN, TK, PE = bp["tile_m"], bp["tile_n"], bp["tile_k"], bp["pe"]
    if PE > TM * TN * TK:
        raise UserError(f"GEMM_PE ({PE}) cannot exceed the tile's MACs TM x TN x TK ({TM * TN * TK})")
    clk = _clock(p, clock_mhz)
    f_hz = clk * 1e6
    mem = _memory_kind(p, memory)
    if macs_per_dsp is None:
        key = "kernel_macs_per_dsp" if "kernel_macs_per_dsp" in data.params()["dtypes"][dtype] else "macs_per_dsp"
        mpd = dtype_figure(dtype, key).value
    else:
        mpd = _num(macs_per_dsp, "macs_per_dsp")
    dsps = PE / mpd
    if dsps > p.dsp_available.value:
        raise UserError(f"GEMM_PE={PE} {dtype} needs about {dsps:,.0f} DSPs but {p.name} has "
                        f"{p.dsp_available.value:,.0f} for kernels; use a smaller --pe")
    eb = int(dtype_figure(dtype, "elem_bytes").value)
    ob = int(dtype_figure(dtype, "out_bytes").value)
    G = data.params()["gemm"]
    width = bp["width_bits"]
    LA, LB, LC = gemm_lanes(width, eb, ob, TM, TN, TK)
    if port_bandwidth_GBps is not None:
        r_rd = r_wr = _num(port_bandwidth_GBps, "port_bandwidth_GBps")
    else:
        # streaming rate of one port on its own PC (a row burst is one request of up to `burst` beats;
        # its round trip is counted separately as the first-word latency of that row)
        kw = dict(memory=mem, width_bits=width, clock_mhz=clk, burst=bp["burst"], outstanding=bp["outstanding"])
        r_rd = port_rate_GBps(p, direction="read", **kw)
        r_wr = port_rate_GBps(p, direction="write", **kw)
    rd_Bpc, wr_Bpc = r_rd * 1e9 / f_hz, r_wr * 1e9 / f_hz        # bytes per kernel cycle

    lat_r = first_word_s(p, mem, "read", clk) * f_hz              # cycles, per row burst
    lat_w = first_word_s(p, mem, "write", clk) * f_hz
    row_depth = G["loop_overhead_cycles"].value                   # fill of one row loop (load/store)
    mul = dtype_figure(dtype, "mul_latency").value
    add = dtype_figure(dtype, "add_latency").value
    depth = G["loop_overhead_cycles"].value + mul + add     # each PE lane owns its accumulator: no adder tree
    epi_depth = {"none": G["loop_overhead_cycles"].value, "bias": G["bias_depth_cycles"].value,
                 "bias_gelu": G["gelu_depth_cycles"].value}[epilogue]

    # per tile (constant): zero acc, finish (epilogue) pass
    zero_cyc = math.ceil(TM * TN / PE)
    finish_cyc = TM * math.ceil(TN / LC)
    chunk_cyc = math.ceil(TM * TN * TK / PE)            # edge tiles cost a full tile of compute
    segA, segB, segC = math.ceil(TK / LA), math.ceil(TN / LB), math.ceil(TN / LC)

    comp = memc = latc = fillc = 0.0                    # cycles
    nbytes = 0
    k_chunks = _classes(K, TK)
    for mr, cm in _classes(M, TM):
        for nc, cn in _classes(N, TN):
            tiles = cm * cn
            comp += tiles * (zero_cyc + finish_cyc)
            fillc += tiles * (G["loop_overhead_cycles"].value + epi_depth)
            for kc, ck in k_chunks:
                n = tiles * ck
                # load A: mr row bursts of kc elements, zero padding to TK, padding rows
                sa = math.ceil(kc / LA)
                a_data = max(sa, kc * eb / rd_Bpc)
                memc += n * (mr * (a_data + (segA - sa)) + (TM - mr) * segA)
                # load B: kc row bursts of nc elements, zero padding to TN, padding rows
                sb = math.ceil(nc / LB)
                b_data = max(sb, nc * eb / rd_Bpc)
                memc += n * (kc * (b_data + (segB - sb)) + (TK - kc) * segB)
                latc += n * (mr + kc) * lat_r
                fillc += n * ((mr + kc) * row_depth + depth)
                comp += n * chunk_cyc
                nbytes += n * (mr * kc + kc * nc) * eb
            sc = math.ceil(nc / LC)
            if epilogue != "none":
                memc += tiles * (max(sc, nc * eb / rd_Bpc) + (segC - sc))
                latc += tiles * lat_r
                fillc += tiles * row_depth
                nbytes += tiles * nc * eb
            # store: mr row bursts of nc out_t
            memc += tiles * mr * max(sc, nc * ob / wr_Bpc)
            latc += tiles * mr * lat_w
            fillc += tiles * mr * row_depth
            nbytes += tiles * mr * nc * ob
    compute_s, mem_s, fill_s = comp / f_hz, memc / f_hz, fillc / f_hz
    latency_s = latc / f_hz + fill_s
    time_s = compute_s + mem_s + latency_s
    parts = {"compute": compute_s, "memory": mem_s, "latency": latency_s}
    bound = max(parts, key=parts.get)
    flop = 2 * M * N * K
    inputs = dict(platform=p.name, dtype=dtype, M=M, K=K, N=N, epilogue=epilogue, clock_mhz=clk, memory=mem,
                  tile_m=TM, tile_n=TN, tile_k=TK, pe=PE, burst=bp["burst"], outstanding=bp["outstanding"],
                  macs_per_dsp=mpd, elem_bytes=eb, out_bytes=ob, pipeline_depth_cycles=depth,
                  lanes_a=LA, lanes_b=LB, lanes_c=LC, port_bandwidth_GBps=port_bandwidth_GBps)
    return GemmPrediction(time_s, flop / time_s / 1e9, bound, fill_s, round(time_s * f_hz), compute_s, mem_s,
                          latency_s, nbytes, flop, PE * 2 * f_hz / 1e9, dsps, inputs,
                          pipeline_depth_s=(depth + epi_depth) / f_hz)


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
    """The unfused bias(+GELU) kernel over an M x N matrix in memory: read C and bias, write out."""
    p = _platform(platform)
    M, N = _int(M, "M", 1), _int(N, "N", 1)
    elem_bytes = _int(elem_bytes, "elem_bytes", 1, 8)
    if epilogue not in ("bias", "bias_gelu"):
        raise UserError(f"the elementwise epilogue must be bias or bias_gelu, got {epilogue!r}")
    clk = _clock(p, clock_mhz)
    f_hz = clk * 1e6
    mem = _memory_kind(p, memory)
    G = data.params()["gemm"]
    # bias_gelu's ports have gemm's pragmas (GEMM_BURST, GEMM_OUTSTANDING, GEMM_PORT_BITS of the design)
    given = _design_params(params, ("GEMM_BURST", "GEMM_OUTSTANDING", "GEMM_PORT_BITS"))
    width, burst, outstanding = (_int(given[k], k, 1) for k in ("GEMM_PORT_BITS", "GEMM_BURST", "GEMM_OUTSTANDING"))
    if burst > data.value("axi", "max_burst_beats"):
        raise UserError(f"burst {burst} exceeds the AXI4 limit of 256 beats")
    lanes = max(1, width // 8 // elem_bytes)           # 16 for 4-byte C elements (GEMM_OUT_LANES)
    if port_bandwidth_GBps is not None:
        r_copy = r_read = _num(port_bandwidth_GBps, "port_bandwidth_GBps")
    else:
        r_copy = port_rate_GBps(p, memory=mem, direction="copy", width_bits=width, clock_mhz=clk, burst=burst,
                                outstanding=outstanding)
        r_read = port_rate_GBps(p, memory=mem, direction="read", width_bits=width, clock_mhz=clk, burst=burst,
                                outstanding=outstanding)
    # Per row (kernels/gemm/bias_gelu.cpp): one loop of ceil(N/lanes) iterations that reads in[] and
    # bias[] and writes out[] as three bursts on three ports, then waits for the write response.
    n = M * N
    segs = math.ceil(N / lanes)
    row_stream_s = N * elem_bytes / (r_copy * 1e9)      # read C and write out in lock-step
    row_bias_s = N * elem_bytes / (r_read * 1e9)        # bias re-read per row, on its own port (parallel)
    row_data_s = max(segs / f_hz, row_stream_s, row_bias_s)
    depth = G["gelu_depth_cycles"].value if epilogue == "bias_gelu" else G["bias_depth_cycles"].value
    fill_s = M * depth / f_hz
    lat_s = M * (first_word_s(p, mem, "read", clk) + first_word_s(p, mem, "write", clk)) + fill_s
    compute_s = M * segs / f_hz
    mem_s = M * max(row_stream_s, row_bias_s)
    time_s = M * row_data_s + lat_s
    parts = {"compute": compute_s, "memory": mem_s, "latency": lat_s}
    nbytes = 2 * n * elem_bytes + M * N * elem_bytes
    inputs = dict(platform=p.name, M=M, N=N, elem_bytes=elem_bytes, clock_mhz=clk, memory=mem, epilogue=epilogue,
                  lanes=lanes, burst=burst, outstanding=outstanding, port_bandwidth_GBps=port_bandwidth_GBps)
    return ElementwisePrediction(time_s, max(parts, key=parts.get), fill_s, round(time_s * f_hz), compute_s,
                                 mem_s, lat_s, nbytes, nbytes / time_s / 1e9, inputs)


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


def pcie_transfer(platform, nbytes) -> Figure:
    """Modeled time of one host<->card buffer sync of `nbytes` (seconds)."""
    nbytes = _int(nbytes, "nbytes", 0)
    P = data.params()["pcie"]
    v = P["latency_s"].value + nbytes / (P["bandwidth_GBps"].value * 1e9)
    return Figure("PCIe transfer time", v, "s", "model",
                  f"{data.version()}: {P['latency_s'].value * 1e6:g} us + bytes / {P['bandwidth_GBps'].value:g} "
                  f"GB/s (both assumptions: {P['bandwidth_GBps'].detail})")
