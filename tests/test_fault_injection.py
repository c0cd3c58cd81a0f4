"""Faults injected into the emulated kernels (HARNESS_EMU_FAULT) through the real entry point.

Every fault a kernel implements makes every point it touches `verified=false`, the closing
lines say so, no figure is written, and `harness roofline` refuses the run. A spec naming a
kernel the design lacks, or a fault none of the design's kernels implements, is one line,
exit 2, before any run directory exists. The kernel-level versions of these tests, at every
K from 1 to 65536, are in tests/test_kernels_native.py.
"""
from __future__ import annotations

import json

import pytest

from harness.cli import main
from harness.errors import UserError
from harness.results.reader import load_run

QUICK = ["--mode", "emu", "--warmup", "0", "--repeats", "1"]
# N >= 2 everywhere (wrong_index swaps neighbouring columns); K from 1 past one K chunk (256)
GEMM_SHAPES = "1x1x2,7x13x5,3x720x5"
FLOAT_FAULTS = ["operands:fp16", "operands:bf16", "operands:tf32", "accumulate:fp16"]
MEMORY_FAULTS = ["skip_word", "stale_rep", "wrong_index"]


def _bench(runs_dir, monkeypatch, fault, *args):
    monkeypatch.setenv("HARNESS_EMU_FAULT", fault)
    return main(["bench", *args, *QUICK, "--out", str(runs_dir)])


def _assert_all_unverified(run_dir, capsys, n_points=None):
    run = load_run(run_dir, require_verified=False)
    s = run.samples
    assert run.context["status"] == "complete"
    assert not s["verified"].astype(bool).any()
    assert s.filter(like="GBps").isna().all().all() and s.filter(like="GFLOPps").isna().all().all()
    assert not run.summary["verified"].astype(bool).any()
    if n_points is not None:
        assert len(run.summary) == n_points
    out = capsys.readouterr().out
    total = len(run.summary)
    assert f"warning: {total} of {total} point(s) failed verification" in out
    assert "fault injected on purpose: HARNESS_EMU_FAULT=" in out
    assert run.context["emulator"]["fault"]
    # and the roofline will not take a figure from it
    with pytest.raises(UserError, match="no verified point"):
        load_run(run_dir)
    return run


def _roofline_refuses(run_dir, tmp_path, capsys):
    capsys.readouterr()
    assert main(["roofline", "--results", str(run_dir), "--out", str(tmp_path / "roof")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no verified point" in err, err
    assert not (tmp_path / "roof").exists()


# ---------------------------------------------------------------- gemm
@pytest.mark.parametrize("fault", FLOAT_FAULTS + MEMORY_FAULTS)
def test_every_gemm_fault_fails_every_fp32_point(runs_dir, monkeypatch, capsys, only_run, fault):
    assert _bench(runs_dir, monkeypatch, fault, "gemm", "--dtype", "fp32", "--shapes", GEMM_SHAPES) == 0
    run = _assert_all_unverified(only_run(runs_dir), capsys, n_points=3)
    assert "outside the accepted range" in run.summary["errors"].iloc[0]


@pytest.mark.parametrize("dtype,fault", [("fp16", "accumulate:fp16"), ("fp16", "operands:bf16"),
                                         ("fx16", "stale_rep"), ("int8", "skip_word"), ("int8", "wrong_index")])
def test_gemm_faults_on_the_other_dtypes(runs_dir, monkeypatch, capsys, only_run, dtype, fault):
    assert _bench(runs_dir, monkeypatch, fault, "gemm", "--dtype", dtype, "--shapes", GEMM_SHAPES) == 0
    _assert_all_unverified(only_run(runs_dir), capsys, n_points=3)


def test_a_fault_in_bias_gelu_fails_only_the_unfused_points(runs_dir, monkeypatch, capsys, only_run):
    assert _bench(runs_dir, monkeypatch, "operands:fp16:bias_gelu", "gemm", "--shapes", "7x13x5,3x720x5",
                  "--compare-fusion", "--epilogue", "bias_gelu") == 0
    run = load_run(only_run(runs_dir))
    ok = run.summary.set_index("path")["verified"].astype(bool)
    assert ok["fused"].all() and not ok["unfused"].any()
    assert "2 of 4 point(s) failed verification" in capsys.readouterr().out


def test_smolvla_workload_with_fp16_operands_is_never_verified(runs_dir, monkeypatch, capsys, only_run, tmp_path):
    """The issue's case: an fp32 kernel rounding A and B to fp16, on all 19 smolVLA shapes."""
    assert _bench(runs_dir, monkeypatch, "operands:fp16", "gemm", "--dtype", "fp32", "--workload", "smolvla") == 0
    run_dir = only_run(runs_dir)
    run = _assert_all_unverified(run_dir, capsys, n_points=19)
    assert (run.summary["n"] == 1).all()
    _roofline_refuses(run_dir, tmp_path, capsys)


# ---------------------------------------------------------------- flops
@pytest.mark.parametrize("dtype,fault", [("fp32", "operands:fp16"), ("fp32", "accumulate:fp16"),
                                         ("fp16", "operands:bf16")])
def test_a_precision_fault_in_flops_fails_every_point(runs_dir, monkeypatch, capsys, only_run, tmp_path,
                                                      dtype, fault):
    """The compute-ceiling kernel shares the GEMM's MAC and its faults: no figure survives."""
    assert _bench(runs_dir, monkeypatch, fault, "flops", "--dtype", dtype, "--flops-per-element", "1,64",
                  "--bytes-per-port", "4K") == 0
    run_dir = only_run(runs_dir)
    _assert_all_unverified(run_dir, capsys, n_points=2)
    _roofline_refuses(run_dir, tmp_path, capsys)


def test_flops_refuses_a_memory_fault_it_does_not_implement(runs_dir, monkeypatch, capsys):
    assert _bench(runs_dir, monkeypatch, "skip_word", "flops", "--flops-per-element", "1") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no kernel of design flops_fp32 implements it" in err, err
    assert list(runs_dir.iterdir()) == []


# ---------------------------------------------------------------- memcpy and latency
@pytest.mark.parametrize("fault", MEMORY_FAULTS)
def test_every_memcpy_fault_fails_every_point(runs_dir, monkeypatch, capsys, only_run, tmp_path, fault):
    assert _bench(runs_dir, monkeypatch, fault, "memcpy", "--sizes", "4K,64K", "--pcs", "2",
                  "--direction", "read", "--direction", "write", "--direction", "copy",
                  "--kernel-reps", "3") == 0
    run_dir = only_run(runs_dir)
    run = _assert_all_unverified(run_dir, capsys, n_points=6)
    assert set(run.summary["direction"]) == {"read", "write", "copy"}
    assert "bw_memcpy_1 output differs" in run.summary["errors"].iloc[0]
    if fault == "stale_rep":
        _roofline_refuses(run_dir, tmp_path, capsys)


@pytest.mark.parametrize("fault", ["operands:fp16", *MEMORY_FAULTS])
def test_latency_gemm_points_catch_the_fault(runs_dir, monkeypatch, capsys, only_run, fault):
    assert _bench(runs_dir, monkeypatch, fault, "latency", "--launches", "5", "--shapes", GEMM_SHAPES) == 0
    run = load_run(only_run(runs_dir))        # the dispatch point (nop, no fault) stays verified
    ok = run.summary.set_index("kind")["verified"].astype(bool)
    assert ok["dispatch"] and not ok["gemm"].any()
    assert "3 of 4 point(s) failed verification" in capsys.readouterr().out


# ---------------------------------------------------------------- specs that cannot be honoured
@pytest.mark.parametrize("fault,bench,needle", [
    ("operands:fp16:bw_memcpy", ["gemm", "--shapes", "4x4x4"], "has no kernel 'bw_memcpy'"),
    ("timeout:gemmm", ["gemm", "--shapes", "4x4x4"], "has no kernel 'gemmm'"),
    ("operands:fp16", ["memcpy", "--sizes", "4K", "--pcs", "1", "--direction", "read"],
     "no kernel of design memcpy implements it"),
    ("accumulate:fp16", ["gemm", "--shapes", "4x4x4", "--dtype", "int8"], "no kernel of design gemm_int8"),
    ("operands:fp16:gemm", ["gemm", "--shapes", "4x4x4", "--dtype", "fp16"],
     "kernel gemm does not implement it (in this design: bias_gelu)"),
    ("stale_rep:bias_gelu", ["gemm", "--shapes", "4x4x4"], "kernel bias_gelu does not implement it"),
    ("skip_word:nop", ["latency", "--launches", "5", "--shapes", "4x4x4"], "kernel nop does not implement"),
    ("operands:fp8", ["gemm", "--shapes", "4x4x4"], "unknown fault"),
    ("operands", ["gemm", "--shapes", "4x4x4"], "unknown fault"),
    ("skip_word:gemm:extra", ["gemm", "--shapes", "4x4x4"], "KIND:KERNEL"),
    ("skip_word:", ["gemm", "--shapes", "4x4x4"], "KIND:KERNEL"),
])
def test_a_fault_the_design_cannot_take_is_one_line_exit_2(runs_dir, monkeypatch, capsys, fault, bench, needle):
    assert _bench(runs_dir, monkeypatch, fault, *bench) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err and "HARNESS_EMU_FAULT" in err, err
    assert "Traceback" not in err
    assert list(runs_dir.iterdir()) == []


def test_the_fault_is_recorded_in_the_context(runs_dir, monkeypatch, only_run, capsys):
    assert _bench(runs_dir, monkeypatch, "wrong_index:gemm", "gemm", "--shapes", "1x1x1") == 0
    ctx = json.loads((only_run(runs_dir) / "context.json").read_text())
    assert ctx["emulator"]["fault"] == "wrong_index:gemm"
    assert any("HARNESS_EMU_FAULT=wrong_index:gemm" in n for n in ctx["notes"])
    # a 1x1 output has no neighbouring column to swap: the fault cannot act and the point verifies
    assert load_run(only_run(runs_dir)).summary["verified"].all()
