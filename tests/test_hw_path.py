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
from harness.results.reader import load_run
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
    # the shell's max clock is recorded but not taken for the kernels' clock
    assert run.context["clock_mhz"] == 300 and "max_clock_frequency_mhz" in run.context["clock_source"]
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


def test_the_achieved_clock_given_by_the_user_is_recorded(fake_pyxrt, memcpy_xclbin, runs_dir, only_run):
    assert main(ARGS + ["--mode", "hw", "--xclbin", str(memcpy_xclbin), "--clock-mhz", "236",
                        "--out", str(runs_dir)]) == 0
    ctx = load_run(only_run(runs_dir)).context
    assert ctx["clock_mhz"] == 236 and "--clock-mhz" in ctx["clock_source"]


def test_auto_mode_with_xcl_emulation_mode_set_is_never_hw(fake_pyxrt, memcpy_xclbin, runs_dir, tmp_path,
                                                           monkeypatch, capsys, only_run):
    (tmp_path / "emconfig.json").write_text("{}")
    monkeypatch.setenv("EMCONFIG_PATH", str(tmp_path))
    monkeypatch.setenv("XCL_EMULATION_MODE", "hw_emu")
    assert main(ARGS + ["--xclbin", str(memcpy_xclbin), "--out", str(runs_dir)]) == 0
    assert "mode: hw_emu" in capsys.readouterr().out
    run = load_run(only_run(runs_dir))
    assert run.context["mode"] == "hw_emu" and run.timing_source == "model"


class _HwContextPyxrt:
    """XRT >= 2023.2 shape: device.register_xclbin + hw_context + kernel(hw_context, name)."""

    def __init__(self):
        self.used_hw_context = False
        outer = self

        class device(emulator.device):
            def register_xclbin(self, xb):
                return self.load_xclbin(xb)

        class hw_context:
            def __init__(self, dev, uuid):
                self.dev, self.uuid = dev, uuid
                outer.used_hw_context = True

        def kernel(ctx_or_dev, *args):
            if isinstance(ctx_or_dev, hw_context):
                return emulator.kernel(ctx_or_dev.dev, ctx_or_dev.uuid, *args)
            return emulator.kernel(ctx_or_dev, *args)
        kernel.shared = emulator.kernel.shared

        self.device, self.hw_context, self.kernel = device, hw_context, kernel

    def __getattr__(self, name):
        return getattr(emulator, name)


def test_newer_xrt_uses_hw_context(monkeypatch, memcpy_xclbin, runs_dir, only_run):
    fake = _HwContextPyxrt()
    monkeypatch.setattr(rtmod, "_import_pyxrt", lambda: fake)
    assert main(ARGS + ["--mode", "hw", "--xclbin", str(memcpy_xclbin), "--out", str(runs_dir)]) == 0
    assert fake.used_hw_context
    assert load_run(only_run(runs_dir)).samples["verified"].all()
