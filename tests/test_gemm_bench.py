"""`harness bench gemm` end to end on the emulator: every dtype and epilogue against numpy,
fused vs unfused, the smolVLA shape list, run-directory schema, bad input."""
from __future__ import annotations

import numpy as np
import pytest

from harness import model
from harness.bench import gemm as gb
from harness.bench import reference
from harness.results.reader import load_run
from harness.cli import main

DTYPES = ["fp32", "fp16", "fx16", "int8"]
EPILOGUES = ["none", "bias", "bias_gelu"]
# below one 64x64x64 tile, and odd sizes spanning several tiles in every dimension
SHAPES = "1x1x1,7x13x5,65x67x129"
SMALL = ["bench", "gemm", "--mode", "emu", "--warmup", "1", "--repeats", "2"]


def _run(runs_dir, *extra):
    return main(SMALL + ["--out", str(runs_dir), *extra])


@pytest.fixture(scope="module")
def sessions():
    """One emulated Session per dtype (each native library builds once, cached in build/emu)."""
    from harness.designs.native import ensure_built
    from harness.runtime import open_runtime
    from harness.runtime.session import Session
    out = {}
    for d in DTYPES:
        design = gb.load_gemm_design(d)
        out[d] = Session(open_runtime("emu"), design, ensure_built(design, quiet=True))
    return out


# ---------------------------------------------------------------- against numpy, through the CLI
@pytest.mark.parametrize("epilogue", EPILOGUES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_every_dtype_and_epilogue_is_verified_against_numpy(only_run, runs_dir, capsys, dtype, epilogue):
    assert _run(runs_dir, "--shapes", SHAPES, "--dtype", dtype, "--epilogue", epilogue) == 0
    run = load_run(only_run(runs_dir))
    ctx = run.context
    assert ctx["bench"] == "gemm" and ctx["status"] == "complete" and ctx["dtype"] == dtype
    assert ctx["timing_source"] == "model" and ctx["design"]["name"] == f"gemm_{dtype}"
    s = run.samples
    cus = run.context["design"]["kernels"]["gemm"]["cus"]
    assert list(s.columns) == gb.SAMPLE_COLUMNS + gb.cu_columns(cus)
    assert len(s) == 3 * (1 + 2)                       # every repetition kept, warm-ups too
    # every CU with columns was driven; its time ends within the launch, its columns sum to N
    ns = sum(s[f"cu{i}_N"] for i in range(cus))
    assert (ns == s["N"]).all()
    assert (s["cus"] == sum((s[f"cu{i}_N"] > 0).astype(int) for i in range(cus))).all()
    for i in range(cus):
        on = s[f"cu{i}_N"] > 0
        assert (s.loc[on, f"cu{i}_time_s"] <= s.loc[on, "time_s"] + 1e-12).all()
        assert np.allclose(s.loc[on, f"cu{i}_throughput_GFLOPps"],
                           2 * s.loc[on, "M"] * s.loc[on, "K"] * s.loc[on, f"cu{i}_N"] / s.loc[on, f"cu{i}_time_s"] / 1e9)
    assert s["verified"].all() and (s["error"].isna() | (s["error"] == "")).all()
    assert set(s["path"]) == {"gemm"} and set(s["epilogue"]) == {epilogue}
    assert (s["flop"] == 2 * s["M"] * s["K"] * s["N"]).all()
    eb, ob = gb.elem_bytes(dtype), 4
    bias = s["N"] * eb if epilogue != "none" else 0
    assert (s["bytes"] == (s["M"] * s["K"] + s["K"] * s["N"]) * eb + s["M"] * s["N"] * ob + bias).all()
    assert np.allclose(s["throughput_GFLOPps"], s["flop"] / s["time_s"] / 1e9)
    assert np.allclose(s["bandwidth_GBps"], s["bytes"] / s["time_s"] / 1e9)
    summ = run.summary
    assert len(summ) == 3 and summ["verified"].all() and (summ["n"] == 2).all()
    assert {"throughput_GFLOPps_best", "bandwidth_GBps_median", "time_s_p99"} <= set(summ.columns)
    assert "MODELED" in capsys.readouterr().out


@pytest.mark.parametrize("dtype", DTYPES)
def test_fused_and_unfused_give_the_same_result(sessions, dtype):
    sess = sessions[dtype]
    plat = model.load_platform("u280")
    for M, K, N in ((1, 1, 1), (19, 23, 29), (65, 67, 129)):
        for epi in ("bias", "bias_gelu"):
            f = gb.GemmCase(sess, dtype, M, K, N, epi, "fused", np.random.default_rng(5), plat)
            u = gb.GemmCase(sess, dtype, M, K, N, epi, "unfused", np.random.default_rng(5), plat)
            assert np.array_equal(f.A, u.A) and np.array_equal(f.bias, u.bias)
            rf, ru = f.launch(), u.launch()
            assert rf.verified and ru.verified, (rf.error, ru.error)
            assert ru.epilogue_time_s > 0 and ru.time_s == pytest.approx(ru.gemm_time_s + ru.epilogue_time_s)
            out_f, out_u = f.output().copy(), u.output().copy()
            ok, msg = reference.compare(out_f, u.expected)       # each path's output passes the other's check
            assert ok, msg
            assert np.array_equal(out_f, out_u, equal_nan=False)   # and in fact bit-identical (README)


def test_compare_fusion_run(only_run, runs_dir, capsys):
    assert _run(runs_dir, "--shapes", "7x13x5,65x67x129", "--compare-fusion") == 0
    run = load_run(only_run(runs_dir))
    s = run.samples
    assert set(s["path"]) == {"fused", "unfused"} and set(s["epilogue"]) == {"bias_gelu"}
    assert len(s) == 2 * 2 * 3 and s["verified"].all()
    un, fu = s[s["path"] == "unfused"], s[s["path"] == "fused"]
    assert np.allclose(un["time_s"], un["gemm_time_s"] + un["epilogue_time_s"])
    assert fu["epilogue_time_s"].isna().all() and np.allclose(fu["gemm_time_s"], fu["time_s"])
    assert (un["flop"].to_numpy() == fu["flop"].to_numpy()).all()        # epilogue ops are not FLOPs
    # both read the bias once; unfused also moves C twice more (bias_gelu reads it, writes out)
    extra = un["bytes"].to_numpy() - fu["bytes"].to_numpy()
    assert (extra == 2 * un["M"].to_numpy() * un["N"].to_numpy() * 4).all()
    summ = run.summary
    assert len(summ) == 4 and summ["verified"].all()
    assert summ.loc[summ["path"] == "unfused", "epilogue_time_s_median"].notna().all()
    # in emulation the unfused pair pays one more dispatch, so fusion must save time
    t = summ.set_index(["M", "path"])["time_s_median"]
    assert t[(65, "unfused")] > t[(65, "fused")]
    # the roofline pairs the two paths of a shape from this run
    from harness.roofline.fusion import run_pairs
    pairs = run_pairs([run])
    assert set(pairs) == {("fp32", 7, 13, 5, "bias+gelu"), ("fp32", 65, 67, 129, "bias+gelu")}
    assert pairs[("fp32", 65, 67, 129, "bias+gelu")]["saved_s"] > 0
    out = capsys.readouterr().out
    assert "fusion (bias_gelu)" in out and "run directory:" in out


def test_failed_verification_is_recorded_and_never_used(only_run, runs_dir, monkeypatch):
    real = reference.expected_gemm

    def off_by_one(*a, **k):
        e = real(*a, **k)
        return reference.Expected(e.lo + 1, e.hi + 1, e.value + 1, e.dtype)
    monkeypatch.setattr(reference, "expected_gemm", off_by_one)
    assert _run(runs_dir, "--shapes", "7x13x5", "--dtype", "int8") == 0
    run = load_run(only_run(runs_dir), require_verified=False)
    assert not run.samples["verified"].any()
    assert run.samples["throughput_GFLOPps"].isna().all() and run.samples["bandwidth_GBps"].isna().all()
    assert not run.summary["verified"].any() and np.isnan(run.summary["throughput_GFLOPps_best"]).all()
    assert "differs from the reference" in run.summary["errors"].iloc[0]
    assert run.verified_summary().empty


@pytest.mark.parametrize("fault,code", [("error:bias_gelu", 1), ("timeout:gemm", 1)])
def test_a_failed_launch_leaves_an_incomplete_run(only_run, runs_dir, monkeypatch, capsys, fault, code):
    from harness.errors import UserError
    monkeypatch.setenv("HARNESS_EMU_FAULT", fault)
    assert _run(runs_dir, "--shapes", "7x13x5", "--compare-fusion", "--timeout", "100") == code
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and ("ERROR" in err or "TIMEOUT" in err), err
    with pytest.raises(UserError, match="incomplete"):
        load_run(only_run(runs_dir))


def test_check_gemm_catches_wrong_and_missing_results():
    rng = np.random.default_rng(1)
    for dtype in DTYPES:
        a, b, bias = gb.gemm_inputs(dtype, 9, 11, 7, rng)
        exp = reference.expected_gemm(dtype, a, b, bias, "bias_gelu")
        good = exp.value.astype(reference.OUT_TYPES[dtype])
        assert reference.check_gemm(dtype, a, b, bias, "bias_gelu", good) == (True, "")
        bad = good.copy()
        bad[3, 4] += 100
        ok, msg = reference.check_gemm(dtype, a, b, bias, 2, bad)
        assert not ok and "1 of 63" in msg and "[3,4]" in msg
        poisoned = np.empty_like(good)
        gb._poison(poisoned)
        assert not reference.check_gemm(dtype, a, b, bias, "bias_gelu", poisoned)[0]


def test_fx16_inputs_do_not_saturate():
    rng = np.random.default_rng(0)
    for K in (1, 64, 12288):
        a, b, bias = gb.gemm_inputs("fx16", 4, K, 4, rng, {"GEMM_FX_INT_BITS": 6})
        c = reference.fx16_epilogue_raw(reference.fx16_gemm_raw(a, b, 6), bias, 1, 6)
        worst = K * int(np.abs(a).max()) * int(np.abs(b).max()) / 2 ** 20      # real units
        assert worst < 2 ** 15 and np.abs(c).max() < reference.I32_MAX


# ---------------------------------------------------------------- the smolVLA shape list
# Hand-derived from harness/docs/smolvla.md (defaults: 3 cameras, 48 language tokens,
# P = 3*64 + 48 + 1 = 241 prefix tokens, 50 action tokens, expert width 720, MLP 2048).
SMOLVLA_LINEAR = [
    (1024, 768, 768),      # vision patch embedding (16*16*3 = 768 -> 768) and q, k, v, o
    (1024, 768, 3072),     # vision MLP fc1
    (1024, 3072, 768),     # vision MLP fc2
    (64, 12288, 960),      # connector after pixel shuffle 4
    (1, 32, 960),          # state_proj
    (241, 960, 960),       # prefix q, o
    (241, 960, 320),       # prefix k, v (5 kv heads x 64)
    (241, 960, 2560),      # prefix gate, up
    (241, 2560, 960),      # prefix down
    (50, 32, 720),         # action_in_proj
    (50, 1440, 720),       # action_time_mlp_in
    (50, 720, 720),        # action_time_mlp_out
    (50, 720, 960),        # expert q
    (50, 720, 320),        # expert self-attention k, v
    (241, 320, 320),       # expert cross-attention k, v on the cached prefix
    (50, 960, 720),        # expert o
    (50, 720, 2048),       # expert gate, up
    (50, 2048, 720),       # expert down
    (50, 720, 32),         # action_out_proj
]


def test_smolvla_shapes_match_the_reference_document():
    shapes = gb.smolvla_shapes()
    assert sorted(shapes) == sorted(SMOLVLA_LINEAR)
    assert len(shapes) == len(set(shapes))
    assert "vision.patch_embed" in shapes[(1024, 768, 768)] and "vision.attn.o" in shapes[(1024, 768, 768)]
    assert shapes[(241, 320, 320)] == ["expert.cross.k", "expert.cross.v"]


def test_workload_shapes_follow_the_workload_parameters():
    from harness.workload.smolvla import SmolVLAConfig
    shapes = gb.smolvla_shapes(SmolVLAConfig(cameras=2))      # P = 2*64 + 48 + 1 = 177
    assert (177, 960, 960) in shapes and (241, 960, 960) not in shapes


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("args,needle", [
    (["--shapes", "0x4x4"], "at least 1"),
    (["--shapes", "4x0x4"], "at least 1"),
    (["--shapes", "4x4"], "MxKxN"),
    (["--shapes", "4x4xq"], "MxKxN"),
    (["--shapes", "5000000000x1x1"], "32-bit"),
    (["--shapes", "100000x100000x1"], "HBM[0]"),                 # A is 40 GB: larger than its bank
    (["--shapes", "8193x8192x1"], "holds 268435456 bytes"),       # A one row over 256 MiB
    (["--shapes", "4x4x4", "--dtype", "bf16"], "built: fp32, fp16, fx16, int8"),
    (["--shapes", "4x4x4", "--workload", "smolvla"], "not both"),
    ([], "--shapes MxKxN"),
    (["--shapes", "4x4x4", "--compare-fusion", "--epilogue", "none"], "needs an epilogue"),
    (["--shapes", "4x4x4", "--epilogue", "relu"], "invalid choice"),
    (["--shapes", "4x4x4", "--repeats", "0"], "at least 1"),
    (["--shapes", "4x4x4", "--cameras", "2"], "only with --workload"),
])
def test_bad_input_is_one_line_exit_2_and_leaves_no_run(runs_dir, capsys, args, needle):
    with pytest.raises(SystemExit) as exc_info:
        raise SystemExit(_run(runs_dir, *args))
    assert exc_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err and "Traceback" not in err, err
    assert list(runs_dir.iterdir()) == []


def test_bank_check_is_exact_and_covers_the_unfused_output():
    from harness.errors import UserError
    design = gb.load_gemm_design("fp32")
    gb.check_fits(design, "fp32", [(8192, 8192, 1)], unfused=True)        # packed A exactly 256 MiB: fits
    with pytest.raises(UserError, match=r"HBM\[0\]"):
        gb.check_fits(design, "fp32", [(8193, 8192, 1)], unfused=False)
    with pytest.raises(UserError, match=r"HBM\[5\]"):                   # CU 0: 16384 x 4160 outputs
        gb.check_fits(design, "fp32", [(16384, 1, 12289)], unfused=True)
    sizes = gb.buffer_bytes(design, "fx16", 3, 5, 7, unfused=True)      # one CU: 7 columns < one group
    assert sizes == {("gemm", 0, "A"): 3 * 64, **{("gemm", 0, f"B{p}"): 5 * 64 for p in range(4)},
                     ("gemm", 0, "C"): 3 * 64, ("gemm", 0, "bias"): 64, ("bias_gelu", 0, "out"): 3 * 64}
