"""Native (g++) builds of the HLS kernels against numpy references.

Every kernel source is compiled once per session (in parallel) by the
session-scoped `libs` fixture; the tests then call the extern "C" functions
through ctypes with plain numpy arrays, exactly as the emulator does.
"""
from __future__ import annotations

import ctypes
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from harness.bench import gemm_layout as lay
from harness.bench import reference as refs
from harness.designs import load_design
from harness.designs.codes import memcpy_patterns

sys.path.insert(0, str(Path(__file__).resolve().parent))
from native_util import CompileError, build, load  # noqa: E402

U32 = ctypes.c_uint32
VP = ctypes.c_void_p
GEMM_SRC = ["gemm/gemm.cpp", "gemm/bias_gelu.cpp"]
DTYPES = {0: "fp32", 1: "fp16", 2: "fx16", 3: "int8"}
LANES = {0: 16, 1: 32, 2: 32, 3: 64}     # elements per 512-bit word


def small(dtype_id: int, **over) -> dict:
    """Small tiles that still exercise several tiles, chunks, row groups and the 4 B ports."""
    la = LANES[dtype_id]
    return {"GEMM_ROWS": 2, "GEMM_COLS": la, "GEMM_TILE_M": 4, "GEMM_TILE_N": 4 * la, "GEMM_TILE_K": la,
            **over}


# Build parameters start from the design files (their only source); tests override some.
MEMCPY = load_design("memcpy").build_defines("bw_memcpy")


def gemm_params(dtype_id: int, **overrides) -> dict:
    return {**load_design("gemm", dtype=DTYPES[dtype_id]).build_defines("gemm"), **overrides}


BUILDS: dict[str, tuple[list[str], dict]] = {
    "memcpy": (["memcpy/memcpy.cpp"], MEMCPY),
    "memcpy_ap": (["memcpy/memcpy.cpp"], {**MEMCPY, "HLSC_AP_ARITH": 1}),
    "nop": (["empty/empty.cpp"], {}),
}
for _d in DTYPES:
    BUILDS[f"gemm{_d}"] = (GEMM_SRC, gemm_params(_d))                      # the design's tiles
    BUILDS[f"gemm{_d}_small"] = (GEMM_SRC, gemm_params(_d, **small(_d)))
for _d in (1, 2, 3):   # ap_int / integer-decoded fp16 path (what Vitis synthesises) must give the same bits
    BUILDS[f"gemm{_d}_small_ap"] = (GEMM_SRC, gemm_params(_d, HLSC_AP_ARITH=1, **small(_d)))
for _d in (0, 1, 3):   # the HLS loop order natively: the emulator's loop order must give the same bits
    BUILDS[f"gemm{_d}_small_hlsorder"] = (GEMM_SRC, gemm_params(_d, GEMM_NATIVE_HLS_ORDER=1, **small(_d)))
for _nb in (1, 2):     # the other B port counts of the kernel signature
    BUILDS[f"gemm0_nb{_nb}"] = (GEMM_SRC, gemm_params(0, **small(0, GEMM_B_PORTS=_nb)))
# with the emulator's fault hooks (kernels/common/emu_faults.h), as the emulator builds them
for _d in DTYPES:
    BUILDS[f"gemm{_d}_small_faults"] = (GEMM_SRC, gemm_params(_d, HARNESS_EMU_FAULTS=1, **small(_d)))
BUILDS["memcpy_faults"] = (["memcpy/memcpy.cpp"], {**MEMCPY, "HARNESS_EMU_FAULTS": 1})
BUILDS["gemm2_i12_small"] = (GEMM_SRC, gemm_params(2, GEMM_FX_INT_BITS=12, **small(2)))
BUILDS["gemm2_i1_small"] = (GEMM_SRC, gemm_params(2, GEMM_FX_INT_BITS=1, **small(2)))

FLOPS_SRC = ["flops/flops.cpp"]


def flops_params(dtype_id: int, **overrides) -> dict:
    return {**load_design("flops", dtype=DTYPES[dtype_id]).build_defines("flops"), **overrides}


for _d in DTYPES:
    BUILDS[f"flops{_d}"] = (FLOPS_SRC, flops_params(_d))
    # small blocks: several blocks and a short last one at test sizes
    BUILDS[f"flops{_d}_small"] = (FLOPS_SRC, flops_params(_d, FLOPS_LANES=LANES[_d], FLOPS_BLOCK_WORDS=2))
    BUILDS[f"flops{_d}_faults"] = (FLOPS_SRC, flops_params(_d, FLOPS_LANES=LANES[_d], FLOPS_BLOCK_WORDS=2,
                                                           HARNESS_EMU_FAULTS=1))
BUILDS["flops1_small_ap"] = (FLOPS_SRC, flops_params(1, FLOPS_LANES=32, FLOPS_BLOCK_WORDS=2, HLSC_AP_ARITH=1))
BUILDS["flops2_small_ap"] = (FLOPS_SRC, flops_params(2, FLOPS_LANES=32, FLOPS_BLOCK_WORDS=2, HLSC_AP_ARITH=1))
FLOPS_BAD = {
    "flops_lanes_divide": ({"FLOPS_LANES": 500}, "FLOPS_LANES must divide the elements of a block"),
    "flops_revisit": ({"FLOPS_BLOCK_WORDS": 4}, "a block must hold FLOPS_ACC_LATENCY x FLOPS_LANES"),
}

# impossible parameter combinations: (defines, reason the compiler must print)
BAD = {
    "cols_not_words": ({"GEMM_COLS": 24, "GEMM_TILE_N": 96}, "GEMM_COLS must be a multiple of the elements per"),
    "tile_m_not_rows": ({"GEMM_TILE_M": 65}, "GEMM_TILE_M must be a multiple of GEMM_ROWS"),
    "fx_int_bits": ({"GEMM_DTYPE_ID": 2, "GEMM_FX_INT_BITS": 16}, "FX_INT_BITS must be 1..15"),
    "b_ports": ({"GEMM_B_PORTS": 3}, "GEMM_B_PORTS must be 1, 2 or 4"),
    "port_bits": ({"GEMM_PORT_BITS": 256}, "GEMM_PORT_BITS must be 512"),
    "bad_dtype": ({"GEMM_DTYPE_ID": 7}, "DTYPE_ID must be 0 (fp32)"),
}
BAD = {k: ({**gemm_params(0), **d}, why) for k, (d, why) in BAD.items()}
# without the design file's flags the kernels refuse to build, naming where the flags come from
BAD["no_design_flags"] = ({}, "kernels/designs/gemm.toml")


@pytest.fixture(scope="session")
def libs():
    cache = None          # native_util's content-addressed cache under build/
    jobs = {**{k: v for k, v in BUILDS.items()},
            **{f"bad:{k}": (GEMM_SRC[:1], d) for k, (d, _) in BAD.items()},
            **{f"bad:{k}": (FLOPS_SRC, {**flops_params(0), **d}) for k, (d, _) in FLOPS_BAD.items()}}

    def one(item):
        name, (srcs, defs) = item
        try:
            return name, build(srcs, cache, defs)
        except CompileError as e:
            return name, e

    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as ex:
        done = dict(ex.map(one, jobs.items()))
    out = {}
    for name, res in done.items():
        if name.startswith("bad:"):
            out[name] = res
            continue
        if isinstance(res, Exception):
            raise res
        lib = load(res)
        if name.startswith("memcpy"):
            lib.bw_memcpy.argtypes = [VP, VP] + [U32] * 7
            lib.bw_memcpy.restype = None
        elif name.startswith("flops"):
            lib.flops.argtypes = [VP] * 8 + [U32, U32]
            lib.flops.restype = None
            lib.flops_resources.argtypes = [ctypes.POINTER(ctypes.c_long)]
            lib.flops_resources.restype = None
        elif name == "nop":
            lib.nop.argtypes = []
            lib.nop.restype = None
        else:
            nb = BUILDS[name][1]["GEMM_B_PORTS"]
            lib.gemm.argtypes = [VP] * (3 + nb) + [U32] * 4
            lib.gemm.restype = None
            lib.bias_gelu.argtypes = [VP, VP, VP, U32, U32, U32]
            lib.bias_gelu.restype = None
            lib.gemm_resources.argtypes = [ctypes.POINTER(ctypes.c_long)]
            lib.gemm_resources.restype = None
        out[name] = lib
    return out


@pytest.fixture(autouse=True)
def _memcpy_keeps_the_burst_protocol(request):
    """After every test: no bw_memcpy call of it broke the hls::burst_maxi protocol (the native check of
    kernels/common/native/hls_burst_maxi.h; a break would also leave the output untouched)."""
    yield
    libs_ = request.node.funcargs.get("libs") if hasattr(request.node, "funcargs") else None
    for name, lib in (libs_ or {}).items():
        if name.startswith("memcpy") and not isinstance(lib, Exception):
            err = lib.harness_emu_call_error
            err.restype = ctypes.c_char_p
            assert not err(), f"{name}: {err().decode()}"


def p(a: np.ndarray) -> int:
    assert a.flags.c_contiguous
    return a.ctypes.data


# --------------------------------------------------------------------- memcpy
SEQ = (memcpy_patterns()["seq"], 0, 0, 0)   # pattern, txn_words, stride_words, seed (unused by seq)
def _words(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 2**64, size=(n, 8), dtype=np.uint64, endpoint=False)


@pytest.mark.parametrize("build_name", ["memcpy", "memcpy_ap"])
@pytest.mark.parametrize("n_words", [1, 3, 1000])
@pytest.mark.parametrize("reps", [1, 3])
def test_memcpy_read(libs, build_name, n_words, reps):
    src = _words(n_words, n_words)
    out = np.full((n_words, 8), 0xAB, dtype=np.uint64)
    libs[build_name].bw_memcpy(p(src), p(out), n_words, reps, 0, *SEQ)
    np.testing.assert_array_equal(out[0], refs.memcpy_read_checksum(src, reps))
    assert (out[1:] == 0xAB).all()                      # only out[0] is written


@pytest.mark.parametrize("build_name", ["memcpy", "memcpy_ap"])
@pytest.mark.parametrize("n_words", [1, 3, 1000])
@pytest.mark.parametrize("reps", [1, 3])
def test_memcpy_write(libs, build_name, n_words, reps):
    out = np.zeros((n_words + 1, 8), dtype=np.uint64)   # one guard word
    libs[build_name].bw_memcpy(None, p(out), n_words, reps, 1, *SEQ)
    np.testing.assert_array_equal(out[:n_words], refs.memcpy_write_pattern(n_words, reps))
    assert (out[n_words] == 0).all()


@pytest.mark.parametrize("build_name", ["memcpy", "memcpy_ap"])
@pytest.mark.parametrize("n_words", [1, 3, 1000])
@pytest.mark.parametrize("reps", [1, 3])
def test_memcpy_copy(libs, build_name, n_words, reps):
    src = _words(n_words, 7 + n_words)
    out = np.zeros((n_words + 1, 8), dtype=np.uint64)
    libs[build_name].bw_memcpy(p(src), p(out), n_words, reps, 2, *SEQ)
    np.testing.assert_array_equal(out[:n_words], src ^ refs.memcpy_copy_key(reps))
    assert (out[n_words] == 0).all()


def test_memcpy_bad_mode_and_zero_words_do_nothing(libs):
    src = _words(4, 1)
    out = np.full((4, 8), 5, dtype=np.uint64)
    for mode in (3, 99):
        libs["memcpy"].bw_memcpy(p(src), p(out), 4, 2, mode, *SEQ)
        assert (out == 5).all()
    libs["memcpy"].bw_memcpy(p(src), p(out), 0, 2, 2, *SEQ)
    libs["memcpy"].bw_memcpy(p(src), p(out), 4, 0, 1, *SEQ)
    assert (out == 5).all()


def test_memcpy_checksum_wraps(libs):
    src = np.full((3, 8), 2**64 - 1, dtype=np.uint64)
    out = np.zeros((1, 8), dtype=np.uint64)
    libs["memcpy"].bw_memcpy(p(src), p(out), 3, 5, 0, *SEQ)
    # by hand: 5 reps of sum_i (~0 ^ pat(i, j)) = ~pat(i, j), plus 3 words x rk(0..4)
    pat = [[((i << 3) | j) ^ refs.WRITE_KEY for j in range(8)] for i in range(3)]
    want = [(5 * sum(~pat[i][j] & (2**64 - 1) for i in range(3)) + 3 * refs.REP_KEY * (0 + 1 + 2 + 3 + 4))
            % 2**64 for j in range(8)]
    np.testing.assert_array_equal(out[0], np.array(want, dtype=np.uint64))


def test_nop(libs):
    libs["nop"].nop()


# ----------------------------------------------------------------------- gemm
# odd shapes: below one tile, several tiles and chunks, not multiples of anything
SIZES = [(1, 1, 1), (7, 13, 5), (3, 100, 2), (65, 67, 129), (9, 1, 70), (50, 33, 300)]
# larger than the fp32 design's tiles in every dimension: several tiles and K chunks on the real tiles
MULTI_TILE = (130, 600, 520)
GUARD = 64   # words after each output buffer that must stay untouched


def _inputs(dtype_id: int, m: int, k: int, n: int, seed: int, big: bool = False):
    rng = np.random.default_rng(seed)
    if dtype_id in (0, 1):
        t = np.float32 if dtype_id == 0 else np.float16
        a = rng.uniform(-1, 1, (m, k)).astype(t)
        b = rng.uniform(-1, 1, (k, n)).astype(t)
        bias = rng.uniform(-1, 1, n).astype(t)
        if dtype_id == 1 and big:          # fp16 subnormals, zeros of both signs, the extremes
            a.reshape(-1)[::7] = np.float16(6e-8)
            a.reshape(-1)[1::11] = np.float16(-0.0)
            b.reshape(-1)[::5] = np.float16(-65504.0)
            b.reshape(-1)[2::13] = np.float16(3e-5)
    elif dtype_id == 2:
        lim = 2**15 if big else 2**11
        a = rng.integers(-lim, lim, (m, k), dtype=np.int16)
        b = rng.integers(-lim, lim, (k, n), dtype=np.int16)
        bias = rng.integers(-2**15, 2**15, n, dtype=np.int16)
    else:
        a = rng.integers(-128, 128, (m, k), dtype=np.int8)
        b = rng.integers(-128, 128, (k, n), dtype=np.int8)
        bias = rng.integers(-128, 128, n, dtype=np.int8)
    return a, b, bias


def _out_dtype(dtype_id: int):
    return np.float32 if dtype_id in (0, 1) else np.int32


def geom(name: str, dtype_id: int) -> lay.Geometry:
    return lay.Geometry.from_params(BUILDS[name][1], 64 // LANES[dtype_id])


def _guarded(words: int, dtype) -> np.ndarray:
    return np.full((words + GUARD) * 16, 77, dtype=dtype)


def run_gemm(libs, name, dtype_id, a, b, bias, epi):
    """One call of the kernel with the host's packing (harness.bench.gemm_layout); C unpacked."""
    lib, g = libs[name], geom(name, dtype_id)
    m, k = a.shape
    n = b.shape[1]
    ap = lay.pack_a(a, g)
    bp = lay.pack_b(b, g)
    assert len({x.size for x in bp}) == 1, "every B port holds the same number of words"
    bi = lay.pack_bias(bias, g.lanes)
    words = lay.c_words(m, n, g)
    buf = _guarded(words, _out_dtype(dtype_id))
    lib.gemm(p(ap), *[p(x) for x in bp], p(buf), p(bi), m, k, n, epi)
    assert (buf[words * 16:] == 77).all(), "gemm wrote past the end of C"
    return lay.unpack_c(buf, m, n, g)


def run_bias_gelu(libs, name, dtype_id, c, bias, epi, inplace=False):
    lib, g = libs[name], geom(name, dtype_id)
    m, n = c.shape
    words = lay.c_words(m, n, g)
    src = _guarded(words, c.dtype)
    src[:words * 16] = lay.pack_c(c, g)
    out = src if inplace else _guarded(words, c.dtype)
    bi = lay.pack_bias(bias, g.lanes)          # kept alive across the call
    lib.bias_gelu(p(src), p(bi), p(out), m, n, epi)
    assert (out[words * 16:] == 77).all(), "bias_gelu wrote past the end of out"
    return lay.unpack_c(out, m, n, g)


DTYPE_NAMES = {0: "fp32", 1: "fp16", 2: "fx16", 3: "int8"}


def check_gemm(dtype_id, a, b, bias, epi, c, int_bits=6):
    """fp32/fp16: the documented summation order replayed bit for bit (epilogue 0 and 1; GELU's tanh
    may differ from numpy's by an ulp, so it gets the benches' tolerance); fx16/int8: the benches' exact
    references (harness.bench.reference)."""
    if dtype_id in (0, 1) and epi in (0, 1):
        exp = refs.replay_f32(a, b)
        if epi == 1:
            exp = exp + bias.astype(np.float32)[None, :]
        np.testing.assert_array_equal(c.view(np.uint32), exp.view(np.uint32))
        return
    ok, msg = refs.check_gemm(DTYPE_NAMES[dtype_id], a, b, bias, epi, c, {"GEMM_FX_INT_BITS": int_bits})
    assert ok, msg


@pytest.mark.parametrize("tiles", ["design", "small"])
@pytest.mark.parametrize("dtype_id", list(DTYPES), ids=list(DTYPES.values()))
@pytest.mark.parametrize("epi", [0, 1, 2])
@pytest.mark.parametrize("mkn", SIZES, ids=lambda s: "x".join(map(str, s)))
def test_gemm_against_numpy(libs, tiles, dtype_id, epi, mkn):
    name = f"gemm{dtype_id}" + ("_small" if tiles == "small" else "")
    a, b, bias = _inputs(dtype_id, *mkn, seed=sum(mkn) + epi)
    c = run_gemm(libs, name, dtype_id, a, b, bias, epi)
    check_gemm(dtype_id, a, b, bias, epi, c)


@pytest.mark.parametrize("dtype_id", list(DTYPES), ids=list(DTYPES.values()))
def test_gemm_with_the_design_tiles_spans_several_tiles_and_k_chunks(libs, dtype_id):
    a, b, bias = _inputs(dtype_id, *MULTI_TILE, seed=7)
    for epi in (0, 2):
        c = run_gemm(libs, f"gemm{dtype_id}", dtype_id, a, b, bias, epi)
        check_gemm(dtype_id, a, b, bias, epi, c)


@pytest.mark.parametrize("nb", [1, 2])
def test_gemm_other_b_port_counts(libs, nb):
    a, b, bias = _inputs(0, 13, 70, 150, seed=nb)
    check_gemm(0, a, b, bias, 1, run_gemm(libs, f"gemm0_nb{nb}", 0, a, b, bias, 1))


def test_gemm_cus_split_assembles_to_the_single_call(libs):
    """The bench's split of N over the design's CUs: each CU's part, assembled, is the one-call result."""
    design = load_design("gemm", dtype="fp32")
    a, b, bias = _inputs(0, 37, 90, 700, seed=5)
    whole = run_gemm(libs, "gemm0", 0, a, b, bias, 2)
    parts = lay.split_columns(700, design.kernels["gemm"].cus, design.all_params("gemm")["GEMM_COLS"])
    assert sum(n for _, n in parts) == 700 and all(n0 % 64 == 0 for n0, _ in parts)
    out = np.concatenate([run_gemm(libs, "gemm0", 0, a, b[:, n0:n0 + n], bias[n0:n0 + n], 2)
                          for n0, n in parts if n], axis=1)
    np.testing.assert_array_equal(out.view(np.uint32), whole.view(np.uint32))


@pytest.mark.parametrize("dtype_id", list(DTYPES), ids=list(DTYPES.values()))
@pytest.mark.parametrize("epi", [1, 2])
def test_fused_equals_unfused(libs, dtype_id, epi):
    name = f"gemm{dtype_id}_small"
    a, b, bias = _inputs(dtype_id, 19, 23, 290, seed=3 + epi)
    fused = run_gemm(libs, name, dtype_id, a, b, bias, epi)
    c0 = run_gemm(libs, name, dtype_id, a, b, bias, 0)
    np.testing.assert_array_equal(run_bias_gelu(libs, name, dtype_id, c0, bias, 0), c0)      # epilogue 0: copy
    np.testing.assert_array_equal(run_bias_gelu(libs, name, dtype_id, c0, bias, epi), fused)  # bit-identical
    np.testing.assert_array_equal(run_bias_gelu(libs, name, dtype_id, c0, bias, epi, inplace=True), fused)


@pytest.mark.parametrize("dtype_id", [1, 2, 3], ids=["fp16", "fx16", "int8"])
@pytest.mark.parametrize("epi", [0, 1, 2])
def test_ap_path_is_bit_identical(libs, dtype_id, epi):
    """The path Vitis synthesises (ap_int arithmetic, fp16 products from integer significands) gives
    the same bits as the fast native path, subnormals and signed zeros included."""
    a, b, bias = _inputs(dtype_id, 17, 33, 140, seed=epi, big=True)
    fast = run_gemm(libs, f"gemm{dtype_id}_small", dtype_id, a, b, bias, epi)
    ap = run_gemm(libs, f"gemm{dtype_id}_small_ap", dtype_id, a, b, bias, epi)
    np.testing.assert_array_equal(fast.view(np.uint32), ap.view(np.uint32))
    check_gemm(dtype_id, a, b, bias, epi, fast)


@pytest.mark.parametrize("build_name,int_bits", [("gemm2_small", 6), ("gemm2_i12_small", 12),
                                                 ("gemm2_i1_small", 1)])
@pytest.mark.parametrize("epi", [0, 1, 2])
def test_fx16_saturation_and_int_bits(libs, build_name, int_bits, epi):
    # full-range raw inputs: sums overflow 16.16 and must saturate (AP_SAT)
    a, b, bias = _inputs(2, 13, 67, 21, seed=11 + epi, big=True)
    a[0, :], a[1, :], b[:, 0] = 32767, -32768, 32767    # force C[0,0] > max, C[1,0] < min
    c = run_gemm(libs, build_name, 2, a, b, bias, epi)
    check_gemm(2, a, b, bias, epi, c, int_bits=int_bits)
    if int_bits == 6 and epi == 0:
        assert (c == refs.I32_MAX).any() and (c == refs.I32_MIN).any()


def test_fp32_order_check_catches_a_different_order(libs):
    """The bit-exact check fails on a result summed in another order (what it exists to catch)."""
    a, b, bias = _inputs(0, 9, 300, 17, seed=4)
    c = run_gemm(libs, "gemm0_small", 0, a, b, bias, 0)
    other = (a.astype(np.float64) @ b.astype(np.float64)).astype(np.float32)
    assert not np.array_equal(other.view(np.uint32), c.view(np.uint32))
    with pytest.raises(AssertionError):
        check_gemm(0, a, b, bias, 0, other)


def test_gemm_bad_epilogue_and_empty_sizes_do_nothing(libs):
    a, b, bias = _inputs(0, 5, 6, 7, seed=1)
    g = geom("gemm0_small", 0)
    ap, bp, bi = lay.pack_a(a, g), lay.pack_b(b, g), lay.pack_bias(bias, 16)
    c = np.full(5 * 16 + GUARD * 16, 77, dtype=np.float32)
    lib = libs["gemm0_small"]
    lib.gemm(p(ap), *[p(x) for x in bp], p(c), p(bi), 5, 6, 7, 3)
    lib.gemm(p(ap), *[p(x) for x in bp], p(c), p(bi), 5, 0, 7, 0)
    lib.bias_gelu(p(c), p(bi), p(c), 5, 7, 3)
    assert (c == 77).all()


def test_gemm_epilogue0_does_not_read_bias(libs):
    a, b, _ = _inputs(0, 4, 4, 4, seed=2)
    g = geom("gemm0", 0)
    c = np.zeros(lay.c_words(4, 4, g) * 16, dtype=np.float32)
    ap, bp = lay.pack_a(a, g), lay.pack_b(b, g)          # kept alive across the call
    libs["gemm0"].gemm(p(ap), *[p(x) for x in bp], p(c), None, 4, 4, 4, 0)
    libs["gemm0"].bias_gelu(p(c), None, p(c), 4, 4, 0)
    check_gemm(0, a, b, np.zeros(4, np.float32), 0, lay.unpack_c(c, 4, 4, g))


@pytest.mark.parametrize("target", ["hw", "hw_emu"])
@pytest.mark.parametrize("dtype_id", list(DTYPES), ids=list(DTYPES.values()))
def test_design_file_resources_are_the_kernels_estimate(libs, tmp_path_factory, target, dtype_id):
    """The DSP and URAM the budget check counts for a gemm CU (kernels/designs/gemm.toml `resources`)
    are what gemm_types.h estimates for the design's parameters: change one, the other must follow.
    For the card's design the array also fills most of its SLR's DSPs."""
    from harness.designs import budget
    design = load_design("gemm", dtype=DTYPES[dtype_id], target=target)
    name = f"gemm{dtype_id}" if target == "hw" else None
    if name is None:
        lib = load(build(GEMM_SRC, tmp_path_factory.mktemp("emu-res"), design.build_defines("gemm")))
        lib.gemm_resources.argtypes = [ctypes.POINTER(ctypes.c_long)]
    else:
        lib = libs[name]
    out = (ctypes.c_long * 3)()
    lib.gemm_resources(out)
    dsp, uram, lutram_kbit = list(out)
    res = design.kernels["gemm"].resources
    assert (res["dsp"], res["uram"]) == (dsp, uram)
    assert res["lut"] >= lutram_kbit * 1024 / 64          # LUTRAM alone, 64 bits per LUT
    assert budget.check(design) == []
    if target == "hw":
        slr0 = {s.name: s for s in budget.platform_slrs()}["SLR0"].available["dsp"]
        assert dsp >= 0.75 * slr0


def test_an_oversized_gemm_design_is_refused_by_the_budget():
    """The static per-SLR check stops a gemm array larger than its SLR (what tests/test_placement does
    for memcpy's port buffers): 16 rows of fp32 MACs need ~5,200 DSPs in each SLR."""
    from harness.designs import budget
    d = load_design("gemm", dtype="fp32")
    k = d.kernels["gemm"]
    p = d.all_params("gemm")
    k.resources = dict(k.resources, dsp=16 * p["GEMM_COLS"] * p["GEMM_DSP_PER_MAC"] + p["GEMM_DSP_RESERVE"])
    problems = budget.check(d)
    assert problems and all("DSP" in x for x in problems) and "SLR0 needs" in problems[0]


@pytest.mark.parametrize("case", list(BAD))
def test_impossible_parameters_are_refused(libs, case):
    res = libs[f"bad:{case}"]
    assert isinstance(res, CompileError), f"{case} compiled but must be refused"
    assert BAD[case][1] in res.stderr


# ---------------------------------------------------------------------- flops
FLOPS_HOST = {0: np.float32, 1: np.float16, 2: np.int16, 3: np.int8}


def run_flops(libs, name, dtype_id, n_words, f, seed=0):
    """Four input ports of n_words words of random elements -> the kernel's outputs, per port."""
    rng = np.random.default_rng(seed)
    la = LANES[dtype_id]
    n = n_words * la
    if dtype_id in (0, 1):
        xs = [rng.uniform(-2, 2, n).astype(FLOPS_HOST[dtype_id]) for _ in range(4)]
    else:
        lim = 2 ** 15 if dtype_id == 2 else 2 ** 7
        xs = [rng.integers(-lim, lim, n).astype(FLOPS_HOST[dtype_id]) for _ in range(4)]
    outs = [np.full(n + GUARD * 16, 77, dtype=np.uint32) for _ in range(4)]
    libs[name].flops(*[p(x) for x in xs], *[p(o) for o in outs], n_words, f)
    for o in outs:
        assert (o[n:] == 77).all(), "flops wrote past its output"
    return xs, [o[:n] for o in outs]


@pytest.mark.parametrize("dtype_id", list(DTYPES), ids=list(DTYPES.values()))
@pytest.mark.parametrize("n_words,f", [(1, 1), (3, 7), (5, 64), (2, 4097)])
def test_flops_against_its_replayed_order(libs, dtype_id, n_words, f):
    """Every output bit-exact: fp32/fp16 replayed step by step in float32, fx16/int8 exact integers."""
    for name in (f"flops{dtype_id}_small", f"flops{dtype_id}"):
        xs, outs = run_flops(libs, name, dtype_id, n_words, f, seed=n_words + f)
        for x, o in zip(xs, outs):
            exp = refs.flops_expected(DTYPES[dtype_id], x, f, BUILDS[name][1])
            np.testing.assert_array_equal(o, exp.view(np.uint32))


@pytest.mark.parametrize("name,dtype_id", [("flops1_small_ap", 1), ("flops2_small_ap", 2)])
def test_flops_ap_path_is_bit_identical(libs, name, dtype_id):
    _, fast = run_flops(libs, f"flops{dtype_id}_small", dtype_id, 5, 33, seed=1)
    _, ap = run_flops(libs, name, dtype_id, 5, 33, seed=1)
    for a, b in zip(fast, ap):
        np.testing.assert_array_equal(a, b)


def test_flops_check_catches_too_few_multiply_adds(libs):
    """A kernel doing F-1 MACs (or accumulating in fp16) would not pass: the replay is that tight."""
    xs, outs = run_flops(libs, "flops0_small", 0, 3, 50, seed=9)
    assert not np.array_equal(outs[0], refs.flops_expected("fp32", xs[0], 49).view(np.uint32))
    half = refs.flops_expected("fp32", xs[0].astype(np.float16), 50)
    assert not np.array_equal(outs[0], half.view(np.uint32))


def test_flops_zero_does_nothing(libs):
    out = np.full(64, 77, dtype=np.uint32)
    x = np.ones(16, np.float32)
    libs["flops0_small"].flops(*[p(x)] * 4, *[p(out)] * 4, 0, 5)
    libs["flops0_small"].flops(*[p(x)] * 4, *[p(out)] * 4, 1, 0)
    assert (out == 77).all()


@pytest.mark.parametrize("dtype_id", list(DTYPES), ids=list(DTYPES.values()))
def test_flops_design_fills_most_of_the_dsps(libs, dtype_id):
    """The design file's DSPs per CU are the kernel's estimate, every SLR fits, and the three CUs (one
    per SLR) use >= 75% of the DSPs available to kernels."""
    from harness.designs import budget
    from harness.model import load_platform
    out = (ctypes.c_long * 1)()
    libs[f"flops{dtype_id}"].flops_resources(out)
    design = load_design("flops", dtype=DTYPES[dtype_id])
    k = design.kernels["flops"]
    assert k.resources["dsp"] == out[0]
    assert budget.check(design) == []
    assert k.cus * out[0] >= 0.75 * load_platform("u280").dsp_available.value


@pytest.mark.parametrize("case", list(FLOPS_BAD))
def test_flops_impossible_parameters_are_refused(libs, case):
    res = libs[f"bad:{case}"]
    assert isinstance(res, CompileError), f"{case} compiled but must be refused"
    assert FLOPS_BAD[case][1] in res.stderr


@pytest.mark.parametrize("dtype_id", [0, 1, 3], ids=["fp32", "fp16", "int8"])
def test_native_loop_order_is_bit_identical_to_the_hls_order(libs, dtype_id):
    a, b, bias = _inputs(dtype_id, 21, 150, 290, seed=8, big=True)
    fast = run_gemm(libs, f"gemm{dtype_id}_small", dtype_id, a, b, bias, 1)
    hls = run_gemm(libs, f"gemm{dtype_id}_small_hlsorder", dtype_id, a, b, bias, 1)
    np.testing.assert_array_equal(fast.view(np.uint32), hls.view(np.uint32))


# ------------------------------------------------------------ faults injected in the kernels
# The emulator's mistakes, played by the kernels themselves (kernels/common/emu_faults.h), must
# each be caught by the benches' own checks at every K; with no fault selected the hooked build
# gives the plain build's bits. The same through the CLI: tests/test_fault_injection.py.
from contextlib import contextmanager  # noqa: E402

from harness.bench import gemm as gb  # noqa: E402
from harness.runtime import faults  # noqa: E402

CODES = faults.kernel_fault_codes()
FAULT_K = sorted({1, 2, 7, 720, 2048, 12288, 65536} | {K for (_, K, _) in gb.smolvla_shapes()})
MEMORY_FAULTS = ["skip_word", "stale_rep", "wrong_index"]
GEMM_FAULTS = {
    0: ["operands:fp16", "operands:bf16", "operands:tf32", "accumulate:fp16", *MEMORY_FAULTS],
    1: ["operands:bf16", "accumulate:fp16", *MEMORY_FAULTS],     # fp16/tf32 operands: no change
    2: MEMORY_FAULTS,
    3: MEMORY_FAULTS,
}
BIAS_GELU_FAULTS = {0: ["operands:fp16", "operands:bf16", "operands:tf32", "skip_word", "wrong_index"],
                    1: ["operands:fp16", "operands:bf16", "operands:tf32", "skip_word", "wrong_index"],
                    2: ["skip_word", "wrong_index"], 3: ["skip_word", "wrong_index"]}


@contextmanager
def fault(lib, kernel: str, kind: str | None):
    sel = ctypes.c_int.in_dll(lib, f"harness_emu_fault_{kernel}")
    sel.value = CODES[kind] if kind else 0
    try:
        yield
    finally:
        sel.value = 0


def implemented(lib, kernel: str) -> set[str]:
    mask = ctypes.c_uint.in_dll(lib, f"harness_emu_faults_{kernel}").value
    return {k for k, c in CODES.items() if mask >> c & 1}


def test_fault_hooks_exist_only_in_the_emulators_build(libs):
    for name in ("gemm0", "gemm0_small", "memcpy"):
        with pytest.raises(ValueError):                    # no symbol at all in a plain build
            ctypes.c_int.in_dll(libs[name], "harness_emu_fault_gemm" if "gemm" in name
                                else "harness_emu_fault_bw_memcpy")
    for d in DTYPES:
        lib = libs[f"gemm{d}_small_faults"]
        assert implemented(lib, "gemm") == set(GEMM_FAULTS[d])
        assert implemented(lib, "bias_gelu") == set(BIAS_GELU_FAULTS[d])
    assert implemented(libs["memcpy_faults"], "bw_memcpy") == set(MEMORY_FAULTS)


@pytest.mark.parametrize("dtype_id", list(DTYPES), ids=list(DTYPES.values()))
@pytest.mark.parametrize("K", FAULT_K)
def test_every_fault_in_the_gemm_kernel_is_caught_at_every_k(libs, dtype_id, K):
    name = DTYPES[dtype_id]
    fname = f"gemm{dtype_id}_small_faults"
    lib = libs[fname]
    params = gemm_params(dtype_id)
    M, N = 3, 5
    a, b, bias = gb.gemm_inputs(name, M, K, N, gb.shape_rng(M, K, N), params)
    exp = refs.expected_gemm(name, a, b, bias, 0, params)
    with fault(lib, "gemm", None):
        good = run_gemm(libs, fname, dtype_id, a, b, bias, 0)
    plain = run_gemm(libs, f"gemm{dtype_id}_small", dtype_id, a, b, bias, 0)
    assert np.array_equal(good.view(np.uint32), plain.view(np.uint32))       # hooks off: same bits
    ok, msg = refs.compare(good, exp)
    assert ok, msg
    for kind in GEMM_FAULTS[dtype_id]:
        with fault(lib, "gemm", kind):
            bad = run_gemm(libs, fname, dtype_id, a, b, bias, 0)
        ok, msg = refs.compare(bad, exp)
        assert not ok, f"{kind} at K={K} passed the check"


@pytest.mark.parametrize("dtype_id", list(DTYPES), ids=list(DTYPES.values()))
@pytest.mark.parametrize("epi", [0, 2])
def test_every_fault_in_bias_gelu_is_caught(libs, dtype_id, epi):
    name = DTYPES[dtype_id]
    fname = f"gemm{dtype_id}_small_faults"
    lib = libs[fname]
    params = gemm_params(dtype_id)
    a, b, bias = gb.gemm_inputs(name, 6, 720, 9, gb.shape_rng(6, 720, 9), params)
    exp = refs.expected_gemm(name, a, b, bias, epi, params)
    c0 = run_gemm(libs, fname, dtype_id, a, b, bias, 0)
    assert refs.compare(run_bias_gelu(libs, fname, dtype_id, c0, bias, epi), exp)[0]
    for kind in BIAS_GELU_FAULTS[dtype_id]:
        with fault(lib, "bias_gelu", kind):
            bad = run_bias_gelu(libs, fname, dtype_id, c0, bias, epi)
        assert not refs.compare(bad, exp)[0], kind


@pytest.mark.parametrize("n_words", [2, 3, 1000])
@pytest.mark.parametrize("reps", [2, 5])
@pytest.mark.parametrize("mode", [0, 1, 2], ids=["read", "write", "copy"])
def test_every_fault_in_memcpy_is_caught(libs, mode, n_words, reps):
    lib = libs["memcpy_faults"]
    src = _words(n_words, 3 * n_words + reps)

    def launch():
        out = np.full((n_words, 8), 0xDEADBEEFDEADBEEF, dtype=np.uint64)      # poisoned, as the bench does
        lib.bw_memcpy(p(src), p(out), n_words, reps, mode, *SEQ)
        return out[:1] if mode == 0 else out

    want = (refs.memcpy_read_checksum(src, reps)[None, :] if mode == 0
            else refs.memcpy_write_pattern(n_words, reps) if mode == 1
            else src ^ refs.memcpy_copy_key(reps))
    with fault(lib, "bw_memcpy", None):
        np.testing.assert_array_equal(launch(), want)
    np.testing.assert_array_equal(launch(), want)
    for kind in MEMORY_FAULTS:
        with fault(lib, "bw_memcpy", kind):
            assert not np.array_equal(launch(), want), kind


def test_stale_rep_needs_two_reps_and_wrong_index_two_words(libs):
    """The documented limits: with one rep there is no rep to repeat, and with one word a
    read or copy has no other word to take (a write still writes another index's pattern)."""
    lib = libs["memcpy_faults"]
    src = _words(4, 1)
    out = np.zeros((4, 8), dtype=np.uint64)
    with fault(lib, "bw_memcpy", "stale_rep"):
        lib.bw_memcpy(p(src), p(out), 4, 1, 2, *SEQ)
    np.testing.assert_array_equal(out, src)
    with fault(lib, "bw_memcpy", "wrong_index"):
        lib.bw_memcpy(p(src), p(out), 1, 1, 2, *SEQ)
        np.testing.assert_array_equal(out[:1], src[:1])
        lib.bw_memcpy(p(src), p(out), 1, 1, 1, *SEQ)
        assert not np.array_equal(out[:1], refs.memcpy_write_pattern(1))


# ------------------------------------------------------------- memcpy access patterns
PATTERN_CODES = memcpy_patterns()
POISON = 0xDEADBEEFDEADBEEF
MODES = {"read": 0, "write": 1, "copy": 2}
# (n_words, txn_words, stride_words, reps): transactions of 1 word up to the whole buffer, strides
# that wrap, repeat words (stride 2 x txn over half the starts) or leave words unvisited.
# (64, 4, 7, 2) and (256, 8, 12, 1): a transaction runs past the buffer's end and wraps to word 0 (two
# burst_maxi requests, kernels/memcpy/memcpy.cpp).
PATTERN_CASES = [(64, 1, 3, 3), (64, 4, 8, 2), (256, 2, 6, 5), (64, 64, 64, 2), (128, 8, 200, 1),
                 (1024, 16, 16, 2), (64, 4, 7, 2), (256, 8, 12, 1)]


def run_pattern(lib, mode, pattern, src, n, txn, stride, reps, seed):
    out = np.full((n, 8), POISON, dtype=np.uint64)          # poisoned, as the bench does
    lib.bw_memcpy(p(src), p(out), n, reps, MODES[mode], PATTERN_CODES[pattern], txn, stride, seed)
    return out[:1] if mode == "read" else out


def pattern_want(mode, pattern, src, n, txn, stride, reps, seed):
    if mode == "read":
        visits = refs.memcpy_visits(pattern, n, txn, stride, seed, reps)
        return refs.memcpy_pattern_read_checksum(src, reps, visits)[None, :]
    last = refs.memcpy_last_visit(pattern, n, txn, stride, seed, reps)
    return refs.memcpy_pattern_output(mode, n, last, POISON, src)


@pytest.mark.parametrize("build_name", ["memcpy", "memcpy_ap"])
@pytest.mark.parametrize("pattern", ["stride", "random"])
@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("case", PATTERN_CASES, ids=[f"n{c[0]}-t{c[1]}-s{c[2]}-r{c[3]}" for c in PATTERN_CASES])
def test_the_numpy_replay_matches_the_kernels_transactions(libs, build_name, pattern, mode, case):
    n, txn, stride, reps = case
    src = _words(n, n + txn)
    got = run_pattern(libs[build_name], mode, pattern, src, n, txn, stride, reps, 12345)
    np.testing.assert_array_equal(got, pattern_want(mode, pattern, src, n, txn, stride, reps, 12345))


def test_the_replay_is_the_documented_generator():
    """The transaction starts by hand from the contract in memcpy.cpp, for a few (seed, rep, t)."""
    def mix(h):
        h ^= h >> 16
        h = h * 0x85EBCA6B & 0xFFFFFFFF
        h ^= h >> 13
        h = h * 0xC2B2AE35 & 0xFFFFFFFF
        return h ^ (h >> 16)
    for seed, rep in ((0, 0), (1, 3), (2**32 - 1, 7)):
        key = mix(seed ^ mix(rep ^ 0x9E3779B9))
        want = [(mix(key ^ t) * 4) & 0xFFFFFFFF for t in range(16)]
        assert list(refs.memcpy_txn_starts("random", 64, 4, 0, seed, rep)) == want
        assert list(refs.memcpy_addresses("random", 64, 4, 0, seed, rep)[:4]) == [(want[0] + k) & 63 for k in range(4)]
    # stride 6 over 16 words, 2-word transactions: starts 0, 6, 12, 18 & 15 = 2, 8, 14, 4, 10
    assert list(refs.memcpy_addresses("stride", 16, 2, 6, 0, 0)) == [0, 1, 6, 7, 12, 13, 2, 3, 8, 9, 14, 15,
                                                                     4, 5, 10, 11]


def test_random_starts_cover_the_buffer_and_change_with_seed_and_rep():
    a = refs.memcpy_txn_starts("random", 1 << 16, 1, 0, 1, 0) & np.uint32((1 << 16) - 1)
    assert len(np.unique(a)) > 0.6 * a.size                  # ~63% distinct when drawn with replacement
    assert not np.array_equal(a, refs.memcpy_txn_starts("random", 1 << 16, 1, 0, 2, 0) & np.uint32(0xFFFF))
    assert not np.array_equal(a, refs.memcpy_txn_starts("random", 1 << 16, 1, 0, 1, 1) & np.uint32(0xFFFF))


# A kernel that gets the pattern wrong: the real kernel given other scalars than the host verifies
# against plays one that ignores the seed (runs seed 0) or swaps stride and transaction size; one
# that drops the last transaction of every rep is played in numpy (the real kernel has no such knob).
@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("mistake", ["ignores the seed", "swaps stride and txn", "drops a transaction"])
def test_a_kernel_that_gets_the_pattern_wrong_fails_verification(libs, mode, mistake):
    lib = libs["memcpy"]
    n, txn, stride, reps, seed = 256, 2, 8, 2, 99
    src = _words(n, 5)
    pattern = "stride" if mistake == "swaps stride and txn" else "random"
    want = pattern_want(mode, pattern, src, n, txn, stride, reps, seed)
    assert np.array_equal(run_pattern(lib, mode, pattern, src, n, txn, stride, reps, seed), want)
    if mistake == "ignores the seed":
        bad = run_pattern(lib, mode, pattern, src, n, txn, stride, reps, 0)
    elif mistake == "swaps stride and txn":
        bad = run_pattern(lib, mode, pattern, src, n, stride, txn, reps, seed)
    else:
        dropped = _drop_last_transaction(mode, src, n, txn, stride, reps, seed)
        bad = dropped[:1] if mode == "read" else dropped
    assert not np.array_equal(bad, want), mistake


def _drop_last_transaction(mode, src, n, txn, stride, reps, seed):
    """What a random-pattern kernel whose transaction loop stops one transaction early leaves."""
    out = np.full((n, 8), POISON, dtype=np.uint64)
    addrs = [refs.memcpy_addresses("random", n, txn, stride, seed, r)[:-txn] for r in range(reps)]
    if mode == "read":
        visits = sum(np.bincount(a, minlength=n).astype(np.uint64) for a in addrs)
        with np.errstate(over="ignore"):
            s = ((src ^ refs.memcpy_pattern(n)) * visits[:, None]).sum(axis=0, dtype=np.uint64)
            out[0] = s + np.uint64(((n - txn) * refs.REP_KEY * (reps * (reps - 1) // 2)) % 2**64)
        return out
    last_r, last_t = np.full(n, -1, dtype=np.int64), np.zeros(n, dtype=np.int64)
    for r, a in enumerate(addrs):
        for i, w in enumerate(a):
            last_r[w], last_t[w] = r, i // txn
    return refs.memcpy_pattern_output(mode, n, (last_r, last_t), POISON, src)


@pytest.mark.parametrize("pattern", ["stride", "random"])
@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("case", [(64, 1, 3, 3), (256, 4, 8, 2), (64, 16, 32, 5), (1024, 64, 64, 2)],
                         ids=["n64-t1", "n256-t4", "n64-t16-repeats", "n1024-t64"])
def test_every_fault_in_memcpy_is_caught_for_the_patterns(libs, pattern, mode, case):
    """skip_word, stale_rep and wrong_index with stride and random transactions, including strides that
    write the same words several times in one rep (stride 2 x txn over half the buffer)."""
    lib = libs["memcpy_faults"]
    n, txn, stride, reps = case
    src = _words(n, 11 * n + txn)
    want = pattern_want(mode, pattern, src, n, txn, stride, reps, 7)
    with fault(lib, "bw_memcpy", None):
        np.testing.assert_array_equal(run_pattern(lib, mode, pattern, src, n, txn, stride, reps, 7), want)
    for kind in MEMORY_FAULTS:
        with fault(lib, "bw_memcpy", kind):
            assert not np.array_equal(run_pattern(lib, mode, pattern, src, n, txn, stride, reps, 7), want), kind


def test_bad_pattern_codes_and_zero_txn_do_nothing(libs):
    src = _words(8, 2)
    out = np.full((8, 8), 5, dtype=np.uint64)
    for pattern, txn in ((3, 1), (99, 1), (PATTERN_CODES["random"], 0), (PATTERN_CODES["stride"], 0)):
        for mode in (0, 1, 2, 7):
            libs["memcpy"].bw_memcpy(p(src), p(out), 8, 2, mode, pattern, txn, 1, 1)
            assert (out == 5).all(), (pattern, txn, mode)


FLOPS_FAULTS = {0: ["operands:fp16", "operands:bf16", "operands:tf32", "accumulate:fp16"],
                1: ["operands:bf16", "accumulate:fp16"], 2: [], 3: []}


@pytest.mark.parametrize("dtype_id", list(DTYPES), ids=list(DTYPES.values()))
def test_every_fault_in_the_flops_kernel_is_caught(libs, dtype_id):
    """flops carries the precision faults of the shared MAC (fp32/fp16 designs); its bit-exact
    replay rejects each, and with none selected the hooked build gives the plain build's bits."""
    name = f"flops{dtype_id}_faults"
    lib = libs[name]
    assert implemented(lib, "flops") == set(FLOPS_FAULTS[dtype_id])
    xs, outs = run_flops(libs, name, dtype_id, 3, 37, seed=4)
    _, plain = run_flops(libs, f"flops{dtype_id}_small", dtype_id, 3, 37, seed=4)
    want = refs.flops_expected(DTYPES[dtype_id], xs[0], 37, BUILDS[name][1]).view(np.uint32)
    np.testing.assert_array_equal(outs[0], want)
    np.testing.assert_array_equal(outs[0], plain[0])
    for kind in FLOPS_FAULTS[dtype_id]:
        with fault(lib, "flops", kind):
            _, bad = run_flops(libs, name, dtype_id, 3, 37, seed=4)
        assert not np.array_equal(bad[0], want), kind
