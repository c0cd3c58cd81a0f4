"""The hardware branch of the runtime, driven end to end with a pyxrt stand-in.

No card here: the emulator module plays `pyxrt` (it offers the same 2023.1
surface), so `--mode hw` and `--mode hw_emu` run the very code a card would,
up to the module that answers. What differs by mode is only the runtime:
timing source, clock, environment variables.
"""
from __future__ import annotations

import json
import os

import pytest

import harness.runtime as rtmod
from harness.bench.rundir import load_run
from harness.cli import main
from harness.runtime import emulator


@pytest.fixture()
def fake_pyxrt(monkeypatch):
    monkeypatch.setattr(rtmod, "_import_pyxrt", lambda: emulator)
    for var in ("XCL_EMULATION_MODE", "EMCONFIG_PATH"):   # recorded, so whatever the runtime sets is undone
        monkeypatch.setenv(var, "")
        monkeypatch.delenv(var)
    return emulator


ARGS = ["bench", "memcpy", "--sizes", "4K", "--pcs", "2", "--direction", "copy", "--warmup", "0",
        "--repeats", "2", "--kernel-reps", "1"]


def test_hw_mode_runs_the_same_code_and_records_measured_timing(fake_pyxrt, memcpy_xclbin, runs_dir,
                                                                 only_run):
    assert main(ARGS + ["--mode", "hw", "--xclbin", str(memcpy_xclbin), "--out", str(runs_dir)]) == 0
    run = load_run(only_run(runs_dir))
    assert run.context["mode"] == "hw" and run.timing_source == "measured"
    assert run.samples["verified"].all() and (run.samples["timing_source"] == "measured").all()
    assert run.context["clock_source"].startswith("device")
    assert run.context["device"]["xclbin"]["uuid"] and "XCL_EMULATION_MODE" not in os.environ
    # host timing: perf_counter_ns around start()..wait(), so wall time and time agree
    m = run.samples
    assert (abs(m["time_s"] - m["wall_time_s"]) < 0.05).all()


def test_auto_mode_picks_hw_when_pyxrt_opens_a_device(fake_pyxrt, memcpy_xclbin, runs_dir, capsys, only_run):
    assert main(ARGS + ["--xclbin", str(memcpy_xclbin), "--out", str(runs_dir)]) == 0
    assert "mode: hw" in capsys.readouterr().out
    assert load_run(only_run(runs_dir)).context["mode"] == "hw"


def test_hw_mode_without_a_device_says_what_to_do(fake_pyxrt, runs_dir, capsys):
    assert main(ARGS + ["--mode", "hw", "--device", "7", "--out", str(runs_dir)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "xbutil examine" in err
    assert not any(runs_dir.iterdir())


def test_hw_emu_sets_the_emulation_environment_and_never_claims_measured(fake_pyxrt, memcpy_xclbin, runs_dir,
                                                                         tmp_path, monkeypatch, only_run):
    emdir = tmp_path / "em"
    emdir.mkdir()
    (emdir / "emconfig.json").write_text(json.dumps({"Platform": "emulated"}))
    monkeypatch.setenv("EMCONFIG_PATH", str(emdir))
    assert main(ARGS + ["--mode", "hw_emu", "--xclbin", str(memcpy_xclbin), "--out", str(runs_dir)]) == 0
    assert os.environ["XCL_EMULATION_MODE"] == "hw_emu" and os.environ["EMCONFIG_PATH"] == str(emdir)
    run = load_run(only_run(runs_dir))
    assert run.timing_source == "model"
    assert any("never a measured ceiling" in n for n in run.context["notes"])


def test_hw_emu_without_emconfig_names_the_make_target(fake_pyxrt, runs_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("EMCONFIG_PATH", str(tmp_path))
    assert main(ARGS + ["--mode", "hw_emu", "--out", str(runs_dir)]) == 2
    assert "make emconfig TARGET=hw_emu" in capsys.readouterr().err
