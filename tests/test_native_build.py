"""The fast native build computes the same bits as the plain one.

The emulator runs every design built with native.PROFILES["release"] (-O3
-march=native -ffp-contract=off). Here each design is also built with
PROFILES["plain"] (-O0 -ffp-contract=off: no vectorisation, no reordering) and
both run the same inputs through the same Session code; every output must be
equal byte for byte. A flag that fused a multiply-add (-ffp-contract=fast) or
reassociated a sum (-ffast-math) changes the fp32/fp16 results and fails this
test, which `test_the_check_catches_a_contracting_build` shows.
"""
from __future__ import annotations

import numpy as np
import pytest

from harness.bench import gemm as gb
from harness.designs import load_design, native
from harness.runtime import open_runtime
from harness.runtime.session import Session

# small (one partial tile), K-heavy (long sums: order matters), several tiles
SHAPES = [(7, 13, 5), (3, 700, 17), (65, 67, 129)]


def _session(design, profile):
    return Session(open_runtime("emu", announce=lambda *_: None), design,
                   native.ensure_built(design, quiet=True, profile=profile))


def _gemm_outputs(sess, dtype, M, K, N, epilogue, path, verified=True):
    case = gb.GemmCase(sess, dtype, M, K, N, epilogue, path, gb.shape_rng(M, K, N))
    r = case.launch()
    assert r.verified == verified or not verified, r.error
    return case.output().tobytes()


@pytest.mark.parametrize("dtype", ["fp32", "fp16", "fx16", "int8"])
def test_gemm_release_build_is_bit_identical_to_the_plain_build(dtype):
    design = gb.load_gemm_design(dtype)
    fast, plain = _session(design, "release"), _session(design, "plain")
    for M, K, N in SHAPES:
        for epilogue, path in (("none", "gemm"), ("bias_gelu", "fused"), ("bias_gelu", "unfused")):
            a = _gemm_outputs(fast, dtype, M, K, N, epilogue, path)
            b = _gemm_outputs(plain, dtype, M, K, N, epilogue, path)
            assert a == b, f"{dtype} {M}x{K}x{N} {epilogue} {path}: -O3 build differs from -O0"


def _memcpy_outputs(sess):
    out = []
    n_words = 1000
    a = sess.alloc("bw_memcpy", 0, "in", n_words * 64)
    b = sess.alloc("bw_memcpy", 0, "out", n_words * 64)
    np.frombuffer(a.map(), np.uint64)[:] = np.random.default_rng(5).integers(0, 2 ** 63, n_words * 8,
                                                                            dtype=np.uint64)
    sess.to_device([a])
    for mode in (0, 1, 2):
        sess.poison([(b, n_words * 64)], 0xDEADBEEFDEADBEEF)
        sess.launch([sess.run("bw_memcpy", 0, [a, b, n_words, 3, mode, 0, 0, 0, 0])], 10_000, f"mode {mode}")
        sess.from_device(b)
        out.append(bytes(b.map()))
    return out


def test_memcpy_release_build_is_bit_identical_to_the_plain_build():
    design = load_design("memcpy")
    assert _memcpy_outputs(_session(design, "release")) == _memcpy_outputs(_session(design, "plain"))


def test_release_flags_keep_multiply_and_add_apart():
    assert "-ffp-contract=off" in native.PROFILES["release"]
    assert not any(f in native.PROFILES["release"] for f in ("-ffast-math", "-Ofast", "-fassociative-math"))


def test_the_check_catches_a_contracting_build(monkeypatch):
    """With FMA contraction (what -march=native allows without -ffp-contract=off), fp32 results
    move by an ulp somewhere: the comparison above sees it (and so does the bench's own check)."""
    monkeypatch.setitem(native.PROFILES, "contracting", ["-O3", "-march=native", "-ffp-contract=fast"])
    import harness.designs.native as nat
    if "fma" not in open("/proc/cpuinfo").read():
        pytest.skip("no FMA on this CPU: contraction cannot change a result")
    design = gb.load_gemm_design("fp32")
    fused, plain = _session(design, "contracting"), _session(design, "plain")
    differs = any(_gemm_outputs(fused, "fp32", M, K, N, "none", "gemm", verified=False)
                  != _gemm_outputs(plain, "fp32", M, K, N, "none", "gemm") for M, K, N in SHAPES)
    assert differs, nat.PROFILES["contracting"]
