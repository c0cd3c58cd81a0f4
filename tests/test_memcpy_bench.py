"""`harness bench memcpy` end to end on the emulator: verification, schema, errors."""
from __future__ import annotations

import json

import numpy as np
import pytest

from harness.results.reader import load_run
from harness.cli import main
from harness.errors import UserError

SMALL = ["bench", "memcpy", "--mode", "emu", "--warmup", "1", "--repeats", "2", "--kernel-reps", "2"]


def _run(runs_dir, *extra):
    out = [] if "--out" in extra else ["--out", str(runs_dir)]
    return main(SMALL + out + list(extra))


def test_sweep_writes_a_complete_verified_run(only_run, runs_dir, capsys):
    assert _run(runs_dir, "--sizes", "4K,192K", "--direction", "copy", "--direction", "read", "--pcs", "2") == 0
    run = load_run(only_run(runs_dir))
    ctx = run.context
    assert ctx["status"] == "complete" and ctx["bench"] == "memcpy" and ctx["timing_source"] == "model"
    assert ctx["design"]["kernels"]["bw_memcpy"]["cus"] == 16
    assert ctx["emulator"]["build_hash"] and "dirty" in ctx["git"]
    # every repetition kept: 2 directions x 2 sizes x (1 warm-up + 2 measured)
    assert len(run.samples) == 2 * 2 * 3
    assert set(run.samples["phase"]) == {"warmup", "measure"}
    assert run.samples["verified"].all()
    assert (run.samples["timing_source"] == "model").all()
    s = run.summary
    assert len(s) == 4 and s["verified"].all() and (s["n"] == 2).all()
    # decimal GB/s from the bytes and times recorded, and never above the 2 PCs' physical peak
    m = run.samples[run.samples["phase"] == "measure"]
    assert np.allclose(m["bandwidth_GBps"], m["bytes"] / m["time_s"] / 1e9)
    assert (s["bandwidth_GBps_best"] <= 2 * 14.375).all()
    copy = m[m["direction"] == "copy"]
    assert (copy["bytes"] == 2 * copy["bytes_per_pc"] * copy["kernel_reps"]).all()   # 1 CU, read + write
    out = capsys.readouterr().out
    assert "MODELED" in out and "run directory:" in out


def test_failed_verification_is_recorded_and_never_used(only_run, runs_dir, monkeypatch):
    import harness.bench.memcpy as mc
    monkeypatch.setattr(mc, "write_pattern", lambda n, reps=1: np.zeros(n * 8, np.uint64))
    assert _run(runs_dir, "--sizes", "4K", "--direction", "write", "--pcs", "1") == 0
    run = load_run(only_run(runs_dir), require_verified=False)
    assert not run.samples["verified"].any()
    assert run.samples["bandwidth_GBps"].isna().all()
    assert not run.summary["verified"].any() and np.isnan(run.summary["bandwidth_GBps_best"]).all()
    assert "differs" in run.summary["errors"].iloc[0]
    assert run.verified_summary().empty


@pytest.mark.parametrize("args,needle", [
    (["--sizes", "0"], "positive"),
    (["--sizes", "100"], "multiple of 64"),
    (["--sizes", "512M"], "larger than one PC"),
    (["--pcs", "33"], "1 to 32"),
    (["--pcs", "3", "--direction", "copy"], "even"),
    (["--pcs", "32", "--direction", "read"], "at most 16"),
    (["--pcs", "17", "--direction", "read", "--direction", "copy"], "at most 16"),
    (["--sizes", "4x"], "suffix"),
    (["--mode", "bogus"], "invalid choice"),
    (["--xclbin", "/nonexistent.xclbin"], "not found"),
    (["--repeats", "0"], "at least 1"),
    (["--device", "3"], "--device 0"),
    (["--out", "/proc/no-such-dir"], "writable"),
])
def test_bad_input_is_one_line_exit_2_and_leaves_no_run(runs_dir, capsys, args, needle):
    with pytest.raises(SystemExit) as exc_info:
        defaults = [] if "--direction" in args else ["--direction", "read"]
        defaults += [] if "--pcs" in args else ["--pcs", "1"]
        rc = _run(runs_dir, "--sizes", "4K", *defaults, *args)
        raise SystemExit(rc)
    assert exc_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err and "Traceback" not in err
    assert not any(runs_dir.iterdir())


def test_hw_mode_without_pyxrt_says_what_to_do(runs_dir, capsys, monkeypatch):
    import harness.runtime as rtmod
    monkeypatch.setattr(rtmod, "_import_pyxrt", lambda: None)
    assert _run(runs_dir, "--mode", "hw", "--sizes", "4K") == 2
    err = capsys.readouterr().err
    assert "setup.sh" in err and len(err.strip().splitlines()) == 1
    assert not any(runs_dir.iterdir())


def test_auto_mode_falls_back_to_emu_and_says_so(runs_dir, capsys, monkeypatch):
    import harness.runtime as rtmod
    monkeypatch.setattr(rtmod, "_import_pyxrt", lambda: None)
    args = [a for a in SMALL if a not in ("--mode", "emu")]
    assert main(args + ["--out", str(runs_dir), "--sizes", "4K", "--pcs", "1", "--direction", "read"]) == 0
    assert "mode: emu" in capsys.readouterr().out


def test_device_failure_leaves_the_run_marked_incomplete(only_run, runs_dir, capsys, monkeypatch):
    monkeypatch.setenv("HARNESS_EMU_FAULT", "timeout")
    assert _run(runs_dir, "--sizes", "4K", "--pcs", "1", "--direction", "read", "--timeout", "50") == 1
    run_dir = only_run(runs_dir)
    ctx = json.loads((run_dir / "context.json").read_text())
    assert ctx["status"] == "incomplete" and "TIMEOUT" in ctx["error"]
    assert "raise --timeout" in capsys.readouterr().err
    with pytest.raises(UserError, match="incomplete"):
        load_run(run_dir)


def test_a_malformed_fault_spec_is_a_user_error(runs_dir, capsys, monkeypatch):
    monkeypatch.setenv("HARNESS_EMU_FAULT", "bogus")
    assert _run(runs_dir, "--sizes", "4K", "--pcs", "1", "--direction", "read") == 2
    assert "HARNESS_EMU_FAULT" in capsys.readouterr().err
    assert not any(runs_dir.iterdir())


@pytest.mark.parametrize("direction,pcs", [("read", 1), ("copy", 2), ("write", 16)])
def test_emulated_bandwidth_is_what_harness_predict_says(only_run, runs_dir, direction, pcs):
    """--mode emu and `harness predict` are the same model: launch time = dispatch + transfer time."""
    from harness import model
    size, reps = 1 << 20, 2
    assert _run(runs_dir, "--sizes", "1M", "--pcs", str(pcs), "--direction", direction) == 0
    run = load_run(only_run(runs_dir))
    plat = model.load_platform("u280")
    pred = model.predict_memcpy(plat, memory="hbm", ports=2 if direction == "copy" else 1, direction=direction,
                                width_bits=512, clock_mhz=300, burst=64, outstanding=32, bytes=size * reps)
    expected = pred.time_s + model.dispatch_overhead(plat).value
    assert run.summary["time_s_median"].iloc[0] == pytest.approx(expected, rel=1e-6)
