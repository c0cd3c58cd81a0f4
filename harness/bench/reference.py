"""What the kernels must compute, and the host-side check every launch gets.

The GEMM check replays each kernel's documented arithmetic (kernels/gemm/README.md,
"Summation order"): fp32 and fp16 are summed in float32 exactly as the kernel sums them,
so a correct kernel matches bit for bit and a kernel that rounds its operands or its
accumulator to 16 bits (or gets one element wrong by 1e-3) cannot pass at any K. fx16
and int8 are exact integer arithmetic, compared exactly. The one inexact step is the
GELU epilogue's tanh, bounded on its own (TANH_ULPS). The memcpy contract is in
kernels/memcpy/memcpy.cpp; its references are here too.

tests/test_verification.py feeds every check the mistakes it exists for;
tests/test_kernels_native.py checks the kernels against these functions.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.designs.codes import epilogue_codes

I32_MIN, I32_MAX = -(2**31), 2**31 - 1

EPILOGUES = epilogue_codes()          # kernel `epilogue` argument (kernels/designs/gemm.toml [codes.epilogue])
# Host numpy types of the kernel ports per dtype (kernels/gemm/README.md "Types per dtype").
ELEM_TYPES = {"fp32": np.float32, "fp16": np.float16, "fx16": np.int16, "int8": np.int8}   # A, B, bias
OUT_TYPES = {"fp32": np.float32, "fp16": np.float32, "fx16": np.int32, "int8": np.int32}   # C, out


# --------------------------------------------------------------------- memcpy
# kernels/memcpy/memcpy.cpp: pat(i, j) = ((i << 3) | j) ^ WRITE_KEY, rk(r) = r * REP_KEY (mod 2^64).
WRITE_KEY = 0x9E3779B97F4A7C15
REP_KEY = 0xD6E8FEB86659FD93            # odd: n * (rk(r) - rk(r-1)) is never 0 mod 2^64 for n < 2^64
_M64 = (1 << 64) - 1


def memcpy_pattern(n_words: int) -> np.ndarray:
    """(n_words, 8) uint64: word i, lane j = ((i << 3) | j) ^ WRITE_KEY."""
    i = np.arange(n_words, dtype=np.uint64)[:, None]
    j = np.arange(8, dtype=np.uint64)[None, :]
    return ((i << np.uint64(3)) | j) ^ np.uint64(WRITE_KEY)


def memcpy_rep_key(rep: int) -> np.uint64:
    """rk(r): what repetition r mixes into every word it writes or reads."""
    return np.uint64((rep * REP_KEY) & _M64)


def memcpy_write_pattern(n_words: int, reps: int = 1) -> np.ndarray:
    """What mode write leaves in out: the last repetition's pat(i, j) ^ rk(reps - 1)."""
    return memcpy_pattern(n_words) ^ memcpy_rep_key(max(reps, 1) - 1)


def memcpy_copy_key(reps: int) -> np.uint64:
    """Mode copy leaves out[i] = in[i] ^ rk(reps - 1) (the last repetition's key) in every lane."""
    return memcpy_rep_key(max(reps, 1) - 1)


def memcpy_read_checksum(words: np.ndarray, reps: int) -> np.ndarray:
    """words: (n, 8) uint64 -> what mode read stores in out[0] lane j:

        sum over r < reps, i < n of ((in[i]_j ^ pat(i, j)) + rk(r))   (mod 2^64)
      = reps * sum_i (in[i]_j ^ pat(i, j)) + n * REP_KEY * reps (reps - 1) / 2

    Every word counts at its own index (a permutation of the words changes the sum) and
    every repetition counts with its own number (a repeated repetition changes it).
    """
    words = np.asarray(words, dtype=np.uint64).reshape(-1, 8)
    n = words.shape[0]
    with np.errstate(over="ignore"):
        s = (words ^ memcpy_pattern(n)).sum(axis=0, dtype=np.uint64)
        s = s * np.uint64(reps & _M64)
        s = s + np.uint64((n * REP_KEY * (reps * (reps - 1) // 2)) & _M64)
    return s.astype(np.uint64)


# Patterns (kernels/memcpy/memcpy.cpp "Patterns"): stride and random transactions of txn_words
# words over n_words (both powers of two), replayed in uint32 arithmetic exactly as the kernel.
REP_SALT = 0x9E3779B9
TXN_KEY = 0xC2B2AE3D27D4EB4F            # tk(t) = t * TXN_KEY: write/copy content names the transaction
_U32 = np.uint32


def mix32(h) -> np.ndarray:
    """murmur3's 32-bit finalizer, elementwise on uint32 (the kernel's memcpy_mix)."""
    h = np.asarray(h, dtype=np.uint32).copy()
    with np.errstate(over="ignore"):
        h ^= h >> _U32(16)
        h *= _U32(0x85EBCA6B)
        h ^= h >> _U32(13)
        h *= _U32(0xC2B2AE35)
        h ^= h >> _U32(16)
    return h


def memcpy_txn_starts(pattern: str, n_words: int, txn_words: int, stride_words: int, seed: int,
                      rep: int) -> np.ndarray:
    """Start word (before the mask) of every transaction of repetition `rep`, uint32."""
    t = np.arange(n_words // txn_words, dtype=np.uint32)
    with np.errstate(over="ignore"):
        if pattern == "stride":
            return t * _U32(stride_words & 0xFFFFFFFF)
        if pattern == "random":
            key = mix32(_U32(seed & 0xFFFFFFFF) ^ mix32(_U32((rep ^ REP_SALT) & 0xFFFFFFFF)))
            return mix32(key ^ t) * _U32(txn_words)
    raise ValueError(f"no transaction generator for pattern {pattern!r}")


def memcpy_addresses(pattern: str, n_words: int, txn_words: int, stride_words: int, seed: int,
                     rep: int) -> np.ndarray:
    """The word every beat of repetition `rep` touches, in issue order (n_words int64)."""
    starts = memcpy_txn_starts(pattern, n_words, txn_words, stride_words, seed, rep)
    with np.errstate(over="ignore"):
        a = starts[:, None] + np.arange(txn_words, dtype=np.uint32)[None, :]
    return (a.reshape(-1) & _U32(n_words - 1)).astype(np.int64)


def _rep_addresses(pattern, n_words, txn_words, stride_words, seed, reps):
    """(rep, addresses) per repetition; stride's are the same every rep, so given once for rep None."""
    if pattern == "stride":
        yield None, memcpy_addresses(pattern, n_words, txn_words, stride_words, seed, 0)
        return
    for r in range(reps):
        yield r, memcpy_addresses(pattern, n_words, txn_words, stride_words, seed, r)


def memcpy_visits(pattern: str, n_words: int, txn_words: int, stride_words: int, seed: int,
                  reps: int) -> np.ndarray:
    """uint64 per word: how many beats touched it over all repetitions (what read's checksum weighs)."""
    counts = np.zeros(n_words, dtype=np.uint64)
    for r, a in _rep_addresses(pattern, n_words, txn_words, stride_words, seed, reps):
        c = np.bincount(a, minlength=n_words).astype(np.uint64)
        counts += c * np.uint64(reps) if r is None else c
    return counts


def memcpy_last_visit(pattern: str, n_words: int, txn_words: int, stride_words: int, seed: int,
                      reps: int) -> tuple[np.ndarray, np.ndarray]:
    """(rep, transaction) of the last beat that wrote each word (write, copy), int64; rep -1 where none did."""
    last_r = np.full(n_words, -1, dtype=np.int64)
    last_t = np.zeros(n_words, dtype=np.int64)
    for r, a in _rep_addresses(pattern, n_words, txn_words, stride_words, seed, reps):
        words, back = np.unique(a[::-1], return_index=True)     # first from the end: the last visit
        last_r[words] = reps - 1 if r is None else r
        last_t[words] = (a.size - 1 - back) // txn_words
    return last_r, last_t


def memcpy_pattern_read_checksum(words: np.ndarray, reps: int, visits: np.ndarray) -> np.ndarray:
    """What read leaves in out[0] for a pattern: each word weighed by its visits (memcpy_visits),
    plus every beat's rk(r): n_words beats per rep, as in the seq checksum."""
    words = np.asarray(words, dtype=np.uint64).reshape(-1, 8)
    n = words.shape[0]
    with np.errstate(over="ignore"):
        s = ((words ^ memcpy_pattern(n)) * visits[:, None]).sum(axis=0, dtype=np.uint64)
        s = s + np.uint64((n * REP_KEY * (reps * (reps - 1) // 2)) & _M64)
    return s.astype(np.uint64)


def memcpy_pattern_output(mode: str, n_words: int, last: tuple, poison: int,
                          src: np.ndarray | None = None) -> np.ndarray:
    """(n_words, 8) uint64 that write or copy leaves: pat(a, j) (write) or in[a] (copy) XOR rk(r) ^ tk(t)
    of the word's last visit (memcpy_last_visit), and `poison` where none wrote."""
    last_r, last_t = last
    with np.errstate(over="ignore"):
        keys = ((last_r.clip(min=0).astype(np.uint64) * np.uint64(REP_KEY))
                ^ (last_t.astype(np.uint64) * np.uint64(TXN_KEY)))[:, None]
    base = memcpy_pattern(n_words) if mode == "write" else np.asarray(src, dtype=np.uint64).reshape(-1, 8)
    return np.where((last_r >= 0)[:, None], base ^ keys, np.uint64(poison)).astype(np.uint64)


# ----------------------------------------------------------------------- gemm
# GELU, as epilogue.h evaluates it in fp32: u = k0 (x + k1 x^3), y = 0.5 x (1 + tanh u).
GELU_K0 = np.float32(0.7978845608028654)
GELU_K1 = np.float32(0.044715)
# The kernels' tanh is std::tanh (glibc tanhf) in emulation and hls::tanh on the card, neither
# correctly rounded: glibc's manual lists 2 ulp as tanhf's largest known error on x86-64, and
# UG1399 ("HLS Math Library Accuracy") says hls_math functions are typically within 1-4 ULP.
# The check accepts tanh within TANH_ULPS float32 ulps of the correctly rounded value: room for
# both, and still tight. 8 ulps of tanh (8 * 2^-24 near |t| = 1) widen the accepted y to below
# 1e-5 of y where |y| > 0.1 and below 1e-3 of y where |y| > 0.002 (x > -3.25); only where
# 1 + tanh u cancels (x < -3.25, |y| < 0.002) is the width larger than that in relative terms,
# and there it is below 2.4e-7 |x| absolute (tests/test_verification.py measures both).
# Everything else in the epilogue is fp32 add/multiply, replayed exactly.
TANH_ULPS = 8
# Elements of C per block of the fp32 replay: the accumulator and the product row stay in cache.
REPLAY_BLOCK = 1 << 16


def wrap(x: np.ndarray, bits: int) -> np.ndarray:
    """Two's-complement wrap of int64 values to `bits` bits."""
    x = np.asarray(x, dtype=np.int64)
    sh = np.int64(64 - bits)
    return (x << sh) >> sh


def int_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact int64 product of integer matrices.

    Uses float64 BLAS when every partial sum is an integer below 2^53 (then every
    product and addition is exact in any order, FMA or not); numpy's int64
    matmul is not BLAS and is ~100x slower on the smolVLA shapes.
    """
    a64, b64 = a.astype(np.int64), b.astype(np.int64)
    amax = int(np.abs(a64).max(initial=0))
    bmax = int(np.abs(b64).max(initial=0))
    if a.shape[1] * amax * bmax < 2**53:
        return np.rint(a64.astype(np.float64) @ b64.astype(np.float64)).astype(np.int64)
    return a64 @ b64


def replay_f32(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """C = A B in float32, summed exactly as the fp32 and fp16 kernels sum it (the one replay of
    the GEMM's order: the bench's check and the native tests both use it).

    kernels/gemm/README.md "Summation order" (gemm.cpp's MAC array, mac() of mac_types.h): each
    C[m, n] starts at +0 and takes, for k = 0, 1, ..., K-1 in that order,
    acc = fl32(acc + fl32(a[m, k] * b[k, n])) -- an fp32 multiply, then an fp32 add, never fused
    (the product of two fp16 values is exact in fp32, so fp16 is the same sum of the converted
    operands). Neither the K chunks, the array's row/column groups, the CU split of N nor the
    padding change this order (padding is never added: a group's padded lanes are not stored). numpy's float32 multiply and add round the same way
    (IEEE round to nearest even), so the result is bit-exact. Vectorised over blocks of C,
    a loop over k inside: about 2 M N K float32 operations.
    """
    a32 = np.asarray(a, dtype=np.float32)
    b32 = np.asarray(b, dtype=np.float32)
    M, K = a32.shape
    N = b32.shape[1]
    out = np.empty((M, N), np.float32)
    at = np.ascontiguousarray(a32.T)                      # row k of at = column k of A
    nb = min(N, max(16, REPLAY_BLOCK))
    mb = max(1, min(M, REPLAY_BLOCK // nb))
    prod = np.empty(mb * nb, np.float32)
    for n0 in range(0, N, nb):
        bb = np.ascontiguousarray(b32[:, n0:n0 + nb])
        for m0 in range(0, M, mb):
            acc = np.zeros((min(mb, M - m0), bb.shape[1]), np.float32)
            p = prod[:acc.size].reshape(acc.shape)
            col = at[:, m0:m0 + acc.shape[0], None]
            for k in range(K):
                np.multiply(col[k], bb[k], out=p)
                np.add(acc, p, out=acc)
            out[m0:m0 + acc.shape[0], n0:n0 + nb] = acc
    return out


def _steps(x: np.ndarray, n: int, toward: float) -> np.ndarray:
    for _ in range(n):
        x = np.nextafter(x, np.float32(toward))
    return x


def gelu_f32_bounds(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lo, hi, nominal) float32 GELU of float32 x as epilogue.h computes it, for any tanh
    within TANH_ULPS of the correctly rounded one. u and 0.5 x are the kernel's own fp32
    operations (bit-exact); y = fl(fl(0.5 x) * fl(1 + t)) is monotonic in t, so the two ends
    of the tanh interval give the ends of y's."""
    x = np.asarray(x, dtype=np.float32)
    with np.errstate(over="ignore", invalid="ignore"):      # |x| > 2^42: x^3 is inf, as on chip
        u = GELU_K0 * (x + GELU_K1 * x * x * x)
        t = np.tanh(u.astype(np.float64)).astype(np.float32)
        t_lo = np.maximum(_steps(t, TANH_ULPS, -1.0), np.float32(-1.0))
        t_hi = np.minimum(_steps(t, TANH_ULPS, 1.0), np.float32(1.0))
        h = np.float32(0.5) * x
        one = np.float32(1.0)
        y_lo, y_hi, y = h * (one + t_lo), h * (one + t_hi), h * (one + t)
    return np.minimum(y_lo, y_hi), np.maximum(y_lo, y_hi), y


def gelu_f32(x: np.ndarray) -> np.ndarray:
    """The kernels' GELU with a correctly rounded tanh (the middle of gelu_f32_bounds)."""
    return gelu_f32_bounds(x)[2]


def fx16_gemm_raw(a_raw: np.ndarray, b_raw: np.ndarray, int_bits: int) -> np.ndarray:
    """fx16 GEMM on raw ap_fixed<16,I> bits -> raw ap_fixed<32,16,AP_RND,AP_SAT> bits."""
    return fx16_acc_to_out(int_matmul(a_raw, b_raw), int_bits)


def fx16_acc_to_out(acc: np.ndarray, int_bits: int) -> np.ndarray:
    """An exact sum of raw fx16 products (units 2^-2F) -> the kernels' 16.16 output bits: wrapped to the
    48-bit accumulator, rounded half up to 16 fractional bits, saturated to 32 bits."""
    frac = 16 - int_bits
    acc = wrap(acc, 48)   # units 2^-2F
    s = 2 * frac - 16
    if s > 0:
        acc = (acc + (np.int64(1) << np.int64(s - 1))) >> np.int64(s)  # round half up
    elif s < 0:
        acc = acc << np.int64(-s)
    return np.clip(acc, I32_MIN, I32_MAX).astype(np.int32)


def _to_fx16_16(g: np.ndarray) -> np.ndarray:
    """float32 -> raw ap_fixed<32,16,AP_RND,AP_SAT>: round half up, saturate (monotonic)."""
    return np.clip(np.floor(g.astype(np.float64) * 65536.0 + 0.5), I32_MIN, I32_MAX).astype(np.int64)


def _fx16_bias_sum(c_raw, bias_raw, int_bits):
    return np.clip(c_raw.astype(np.int64) + (bias_raw.astype(np.int64)[None, :] << np.int64(int_bits)),
                   I32_MIN, I32_MAX)


def fx16_epilogue_raw(c_raw: np.ndarray, bias_raw: np.ndarray, epi: int, int_bits: int) -> np.ndarray:
    """The epilogue on raw 16.16 bits with a correctly rounded tanh (see fx16_epilogue_bounds)."""
    return fx16_epilogue_bounds(c_raw, bias_raw, epi, int_bits)[2].astype(np.int32)


def fx16_epilogue_bounds(c_raw, bias_raw, epi: int, int_bits: int):
    """(lo, hi, nominal) raw 16.16 outputs: exact for epilogue 0 and 1, the GELU bounds for 2."""
    if epi == EPILOGUES["none"]:
        c = c_raw.astype(np.int64)
        return c, c, c
    s = _fx16_bias_sum(c_raw, bias_raw, int_bits)
    if epi == EPILOGUES["bias"]:
        return s, s, s
    x = (s.astype(np.float64) / 65536.0).astype(np.float32)
    lo, hi, y = gelu_f32_bounds(x)
    return _to_fx16_16(lo), _to_fx16_16(hi), _to_fx16_16(y)


def int8_gemm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return wrap(int_matmul(a, b), 32).astype(np.int32)


def _int8_gelu_out(g: np.ndarray) -> np.ndarray:
    g = np.clip(g, np.float32(-2147483648.0), np.float32(2147483520.0))
    return np.trunc(g).astype(np.int64)


def int8_epilogue_bounds(c: np.ndarray, bias: np.ndarray, epi: int):
    if epi == EPILOGUES["none"]:
        c = c.astype(np.int64)
        return c, c, c
    s = wrap(c.astype(np.int64) + bias.astype(np.int64)[None, :], 32)
    if epi == EPILOGUES["bias"]:
        return s, s, s
    lo, hi, y = gelu_f32_bounds(s.astype(np.float32))
    return _int8_gelu_out(lo), _int8_gelu_out(hi), _int8_gelu_out(y)


def int8_epilogue(c: np.ndarray, bias: np.ndarray, epi: int) -> np.ndarray:
    return int8_epilogue_bounds(c, bias, epi)[2].astype(np.int32)


def float_epilogue_bounds(c32: np.ndarray, bias: np.ndarray, epi: int):
    """(lo, hi, nominal) float32 outputs of epilogue.h on the fp32 C: exact but for tanh."""
    c32 = np.asarray(c32, dtype=np.float32)
    if epi == EPILOGUES["none"]:
        return c32, c32, c32
    s = c32 + bias.astype(np.float32)[None, :]            # fp32 add, as the kernel
    if epi == EPILOGUES["bias"]:
        return s, s, s
    return gelu_f32_bounds(s)


# ---------------------------------------------------------------------- flops
FLOPS_WEIGHTS = 8     # kernels/flops/flops.cpp: w[j % 8] = (j % 8 + 1) / 8 (fp32, fp16) or j % 8 + 1 LSBs


def flops_expected(dtype: str, x: np.ndarray, f: int, params: dict | None = None) -> np.ndarray:
    """The flops kernel's outputs for input elements `x` (the dtype's host type), replayed in its order:
    acc = 0; for j < f: acc = acc + x * w[j % 8]; then the kernel's 32-bit output (fp32 bits, 16.16
    fx16, int32). Bit-exact: fp32/fp16 step by step in float32 (products of fp16 values and these
    weights are exact), fx16/int8 as the exact integer x * sum(w) wrapped like the accumulator."""
    j = np.arange(f) % FLOPS_WEIGHTS + 1
    if dtype in ("fp32", "fp16"):
        xf = np.asarray(x).astype(np.float32)
        ws = (j.astype(np.float32) * np.float32(0.125)).astype(np.float32)
        acc = np.zeros_like(xf)
        for w in ws:
            acc = acc + xf * w
        return acc
    total = int(j.sum())
    acc = np.asarray(x).astype(np.int64) * np.int64(total)
    if dtype == "fx16":
        return fx16_acc_to_out(acc, int((params or {}).get("FLOPS_FX_INT_BITS", 6)))
    if dtype == "int8":
        return wrap(acc, 32).astype(np.int32)
    raise ValueError(f"no flops reference for element type {dtype!r}")


# ---------------------------------------------------------- host verification
@dataclass
class Expected:
    """What one GEMM output must be: every element within [lo, hi] (numpy arrays, M x N).

    lo == hi (bit-exact) everywhere except GELU outputs, whose interval covers the tanh
    tolerance only. `value` is the nominal result (correctly rounded tanh)."""
    lo: np.ndarray
    hi: np.ndarray
    value: np.ndarray
    dtype: str

    @property
    def exact(self) -> bool:
        return self.lo is self.hi


def _epilogue_code(epilogue) -> int:
    if isinstance(epilogue, str):
        return EPILOGUES[epilogue]
    return int(epilogue)


def expected_gemm(dtype: str, a: np.ndarray, b: np.ndarray, bias: np.ndarray, epilogue,
                  params: dict | None = None) -> Expected:
    """The accepted output of C (or of bias_gelu's out) for these inputs; computed once per point."""
    epi = _epilogue_code(epilogue)
    if dtype in ("fp32", "fp16"):
        # fp16: halves convert exactly to fp32 and their products are exact in fp32, so the
        # fp16 kernel's sum is the same fp32 sequential sum of the converted operands.
        lo, hi, v = float_epilogue_bounds(replay_f32(a, b), bias, epi)
    elif dtype == "fx16":
        int_bits = int((params or {}).get("GEMM_FX_INT_BITS", 6))
        lo, hi, v = fx16_epilogue_bounds(fx16_gemm_raw(a, b, int_bits), bias, epi, int_bits)
    elif dtype == "int8":
        lo, hi, v = int8_epilogue_bounds(int8_gemm(a, b), bias, epi)
    else:
        raise ValueError(f"no reference for element type {dtype!r}")
    return Expected(lo, hi, v, dtype)


def _ordered(x: np.ndarray) -> np.ndarray:
    """float32 bits as int64 ordered like the values (adjacent floats differ by 1; +0 == -0)."""
    i = np.asarray(x, dtype=np.float32).view(np.int32).astype(np.int64)
    return np.where(i < 0, -(i & 0x7FFFFFFF), i)


def ulp_distance(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    """|got - want| in float32 ulps (steps between adjacent floats); NaN counts as 2^32."""
    d = np.abs(_ordered(got) - _ordered(want))
    return np.where(np.isnan(got) | np.isnan(want), np.int64(2**32), d)


def compare(c: np.ndarray, expected: Expected) -> tuple[bool, str]:
    """(ok, message): every element of c within [lo, hi] (NaN never is)."""
    c = np.asarray(c).reshape(expected.value.shape)
    if np.issubdtype(expected.value.dtype, np.floating):
        got = c.astype(np.float32)
        ok = (got >= expected.lo) & (got <= expected.hi)
        # distance outside the interval, in ulps, to name the worst element
        dist = np.maximum(ulp_distance(got, expected.lo) * (got < expected.lo),
                          ulp_distance(got, expected.hi) * (got > expected.hi))
        dist = np.where(np.isnan(got), np.int64(2**32), dist)
        unit = " ulp"
    else:
        got = c.astype(np.int64)
        ok = (got >= expected.lo) & (got <= expected.hi)
        dist = np.maximum(expected.lo - got, got - expected.hi)
        unit = ""
    bad = ~ok
    n_bad = int(bad.sum())
    if n_bad == 0:
        return True, ""
    i, j = np.unravel_index(int(np.argmax(np.where(bad, dist, -1))), bad.shape)
    want = (f"{expected.value[i, j]!r}" if expected.exact
            else f"{expected.value[i, j]!r} (accepted {expected.lo[i, j]!r} .. {expected.hi[i, j]!r})")
    rel = ""
    if unit and np.isfinite(got[i, j]) and expected.value[i, j] != 0:
        rel = f", relative error {abs(float(got[i, j]) / float(expected.value[i, j]) - 1):.2g}"
    return False, (f"{n_bad} of {bad.size} elements outside the accepted range; worst at [{i},{j}]: "
                   f"got {c[i, j]!r}, expected {want}, off by {int(dist[i, j])}{unit}{rel}")


def check_gemm(dtype: str, a: np.ndarray, b: np.ndarray, bias: np.ndarray, epilogue, c: np.ndarray,
               params: dict | None = None) -> tuple[bool, str]:
    """Verify one GEMM result (C, or bias_gelu's out) against the reference: (ok, message)."""
    return compare(c, expected_gemm(dtype, a, b, bias, epilogue, params))
