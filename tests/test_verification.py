"""The GEMM check catches a wrong precision at every K from 1 to 65536, and nothing less.

Each mistake is a whole kernel computed wrongly here, in numpy, with its own arithmetic
(the kernel's k order, a wrong rounding): operands rounded to fp16, bf16 or tf32 in the fp32
kernel, a 16-bit accumulator in the fp16 kernel, one element off by a relative 1e-3, and
for fx16/int8 narrower products or accumulators and one element off by one unit. Every
mistake gets the bench's own inputs (harness.bench.gemm.gemm_inputs) and the bench's own
check (harness.bench.reference.check_gemm), and must be rejected; the correct result --
computed here by a loop independent of the reference's -- must be accepted. The kernels
themselves, with the same mistakes injected natively, are in tests/test_fault_injection.py.
"""
from __future__ import annotations

import numpy as np
import pytest

from harness.bench import gemm as gb
from harness.bench import reference as ref

# K from 1 to 65536: the list and every K of smolVLA's linear layers.
SMOLVLA_K = sorted({K for (_, K, _) in gb.smolvla_shapes()})
K_RANGE = sorted({1, 7, 720, 2048, 12288, 65536} | set(SMOLVLA_K))
M_SMALL, N_SMALL = 3, 5          # small outputs keep the per-k loops fast; K is what matters
FX_PARAMS = {"GEMM_FX_INT_BITS": 6}


def inputs(dtype, M, K, N):
    return gb.gemm_inputs(dtype, M, K, N, gb.shape_rng(M, K, N), FX_PARAMS)


# ---------------------------------------------------------------- mistaken kernels, in numpy
def round_mantissa(x: np.ndarray, keep: int) -> np.ndarray:
    """float32 -> float32 with `keep` mantissa bits, round to nearest even, fp32 range
    (bf16: keep 7, tf32: keep 10)."""
    u = np.asarray(x, np.float32).view(np.uint32).astype(np.uint64)
    drop = 23 - keep
    u = (u + ((1 << (drop - 1)) - 1) + ((u >> drop) & 1)) & ~np.uint64((1 << drop) - 1)
    return u.astype(np.uint32).view(np.float32)


ROUND = {
    "fp16": lambda x: np.asarray(x, np.float32).astype(np.float16).astype(np.float32),
    "bf16": lambda x: round_mantissa(x, 7),
    "tf32": lambda x: round_mantissa(x, 10),
}


def sequential(a, b, round_acc=None) -> np.ndarray:
    """The kernel's loop: acc = acc + a[:, k] * b[k, :] in float32, k ascending, optionally
    rounding the accumulator after every add (a narrower accumulator)."""
    a32, b32 = a.astype(np.float32), b.astype(np.float32)
    acc = np.zeros((a.shape[0], b.shape[1]), np.float32)
    for k in range(a.shape[1]):
        acc = acc + a32[:, k, None] * b32[None, k, :]
        if round_acc is not None:
            acc = round_acc(acc)
    return acc


def one_element_off(c: np.ndarray, rel: float = 1e-3) -> np.ndarray:
    """c with its largest-magnitude element multiplied by 1 + rel (in c's own type)."""
    bad = c.copy()
    idx = np.unravel_index(int(np.argmax(np.abs(c.astype(np.float64)))), c.shape)
    if np.issubdtype(c.dtype, np.integer):
        bad[idx] = int(np.rint(float(c[idx]) * (1 + rel)))
    else:
        bad[idx] = c.dtype.type(float(c[idx]) * (1 + rel))
    assert bad[idx] != c[idx], "the perturbation must change the element"
    return bad


def rejected(dtype, a, b, bias, epi, c):
    ok, msg = ref.check_gemm(dtype, a, b, bias, epi, c, FX_PARAMS)
    return not ok and "outside the accepted range" in msg


def accepted(dtype, a, b, bias, epi, c):
    ok, msg = ref.check_gemm(dtype, a, b, bias, epi, c, FX_PARAMS)
    assert ok, msg
    return True


def float_out(c32, bias, epi):
    """A float kernel's output for its (possibly wrong) C: the epilogue on C, as the kernel."""
    return ref.float_epilogue_bounds(c32, bias, epi)[2]


# ---------------------------------------------------------------- fp32
@pytest.mark.parametrize("K", K_RANGE)
@pytest.mark.parametrize("precision", ["fp16", "bf16", "tf32"])
def test_fp32_kernel_with_16_bit_operands_is_rejected(K, precision):
    a, b, bias = inputs("fp32", M_SMALL, K, N_SMALL)
    rnd = ROUND[precision]
    assert rejected("fp32", a, b, bias, 0, sequential(rnd(a), rnd(b)))


@pytest.mark.parametrize("K", K_RANGE)
def test_fp32_kernel_correct_result_is_accepted_and_one_wrong_element_is_not(K):
    a, b, bias = inputs("fp32", M_SMALL, K, N_SMALL)
    c = sequential(a, b)
    assert accepted("fp32", a, b, bias, 0, c)
    assert rejected("fp32", a, b, bias, 0, one_element_off(c))
    assert rejected("fp32", a, b, bias, 0, sequential(a, b, ROUND["fp16"]))     # fp16 accumulator


@pytest.mark.parametrize("epi", [1, 2])
@pytest.mark.parametrize("K", [1, 720, 12288])
def test_fp32_epilogues_keep_the_check_tight(K, epi):
    a, b, bias = inputs("fp32", M_SMALL, K, N_SMALL)
    good = float_out(sequential(a, b), bias, epi)
    assert accepted("fp32", a, b, bias, epi, good)
    assert rejected("fp32", a, b, bias, epi, one_element_off(good))
    for precision in ROUND:
        wrong = float_out(sequential(ROUND[precision](a), ROUND[precision](b)), bias, epi)
        assert rejected("fp32", a, b, bias, epi, wrong), precision


def test_the_full_smolvla_connector_shape():
    """64x12288x960, the largest K of smolVLA, at its real size: every mistake, no false alarm."""
    M, K, N = 64, 12288, 960
    a, b, bias = inputs("fp32", M, K, N)
    exp = ref.expected_gemm("fp32", a, b, bias, 0)
    good = ref.replay_f32(a, b)
    assert ref.compare(good, exp)[0]
    ok, msg = ref.compare(one_element_off(good), exp)
    assert not ok and msg.startswith("1 of 61440 elements")
    for precision, rnd in ROUND.items():
        ok, msg = ref.compare(ref.replay_f32(rnd(a), rnd(b)), exp)
        assert not ok, precision


def test_replay_is_the_kernels_loop_bit_for_bit():
    # blocks of C that do not divide M or N, and a K past several blocks of the loop
    rng = np.random.default_rng(5)
    a = rng.uniform(-1, 1, (37, 300)).astype(np.float32)
    b = rng.uniform(-1, 1, (300, 1100)).astype(np.float32)
    want = sequential(a, b)
    got = ref.replay_f32(a, b)
    assert np.array_equal(got.view(np.uint32), want.view(np.uint32))
    # and it is not what a different order gives: float64 or pairwise sums differ in the last bits
    assert not np.array_equal((a.astype(np.float64) @ b).astype(np.float32), got)


# ---------------------------------------------------------------- fp16
@pytest.mark.parametrize("K", K_RANGE)
def test_fp16_kernel_with_fp16_accumulation_is_rejected(K):
    a, b, bias = inputs("fp16", M_SMALL, K, N_SMALL)
    c = sequential(a, b)
    assert accepted("fp16", a, b, bias, 0, c)
    assert rejected("fp16", a, b, bias, 0, sequential(a, b, ROUND["fp16"]))
    assert rejected("fp16", a, b, bias, 0, one_element_off(c))
    assert rejected("fp16", a, b, bias, 0, sequential(ROUND["bf16"](a), ROUND["bf16"](b)))   # bf16 operands


# ---------------------------------------------------------------- fx16 and int8: exact
def fx16_sum(a, b, product_shift=0, acc_bits=48):
    """fx16 kernel variants on raw bits: products truncated by `product_shift` bits before
    summing (fewer fractional bits), the sum wrapped to `acc_bits`; then to 16.16 as the kernel."""
    p = (a.astype(np.int64)[:, :, None] * b.astype(np.int64)[None, :, :]) >> product_shift
    acc = ref.wrap(p.sum(axis=1), acc_bits) << product_shift
    s = 2 * (16 - FX_PARAMS["GEMM_FX_INT_BITS"]) - 16
    acc = (acc + (1 << (s - 1))) >> s
    return np.clip(acc, ref.I32_MIN, ref.I32_MAX).astype(np.int32)


FX_K = [1, 7, 720, 2048, 12288]    # fx16 on (3, K, 5) int64 products: 65536 needs too much memory here


@pytest.mark.parametrize("K", FX_K)
def test_fx16_is_exact(K):
    a, b, bias = inputs("fx16", M_SMALL, K, N_SMALL)
    c = fx16_sum(a, b)
    assert accepted("fx16", a, b, bias, 0, c)
    assert rejected("fx16", a, b, bias, 0, one_element_off(c))
    off = c.copy()
    off[1, 2] += 1                                   # one unit of 2^-16
    assert rejected("fx16", a, b, bias, 0, off)
    narrow = fx16_sum(a, b, product_shift=4)         # products kept to 16 fractional bits only
    assert not np.array_equal(narrow, c) and rejected("fx16", a, b, bias, 0, narrow)


@pytest.mark.parametrize("K", K_RANGE)
def test_int8_is_exact(K):
    a, b, bias = inputs("int8", M_SMALL, K, N_SMALL)
    c = (a.astype(np.int64) @ b.astype(np.int64)).astype(np.int32)
    assert accepted("int8", a, b, bias, 0, c)
    assert rejected("int8", a, b, bias, 0, one_element_off(c))
    off = c.copy()
    off[2, 4] -= 1
    assert rejected("int8", a, b, bias, 0, off)
    if np.abs(c).max() >= 2 ** 15:                   # an int16 accumulator would have wrapped
        assert rejected("int8", a, b, bias, 0, ref.wrap(c, 16).astype(np.int32))
    seven_bit = (a.astype(np.int64) >> 1 << 1) @ b.astype(np.int64)      # operands lose a bit
    assert rejected("int8", a, b, bias, 0, seven_bit.astype(np.int32))


# ---------------------------------------------------------------- GELU: tight, separately bounded
def test_gelu_bound_covers_tanh_ulps_and_nothing_more():
    x = np.linspace(-6, 6, 20001, dtype=np.float32)
    lo, hi, y = ref.gelu_f32_bounds(x)
    assert (lo <= y).all() and (y <= hi).all()
    # a tanh off by TANH_ULPS is accepted; 4 times that is not (where it changes y at all)
    u = ref.GELU_K0 * (x + ref.GELU_K1 * x * x * x)
    t = np.tanh(u.astype(np.float64)).astype(np.float32)
    h = np.float32(0.5) * x
    for sign in (-1.0, 1.0):
        t_ok = np.clip(ref._steps(t, ref.TANH_ULPS, sign), -1, 1).astype(np.float32)
        y_ok = h * (np.float32(1) + t_ok)
        assert ((lo <= y_ok) & (y_ok <= hi)).all()
        t_far = np.clip(ref._steps(t, 4 * ref.TANH_ULPS, sign), -1, 1).astype(np.float32)
        y_far = h * (np.float32(1) + t_far)
        outside = (y_far < lo) | (y_far > hi)
        # (near |t| = 1 the far tanh is clipped back to +-1 and changes nothing)
        assert outside[(np.abs(x) > 0.5) & (np.abs(t) < 0.99)].mean() > 0.9
    # tight: the accepted width is below 1e-5 of y where |y| > 0.1 and below 1e-3 of y where
    # |y| > 0.002; only where 1 + tanh u cancels (x < -3.25) is it wider than 1e-3 of y
    rel = (hi - lo) / np.maximum(np.abs(y), np.float32(1e-30))
    assert rel[np.abs(y) > 0.1].max() < 1e-5
    assert rel[np.abs(y) > 0.002].max() < 1e-3


def test_gelu_with_fp16_tanh_is_rejected():
    a, b, bias = inputs("fp32", 8, 720, 16)
    s = sequential(a, b) + bias[None, :]
    u = ref.GELU_K0 * (s + ref.GELU_K1 * s * s * s)
    t16 = np.tanh(u.astype(np.float16)).astype(np.float32)
    wrong = np.float32(0.5) * s * (np.float32(1) + t16)
    assert rejected("fp32", a, b, bias, 2, wrong)


@pytest.mark.parametrize("dtype", ["fx16", "int8"])
def test_integer_gelu_bounds_are_at_most_two_units_wide(dtype):
    # fx16 outputs up to ~100 (raw 6.3e6): 8 tanh ulps are ~0.6 units of 2^-16 there
    a, b, bias = inputs(dtype, 16, 720, 32)
    exp = ref.expected_gemm(dtype, a, b, bias, 2, FX_PARAMS)
    width = exp.hi - exp.lo
    assert width.max() <= (2 if dtype == "fx16" else 1) and (width == 0).mean() > 0.4
    assert rejected(dtype, a, b, bias, 2, one_element_off(exp.value.astype(np.int32), 1e-2))


# ---------------------------------------------------------------- messages
def test_the_message_names_the_worst_element_and_its_error():
    a, b, bias = inputs("fp32", M_SMALL, 720, N_SMALL)
    c = sequential(a, b)
    bad = c.copy()
    bad[2, 3] = np.nextafter(bad[2, 3], np.float32(np.inf))      # one ulp
    bad[0, 1] *= np.float32(1.001)
    ok, msg = ref.check_gemm("fp32", a, b, bias, 0, bad)
    assert not ok and msg.startswith("2 of 15 elements") and "[0,1]" in msg and "relative error 0.001" in msg
    nan = np.full_like(c, np.nan)
    ok, msg = ref.check_gemm("fp32", a, b, bias, 0, nan)
    assert not ok and msg.startswith("15 of 15")
