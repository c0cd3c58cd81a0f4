"""numpy references for the kernels, quantising exactly as the kernels do, and the
host-side verification the benches apply to every repetition.

See kernels/gemm/README.md for the arithmetic these mirror and harness/docs/design.md
("Native kernels") for the memcpy contract. tests/test_kernels_native.py checks
the kernels against these functions; harness.bench.gemm and .latency check every
launch with `check_gemm` (same tolerances as those tests).
"""
from __future__ import annotations

import numpy as np

from harness.designs.codes import epilogue_codes

WRITE_KEY = np.uint64(0x9E3779B97F4A7C15)
I32_MIN, I32_MAX = -(2**31), 2**31 - 1

EPILOGUES = epilogue_codes()          # kernel `epilogue` argument (kernels/designs/gemm.toml [codes.epilogue])
# Host numpy types of the kernel ports per dtype (kernels/gemm/README.md "Types per dtype").
ELEM_TYPES = {"fp32": np.float32, "fp16": np.float16, "fx16": np.int16, "int8": np.int8}   # A, B, bias
OUT_TYPES = {"fp32": np.float32, "fp16": np.float32, "fx16": np.int32, "int8": np.int32}   # C, out


# --------------------------------------------------------------------- memcpy
def memcpy_read_checksum(words: np.ndarray, reps: int) -> np.ndarray:
    """words: (n, 8) uint64 -> (8,) uint64 wrapping lane sums over all reps."""
    with np.errstate(over="ignore"):
        s = words.sum(axis=0, dtype=np.uint64)
        return (s * np.uint64(reps)).astype(np.uint64)


def memcpy_write_pattern(n_words: int) -> np.ndarray:
    """(n_words, 8) uint64: word i, lane j = ((i << 3) | j) ^ WRITE_KEY."""
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


def float_gemm(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact-ish float64 product and an fp32 sequential-summation error bound."""
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    k = a.shape[1]
    bound = 2.0 * k * np.finfo(np.float32).eps * (np.abs(a64) @ np.abs(b64)) + 1e-30
    return a64 @ b64, bound


def fx16_gemm_raw(a_raw: np.ndarray, b_raw: np.ndarray, int_bits: int) -> np.ndarray:
    """fx16 GEMM on raw ap_fixed<16,I> bits -> raw ap_fixed<32,16,AP_RND,AP_SAT> bits."""
    frac = 16 - int_bits
    acc = wrap(int_matmul(a_raw, b_raw), 48)   # units 2^-2F
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
    return wrap(int_matmul(a, b), 32).astype(np.int32)


def int8_epilogue(c: np.ndarray, bias: np.ndarray, epi: int) -> np.ndarray:
    if epi == EPILOGUES["none"]:
        return c.astype(np.int32)
    s = wrap(c.astype(np.int64) + bias.astype(np.int64)[None, :], 32)
    if epi == EPILOGUES["bias"]:
        return s.astype(np.int32)
    g = gelu_f32(s.astype(np.float32))
    g = np.clip(g, np.float32(-2147483648.0), np.float32(2147483520.0))
    return np.trunc(g).astype(np.int64).astype(np.int32)


# ---------------------------------------------------------- host verification
def _epilogue_code(epilogue) -> int:
    if isinstance(epilogue, str):
        return EPILOGUES[epilogue]
    return int(epilogue)


def expected_gemm(dtype: str, a: np.ndarray, b: np.ndarray, bias: np.ndarray, epilogue,
                  params: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(expected, tolerance) of C (or of bias_gelu's out), both float64/int64, shape M x N.

    The tolerances are those of tests/test_kernels_native.py: fp32/fp16 an fp32
    sequential-summation bound (widened for bias and GELU); fx16 exact, 2 raw LSB
    after GELU; int8 exact, 1 after GELU. Computed once per point: the integer
    references are not BLAS and cost much more than one comparison.
    """
    epi = _epilogue_code(epilogue)
    if dtype in ("fp32", "fp16"):
        ref, bound = float_gemm(a, b)
        eps = np.finfo(np.float32).eps
        if epi == 0:
            return ref, bound
        s = ref + bias.astype(np.float64)[None, :]
        tol = bound + 2 * eps * np.abs(s)
        if epi == 1:
            return s, tol
        exp = 0.5 * s * (1 + np.tanh(np.sqrt(2 / np.pi) * (s + 0.044715 * s**3)))
        return exp, 1.2 * tol + 8 * eps * (np.abs(exp) + 1e-3)
    if dtype == "fx16":
        int_bits = int((params or {}).get("GEMM_FX_INT_BITS", 6))
        exp = fx16_epilogue_raw(fx16_gemm_raw(a, b, int_bits), bias, epi, int_bits).astype(np.int64)
        return exp, np.full(exp.shape, 2 if epi == 2 else 0, np.int64)
    if dtype == "int8":
        exp = int8_epilogue(int8_gemm(a, b), bias, epi).astype(np.int64)
        return exp, np.full(exp.shape, 1 if epi == 2 else 0, np.int64)
    raise ValueError(f"no reference for element type {dtype!r}")


def compare(c: np.ndarray, expected: np.ndarray, tol: np.ndarray) -> tuple[bool, str]:
    """(ok, message): every element of c within tol of expected (NaN never is); any shape."""
    c = np.asarray(c).reshape(expected.shape)
    if np.issubdtype(expected.dtype, np.integer) and np.issubdtype(c.dtype, np.integer):
        err = np.abs(c.astype(np.int64) - expected.astype(np.int64))
    else:
        err = np.abs(c.astype(np.float64) - expected.astype(np.float64))
    bad = ~(err <= tol)
    n_bad = int(bad.sum())
    if n_bad == 0:
        return True, ""
    idx = np.unravel_index(int(np.argmax(np.where(bad, np.nan_to_num(err, nan=np.inf), -1))), bad.shape)
    tol_at = np.broadcast_to(tol, bad.shape)[idx]
    return False, (f"{n_bad} of {bad.size} elements outside tolerance; first worst at "
                   f"[{','.join(map(str, idx))}]: got {c[idx]!r}, expected {expected[idx]!r} "
                   f"(tolerance {tol_at!r})")


def check_gemm(dtype: str, a: np.ndarray, b: np.ndarray, bias: np.ndarray, epilogue, c: np.ndarray,
               params: dict | None = None) -> tuple[bool, str]:
    """Verify one GEMM result (C, or bias_gelu's out) against the reference: (ok, message)."""
    exp, tol = expected_gemm(dtype, a, b, bias, epilogue, params)
    return compare(c, exp, tol)
