"""numpy references for the kernels, quantising exactly as the kernels do.

See kernels/gemm/README.md for the arithmetic these mirror.
"""
from __future__ import annotations

import numpy as np

WRITE_KEY = np.uint64(0x9E3779B97F4A7C15)
I32_MIN, I32_MAX = -(2**31), 2**31 - 1


# --------------------------------------------------------------------- memcpy
def memcpy_read_checksum(words: np.ndarray, reps: int) -> np.ndarray:
    """words: (n, 8) uint64 -> (8,) uint64 wrapping lane sums over all reps."""
    with np.errstate(over="ignore"):
        s = words.sum(axis=0, dtype=np.uint64)
        return (s * np.uint64(reps)).astype(np.uint64)


def memcpy_write_pattern(n_words: int) -> np.ndarray:
    i = np.arange(n_words, dtype=np.uint64)[:, None]
    j = np.arange(8, dtype=np.uint64)[None, :]
    return ((i << np.uint64(3)) | j) ^ WRITE_KEY


# ----------------------------------------------------------------------- gemm
def gelu_f32(x: np.ndarray) -> np.ndarray:
    """The kernels' GELU (tanh form), evaluated in float32 in the same order."""
    x = np.asarray(x, dtype=np.float32)
    k0 = np.float32(0.7978845608028654)
    k1 = np.float32(0.044715)
    u = k0 * (x + k1 * x * x * x)
    return np.float32(0.5) * x * (np.float32(1.0) + np.tanh(u))


def wrap(x: np.ndarray, bits: int) -> np.ndarray:
    """Two's-complement wrap of int64 values to `bits` bits."""
    x = np.asarray(x, dtype=np.int64)
    sh = np.int64(64 - bits)
    return (x << sh) >> sh


def float_gemm(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact-ish float64 product and an fp32 sequential-summation error bound."""
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    k = a.shape[1]
    bound = 2.0 * k * np.finfo(np.float32).eps * (np.abs(a64) @ np.abs(b64)) + 1e-30
    return a64 @ b64, bound


def float_epilogue(c: np.ndarray, bias: np.ndarray, epi: int) -> np.ndarray:
    c = np.asarray(c, dtype=np.float32)
    if epi == 0:
        return c
    s = c + bias.astype(np.float32)[None, :]
    return gelu_f32(s) if epi == 2 else s


def fx16_gemm_raw(a_raw: np.ndarray, b_raw: np.ndarray, int_bits: int) -> np.ndarray:
    """fx16 GEMM on raw ap_fixed<16,I> bits -> raw ap_fixed<32,16,AP_RND,AP_SAT> bits."""
    frac = 16 - int_bits
    acc = wrap(a_raw.astype(np.int64) @ b_raw.astype(np.int64), 48)   # units 2^-2F
    s = 2 * frac - 16
    if s > 0:
        acc = (acc + (np.int64(1) << np.int64(s - 1))) >> np.int64(s)  # round half up
    elif s < 0:
        acc = acc << np.int64(-s)
    return np.clip(acc, I32_MIN, I32_MAX).astype(np.int32)


def fx16_epilogue_raw(c_raw: np.ndarray, bias_raw: np.ndarray, epi: int,
                      int_bits: int) -> np.ndarray:
    c = c_raw.astype(np.int64)
    if epi == 0:
        return c_raw.astype(np.int32)
    s = np.clip(c + (bias_raw.astype(np.int64)[None, :] << np.int64(int_bits)),
                I32_MIN, I32_MAX)
    if epi == 1:
        return s.astype(np.int32)
    x = (s.astype(np.float64) / 65536.0).astype(np.float32)
    g = gelu_f32(x).astype(np.float64)
    return np.clip(np.floor(g * 65536.0 + 0.5), I32_MIN, I32_MAX).astype(np.int32)


def int8_gemm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return wrap(a.astype(np.int64) @ b.astype(np.int64), 32).astype(np.int32)


def int8_epilogue(c: np.ndarray, bias: np.ndarray, epi: int) -> np.ndarray:
    if epi == 0:
        return c.astype(np.int32)
    s = wrap(c.astype(np.int64) + bias.astype(np.int64)[None, :], 32)
    if epi == 1:
        return s.astype(np.int32)
    g = gelu_f32(s.astype(np.float32))
    g = np.clip(g, np.float32(-2147483648.0), np.float32(2147483520.0))
    return np.trunc(g).astype(np.int64).astype(np.int32)
