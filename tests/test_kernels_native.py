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

from harness.bench import reference as refs
from harness.designs import load_design

sys.path.insert(0, str(Path(__file__).resolve().parent))
from native_util import CompileError, build, load  # noqa: E402

U32 = ctypes.c_uint32
VP = ctypes.c_void_p
GEMM_SRC = ["gemm/gemm.cpp", "gemm/bias_gelu.cpp"]
SMALL = {"GEMM_TILE_M": 8, "GEMM_TILE_N": 8, "GEMM_TILE_K": 4, "GEMM_PE": 4}
DTYPES = {0: "fp32", 1: "fp16", 2: "fx16", 3: "int8"}

# Build parameters start from the design files (their only source); tests override some.
MEMCPY = load_design("memcpy").all_params("bw_memcpy")


def gemm_params(dtype_id: int, **overrides) -> dict:
    return {**load_design("gemm", dtype=DTYPES[dtype_id]).all_params("gemm"), **overrides}


BUILDS: dict[str, tuple[list[str], dict]] = {
    "memcpy": (["memcpy/memcpy.cpp"], MEMCPY),
    "memcpy_ap": (["memcpy/memcpy.cpp"], {**MEMCPY, "HLSC_AP_ARITH": 1}),
    "nop": (["empty/empty.cpp"], {}),
}
for _d in DTYPES:
    BUILDS[f"gemm{_d}"] = (GEMM_SRC, gemm_params(_d))                      # the design's tiles
    BUILDS[f"gemm{_d}_small"] = (GEMM_SRC, gemm_params(_d, **SMALL))
for _d in (2, 3):   # ap_int arithmetic path (what Vitis synthesises) must give the same bits
    BUILDS[f"gemm{_d}_small_ap"] = (GEMM_SRC, gemm_params(_d, HLSC_AP_ARITH=1, **SMALL))
BUILDS["gemm2_i12_small"] = (GEMM_SRC, gemm_params(2, GEMM_FX_INT_BITS=12, **SMALL))
BUILDS["gemm2_i1_small"] = (GEMM_SRC, gemm_params(2, GEMM_FX_INT_BITS=1, **SMALL))

# impossible parameter combinations: (defines, reason the compiler must print)
BAD = {
    "pe_not_dividing_tn": ({"GEMM_PE": 48}, "GEMM_TILE_N must be a multiple of GEMM_PE"),
    "fx_int_bits": ({"GEMM_DTYPE_ID": 2, "GEMM_FX_INT_BITS": 16},
                    "GEMM_FX_INT_BITS must be 1..15"),
    "dsp_budget": ({"GEMM_TILE_M": 16, "GEMM_TILE_N": 2048, "GEMM_TILE_K": 1, "GEMM_PE": 2048},
                   "GEMM_PE too large for the DSP budget"),
    "bram_budget": ({"GEMM_TILE_M": 4096, "GEMM_TILE_N": 1024, "GEMM_TILE_K": 512},
                    "exceed the BRAM budget"),
    "revisit": ({"GEMM_TILE_M": 8, "GEMM_TILE_N": 512, "GEMM_PE": 512},
                "must be >= 16: each accumulator is revisited"),
    "bad_dtype": ({"GEMM_DTYPE_ID": 7}, "GEMM_DTYPE_ID must be 0 (fp32)"),
}
BAD = {k: ({**gemm_params(0), **d}, why) for k, (d, why) in BAD.items()}
# without the design file's flags the kernels refuse to build, naming where the flags come from
BAD["no_design_flags"] = ({}, "kernels/designs/gemm.toml")


@pytest.fixture(scope="session")
def libs(tmp_path_factory):
    cache = tmp_path_factory.mktemp("native-kernels")
    jobs = {**{k: v for k, v in BUILDS.items()},
            **{f"bad:{k}": (GEMM_SRC[:1], d) for k, (d, _) in BAD.items()}}

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
            lib.bw_memcpy.argtypes = [VP, VP, U32, U32, U32]
            lib.bw_memcpy.restype = None
        elif name == "nop":
            lib.nop.argtypes = []
            lib.nop.restype = None
        else:
            lib.gemm.argtypes = [VP, VP, VP, VP, U32, U32, U32, U32]
            lib.gemm.restype = None
            lib.bias_gelu.argtypes = [VP, VP, VP, U32, U32, U32]
            lib.bias_gelu.restype = None
        out[name] = lib
    return out


def p(a: np.ndarray) -> int:
    assert a.flags.c_contiguous
    return a.ctypes.data


# --------------------------------------------------------------------- memcpy
def _words(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 2**64, size=(n, 8), dtype=np.uint64, endpoint=False)


@pytest.mark.parametrize("build_name", ["memcpy", "memcpy_ap"])
@pytest.mark.parametrize("n_words", [1, 3, 1000])
@pytest.mark.parametrize("reps", [1, 3])
def test_memcpy_read(libs, build_name, n_words, reps):
    src = _words(n_words, n_words)
    out = np.full((n_words, 8), 0xAB, dtype=np.uint64)
    libs[build_name].bw_memcpy(p(src), p(out), n_words, reps, 0)
    np.testing.assert_array_equal(out[0], refs.memcpy_read_checksum(src, reps))
    assert (out[1:] == 0xAB).all()                      # only out[0] is written


@pytest.mark.parametrize("build_name", ["memcpy", "memcpy_ap"])
@pytest.mark.parametrize("n_words", [1, 3, 1000])
@pytest.mark.parametrize("reps", [1, 3])
def test_memcpy_write(libs, build_name, n_words, reps):
    out = np.zeros((n_words + 1, 8), dtype=np.uint64)   # one guard word
    libs[build_name].bw_memcpy(None, p(out), n_words, reps, 1)
    np.testing.assert_array_equal(out[:n_words], refs.memcpy_write_pattern(n_words))
    assert (out[n_words] == 0).all()


@pytest.mark.parametrize("build_name", ["memcpy", "memcpy_ap"])
@pytest.mark.parametrize("n_words", [1, 3, 1000])
@pytest.mark.parametrize("reps", [1, 3])
def test_memcpy_copy(libs, build_name, n_words, reps):
    src = _words(n_words, 7 + n_words)
    out = np.zeros((n_words + 1, 8), dtype=np.uint64)
    libs[build_name].bw_memcpy(p(src), p(out), n_words, reps, 2)
    np.testing.assert_array_equal(out[:n_words], src)
    assert (out[n_words] == 0).all()


def test_memcpy_bad_mode_and_zero_words_do_nothing(libs):
    src = _words(4, 1)
    out = np.full((4, 8), 5, dtype=np.uint64)
    for mode in (3, 99):
        libs["memcpy"].bw_memcpy(p(src), p(out), 4, 2, mode)
        assert (out == 5).all()
    libs["memcpy"].bw_memcpy(p(src), p(out), 0, 2, 2)
    libs["memcpy"].bw_memcpy(p(src), p(out), 4, 0, 1)
    assert (out == 5).all()


def test_memcpy_checksum_wraps(libs):
    src = np.full((3, 8), 2**64 - 1, dtype=np.uint64)
    out = np.zeros((1, 8), dtype=np.uint64)
    libs["memcpy"].bw_memcpy(p(src), p(out), 3, 5, 0)
    np.testing.assert_array_equal(out[0], np.full(8, 2**64 - 15, dtype=np.uint64))


def test_nop(libs):
    libs["nop"].nop()


# ----------------------------------------------------------------------- gemm
SIZES = [(1, 1, 1), (7, 13, 5), (3, 100, 2), (64, 64, 64), (65, 67, 129), (9, 1, 70)]
# larger than the design's tiles (128 x 512 x 256) in every dimension: several tiles and K chunks
MULTI_TILE = (130, 300, 520)
GUARD = 16   # elements after C that must stay untouched


def _inputs(dtype_id: int, m: int, k: int, n: int, seed: int, big: bool = False):
    rng = np.random.default_rng(seed)
    if dtype_id in (0, 1):
        t = np.float32 if dtype_id == 0 else np.float16
        a = rng.uniform(-1, 1, (m, k)).astype(t)
        b = rng.uniform(-1, 1, (k, n)).astype(t)
        bias = rng.uniform(-1, 1, n).astype(t)
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


def run_gemm(lib, dtype_id, a, b, bias, epi):
    m, k = a.shape
    n = b.shape[1]
    buf = np.full(m * n + GUARD, 77, dtype=_out_dtype(dtype_id))
    lib.gemm(p(a), p(b), p(buf), p(bias), m, k, n, epi)
    assert (buf[m * n:] == 77).all(), "gemm wrote past the end of C"
    return buf[: m * n].reshape(m, n)


def run_bias_gelu(lib, c, bias, epi, out=None):
    m, n = c.shape
    if out is None:
        out = np.full_like(c, 77)
    lib.bias_gelu(p(c), p(bias), p(out), m, n, epi)
    return out


DTYPE_NAMES = {0: "fp32", 1: "fp16", 2: "fx16", 3: "int8"}


def check_gemm(dtype_id, a, b, bias, epi, c, int_bits=6):
    """The benches' own verification (harness.bench.reference), so tests and benches agree."""
    ok, msg = refs.check_gemm(DTYPE_NAMES[dtype_id], a, b, bias, epi, c, {"GEMM_FX_INT_BITS": int_bits})
    assert ok, msg


@pytest.mark.parametrize("tiles", ["default", "small"])
@pytest.mark.parametrize("dtype_id", list(DTYPES), ids=list(DTYPES.values()))
@pytest.mark.parametrize("epi", [0, 1, 2])
@pytest.mark.parametrize("mkn", SIZES, ids=lambda s: "x".join(map(str, s)))
def test_gemm_against_numpy(libs, tiles, dtype_id, epi, mkn):
    lib = libs[f"gemm{dtype_id}" + ("_small" if tiles == "small" else "")]
    a, b, bias = _inputs(dtype_id, *mkn, seed=sum(mkn) + epi)
    c = run_gemm(lib, dtype_id, a, b, bias, epi)
    check_gemm(dtype_id, a, b, bias, epi, c)


@pytest.mark.parametrize("dtype_id", list(DTYPES), ids=list(DTYPES.values()))
def test_gemm_with_the_design_tiles_spans_several_tiles_and_k_chunks(libs, dtype_id):
    a, b, bias = _inputs(dtype_id, *MULTI_TILE, seed=7)
    c = run_gemm(libs[f"gemm{dtype_id}"], dtype_id, a, b, bias, 2)
    check_gemm(dtype_id, a, b, bias, 2, c)


@pytest.mark.parametrize("dtype_id", list(DTYPES), ids=list(DTYPES.values()))
@pytest.mark.parametrize("epi", [1, 2])
def test_fused_equals_unfused(libs, dtype_id, epi):
    lib = libs[f"gemm{dtype_id}_small"]
    a, b, bias = _inputs(dtype_id, 19, 23, 29, seed=3 + epi)
    fused = run_gemm(lib, dtype_id, a, b, bias, epi)
    c0 = run_gemm(lib, dtype_id, a, b, bias, 0)
    np.testing.assert_array_equal(run_bias_gelu(lib, c0, bias, 0), c0)      # epilogue 0: copy
    unfused = run_bias_gelu(lib, c0, bias, epi)
    np.testing.assert_array_equal(unfused, fused)                            # bit-identical
    inplace = c0.copy()
    run_bias_gelu(lib, inplace, bias, epi, out=inplace)                      # in == out
    np.testing.assert_array_equal(inplace, fused)


@pytest.mark.parametrize("dtype_id", [2, 3], ids=["fx16", "int8"])
@pytest.mark.parametrize("epi", [0, 1, 2])
def test_ap_int_path_is_bit_identical(libs, dtype_id, epi):
    a, b, bias = _inputs(dtype_id, 17, 33, 11, seed=epi, big=True)
    fast = run_gemm(libs[f"gemm{dtype_id}_small"], dtype_id, a, b, bias, epi)
    ap = run_gemm(libs[f"gemm{dtype_id}_small_ap"], dtype_id, a, b, bias, epi)
    np.testing.assert_array_equal(fast, ap)
    check_gemm(dtype_id, a, b, bias, epi, fast)


@pytest.mark.parametrize("build_name,int_bits", [("gemm2_small", 6), ("gemm2_i12_small", 12),
                                                 ("gemm2_i1_small", 1)])
@pytest.mark.parametrize("epi", [0, 1, 2])
def test_fx16_saturation_and_int_bits(libs, build_name, int_bits, epi):
    # full-range raw inputs: sums overflow 16.16 and must saturate (AP_SAT)
    a, b, bias = _inputs(2, 13, 67, 21, seed=11 + epi, big=True)
    a[0, :], a[1, :], b[:, 0] = 32767, -32768, 32767    # force C[0,0] > max, C[1,0] < min
    c = run_gemm(libs[build_name], 2, a, b, bias, epi)
    check_gemm(2, a, b, bias, epi, c, int_bits=int_bits)
    if int_bits == 6 and epi == 0:
        assert (c == refs.I32_MAX).any() and (c == refs.I32_MIN).any()


def test_gemm_bad_epilogue_and_empty_sizes_do_nothing(libs):
    lib = libs["gemm0_small"]
    a, b, bias = _inputs(0, 5, 6, 7, seed=1)
    c = np.full((5, 7), 77, dtype=np.float32)
    lib.gemm(p(a), p(b), p(c), p(bias), 5, 6, 7, 3)
    lib.gemm(p(a), p(b), p(c), p(bias), 5, 0, 7, 0)
    lib.bias_gelu(p(c), p(bias), p(c), 5, 7, 3)
    assert (c == 77).all()


def test_gemm_epilogue0_does_not_read_bias(libs):
    a, b, _ = _inputs(0, 4, 4, 4, seed=2)
    c = np.zeros((4, 4), dtype=np.float32)
    libs["gemm0"].gemm(p(a), p(b), p(c), None, 4, 4, 4, 0)   # NULL bias must be fine
    libs["gemm0"].bias_gelu(p(c), None, p(c), 4, 4, 0)
    check_gemm(0, a, b, np.zeros(4, np.float32), 0, c)


@pytest.mark.parametrize("case", list(BAD))
def test_impossible_parameters_are_refused(libs, case):
    res = libs[f"bad:{case}"]
    assert isinstance(res, CompileError), f"{case} compiled but must be refused"
    assert BAD[case][1] in res.stderr
