"""The hardware branch of the runtime, driven end to end with a pyxrt stand-in.

No card here: the emulator module plays `pyxrt` (it offers the same 2023.1
surface), so `--mode hw` and `--mode hw_emu` run the very code a card would,
up to the module that answers. What differs by mode is only the runtime:
timing source, clock, environment variables.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
import types

import pandas as pd
import pytest

import harness.runtime as rtmod
from harness.results.reader import load_run
from harness.cli import main
from harness.runtime import emulator


@pytest.fixture()
def fake_pyxrt(monkeypatch, tmp_path):
    monkeypatch.setattr(rtmod, "_import_pyxrt", lambda: emulator)
    from harness.runtime import profile
    monkeypatch.setattr(profile, "WAIT_S", 0.2)  # no XRT behind the stand-in: no trace will come
    monkeypatch.chdir(tmp_path)            # hw_emu writes its xrt.ini under ./xrt_profile/
    for var in ("XCL_EMULATION_MODE", "EMCONFIG_PATH", "XRT_INI_PATH"):   # whatever the runtime sets is undone
        monkeypatch.setenv(var, "")
        monkeypatch.delenv(var)
    return emulator


def read_raw(path):
    """A run directory's files as written, without the reader's checks: the stand-in pyxrt is the
    emulator, so load_run (rightly) refuses these runs as measurements."""
    return types.SimpleNamespace(context=json.loads((path / "context.json").read_text()),
                                 samples=pd.read_csv(path / "samples.csv"),
                                 timing_source=json.loads((path / "context.json").read_text())["timing_source"])


def refused_as_measured(path) -> str:
    from harness.errors import UserError
    with pytest.raises(UserError) as e:
        load_run(path)
    assert "refused as a measured ceiling" in str(e.value)
    return str(e.value)


ARGS = ["bench", "memcpy", "--sizes", "4K", "--pcs", "2", "--direction", "copy", "--warmup", "0",
        "--repeats", "2", "--kernel-reps", "1"]


def test_hw_mode_runs_the_same_code_and_records_measured_timing(fake_pyxrt, memcpy_xclbin, runs_dir,
                                                                 only_run):
    assert main(ARGS + ["--mode", "hw", "--xclbin", str(memcpy_xclbin), "--out", str(runs_dir)]) == 0
    run = read_raw(only_run(runs_dir))
    assert run.context["mode"] == "hw" and run.timing_source == "measured"
    assert run.samples["verified"].all() and (run.samples["timing_source"] == "measured").all()
    # the kernel clock is read back from the device (the Data clock of the loaded xclbin), not
    # the shell's max clock, which is recorded as what it is
    assert run.context["clock_mhz"] == 300 and run.context["clock_source"] == "device"
    assert run.context["device"]["max_clock_frequency_mhz"] == 500
    assert {c["id"]: c["freq_mhz"] for c in run.context["device"]["clocks"]} == {"DATA_CLK": 300, "KERNEL_CLK": 500}
    assert run.context["device"]["xclbin"]["uuid"] and "XCL_EMULATION_MODE" not in os.environ
    # host timing: perf_counter_ns around start()..wait(), so wall time and time agree
    m = run.samples
    assert (abs(m["time_s"] - m["wall_time_s"]) < 0.05).all()
    # the stand-in pyxrt is the emulator: the run says so, and is refused as a measurement
    refused_as_measured(only_run(runs_dir))


def test_auto_mode_picks_hw_when_pyxrt_opens_a_device(fake_pyxrt, memcpy_xclbin, runs_dir, capsys, only_run):
    assert main(ARGS + ["--xclbin", str(memcpy_xclbin), "--out", str(runs_dir)]) == 0
    assert "mode: hw" in capsys.readouterr().out
    assert read_raw(only_run(runs_dir)).context["mode"] == "hw"


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
    assert run.timing_source == "emulation" and (run.samples["timing_source"] == "emulation").all()
    assert any("never a ceiling" in n for n in run.context["notes"])
    # the emulator writes no device trace: said so, and no device time is made up
    assert "absent" in run.context["device_profile"] and run.samples["device_time_s"].isna().all()


def test_hw_emu_without_emconfig_names_the_make_target(fake_pyxrt, runs_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("EMCONFIG_PATH", str(tmp_path))
    assert main(ARGS + ["--mode", "hw_emu", "--out", str(runs_dir)]) == 2
    assert "make emconfig TARGET=hw_emu" in capsys.readouterr().err


def test_the_achieved_clock_given_by_the_user_is_recorded(fake_pyxrt, memcpy_xclbin, runs_dir, only_run):
    assert main(ARGS + ["--mode", "hw", "--xclbin", str(memcpy_xclbin), "--clock-mhz", "236",
                        "--out", str(runs_dir)]) == 0
    ctx = read_raw(only_run(runs_dir)).context
    assert ctx["clock_mhz"] == 236 and ctx["clock_source"] == "given"
    assert any("differs from the 300 MHz" in n for n in ctx["notes"])


def test_auto_mode_with_xcl_emulation_mode_set_is_never_hw(fake_pyxrt, memcpy_xclbin, runs_dir, tmp_path,
                                                           monkeypatch, capsys, only_run):
    (tmp_path / "emconfig.json").write_text("{}")
    monkeypatch.setenv("EMCONFIG_PATH", str(tmp_path))
    monkeypatch.setenv("XCL_EMULATION_MODE", "hw_emu")
    assert main(ARGS + ["--xclbin", str(memcpy_xclbin), "--out", str(runs_dir)]) == 0
    assert "mode: hw_emu" in capsys.readouterr().out
    run = load_run(only_run(runs_dir))
    assert run.context["mode"] == "hw_emu" and run.timing_source == "emulation"


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
    assert read_raw(only_run(runs_dir)).samples["verified"].all()


def _emulated_xclbin_at(memcpy_xclbin, folder, **desc_changes):
    """A copy of the emulated memcpy xclbin with some descriptor fields changed (e.g. its clock)."""
    import shutil
    folder.mkdir(parents=True, exist_ok=True)
    desc = json.loads(memcpy_xclbin.read_text())
    for name in (desc["library"], desc["cfg"]):
        shutil.copy(memcpy_xclbin.parent / name, folder / name)
    desc.update(desc_changes)
    path = folder / memcpy_xclbin.name
    path.write_text(json.dumps(desc))
    return path


def test_a_lowered_kernel_clock_is_read_back_warned_about_and_used_by_the_model(fake_pyxrt, memcpy_xclbin,
                                                                                 runs_dir, tmp_path, capsys,
                                                                                 only_run):
    from harness import model
    slow = _emulated_xclbin_at(memcpy_xclbin, tmp_path / "slow", freq_mhz=236)
    assert main(ARGS + ["--mode", "hw", "--xclbin", str(slow), "--out", str(runs_dir)]) == 0
    assert "236 MHz, not the 300 MHz" in capsys.readouterr().err
    run = read_raw(only_run(runs_dir))
    assert run.context["clock_mhz"] == 236 and run.context["clock_source"] == "device"
    # every model figure of the run is at the clock read back
    want = model.predict_memcpy("u280", memory="hbm", ports=2, direction="copy", width_bits=512, clock_mhz=236,
                                burst=16, outstanding=16, bytes=4096).time_s
    assert run.samples["model_time_s"].iloc[0] == pytest.approx(want)


def test_hw_emu_gets_device_times_from_the_device_trace(fake_pyxrt, memcpy_xclbin, runs_dir, tmp_path,
                                                         monkeypatch, only_run):
    """XRT's device trace (fixture in XRT's format) gives every launch its simulated time."""
    import shutil
    from harness import REPO_ROOT
    from harness.runtime import xrtenv
    emdir = tmp_path / "em"
    emdir.mkdir()
    (emdir / "emconfig.json").write_text("{}")
    monkeypatch.setenv("EMCONFIG_PATH", str(emdir))
    trace = tmp_path / "profile"

    def profile_ini(base, root=None):
        shutil.copytree(REPO_ROOT / "tests" / "fixtures" / "xrt_profile", trace)
        return trace
    monkeypatch.setattr(xrtenv, "write_profile_ini", profile_ini)
    # 1 CU (copy over 2 PCs), 2 measured launches: bw_memcpy_1's first two executions in the trace
    assert main(["bench", "memcpy", "--mode", "hw_emu", "--xclbin", str(memcpy_xclbin), "--sizes", "4K",
                 "--pcs", "2", "--direction", "copy", "--kernel-reps", "1", "--out", str(runs_dir)]) == 0
    run = load_run(only_run(runs_dir))
    assert run.samples["device_time_s"].tolist() == pytest.approx([60.5e-6, 61.0e-6])
    assert run.context["device_profile"]["launches_with_device_time"] == 2
    assert run.summary["device_time_s_median"].iloc[0] == pytest.approx(60.75e-6)
    # emulation-sized defaults: no warm-up, 2 repetitions, no launch timeout
    assert (run.samples["phase"] == "measure").all() and len(run.samples) == 2


def test_an_emulation_run_is_never_a_ceiling(fake_pyxrt, memcpy_xclbin, runs_dir, tmp_path, monkeypatch,
                                             capsys, only_run):
    from harness.errors import UserError
    from harness.results.reader import load_runs
    from harness.roofline.ceilings import collect
    from harness import model
    (tmp_path / "emconfig.json").write_text("{}")
    monkeypatch.setenv("EMCONFIG_PATH", str(tmp_path))
    assert main(ARGS + ["--mode", "hw_emu", "--xclbin", str(memcpy_xclbin), "--out", str(runs_dir)]) == 0
    path = only_run(runs_dir)
    with pytest.raises(UserError, match="never a ceiling"):
        load_runs([path])
    with pytest.raises(UserError, match="never a ceiling"):
        collect(model.load_platform("u280"), [load_run(path)], "fp32")
    capsys.readouterr()
    assert main(["roofline", "--results", str(path), "--out", str(tmp_path / "roof")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "XRT emulation run" in err


def test_a_missing_xclbin_names_the_ones_that_exist(fake_pyxrt, runs_dir, tmp_path, monkeypatch, capsys):
    import harness.runtime.session as session
    other = tmp_path / "build" / "hw.xilinx_u280_gen3x16_xdma_base_1" / "memcpy.xclbin"
    other.parent.mkdir(parents=True)
    other.write_text("x")
    monkeypatch.setattr(session, "built_xclbins", lambda target=None: [other])
    assert main(ARGS + ["--mode", "hw", "--vitis-platform", "xilinx_u280_other_1_202211_1",
                        "--out", str(runs_dir)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "build/hw.xilinx_u280_other_1_202211_1/memcpy.xclbin" in err
    assert "exists for hw.xilinx_u280_gen3x16_xdma_base_1" in err and "--vitis-platform" in err
    assert not any(runs_dir.iterdir())


def test_a_card_with_another_shell_is_refused_in_one_line(fake_pyxrt, memcpy_xclbin, runs_dir, monkeypatch,
                                                          capsys):
    from harness.runtime import emulator
    monkeypatch.setattr(emulator, "EMULATED_SHELL", "xilinx_u280_gen3x16_xdma_base_2")
    monkeypatch.setattr(emulator.xclbin, "get_xsa_name", lambda self: "xilinx_u280_gen3x16_xdma_1_202211_1")
    assert main(ARGS + ["--mode", "hw", "--xclbin", str(memcpy_xclbin), "--out", str(runs_dir)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "built for xilinx_u280_gen3x16_xdma_1_202211_1" in err and "xilinx_u280_gen3x16_xdma_base_2" in err


@pytest.mark.parametrize("shell, platform, ok", [
    ("xilinx_u280_gen3x16_xdma_base_1", "xilinx_u280_gen3x16_xdma_1_202211_1", True),
    ("xilinx_u280_gen3x16_xdma_base_1", "/opt/xilinx/platforms/xilinx_u280_gen3x16_xdma_1_202211_1/"
                                        "xilinx_u280_gen3x16_xdma_1_202211_1.xpfm", True),
    ("xilinx_u280_gen3x16_xdma_base_2", "xilinx_u280_gen3x16_xdma_1_202211_1", False),
    ("xilinx_u50_gen3x16_xdma_base_5", "xilinx_u280_gen3x16_xdma_1_202211_1", False),
    ("xilinx_u280_xdma_201920_3", "xilinx_u280_xdma_201920_3", True),
    ("xilinx_u280_gen3x16_xdma_base_1", "xilinx_u280_xdma_201920_3", False),
])
def test_shell_and_platform_names(shell, platform, ok):
    from harness.runtime.session import shell_matches
    assert shell_matches(shell, platform) is ok


def test_an_xrt_ini_that_turns_on_profiling_is_recorded_and_warned_about_in_hw(fake_pyxrt, memcpy_xclbin,
                                                                              runs_dir, tmp_path, capsys,
                                                                              only_run):
    (tmp_path / "xrt.ini").write_text("[Debug]\nnative_xrt_trace = true\ndevice_trace = off\n"
                                      "[Runtime]\nruntime_log = console\n")
    assert main(ARGS + ["--mode", "hw", "--xclbin", str(memcpy_xclbin), "--out", str(runs_dir)]) == 0
    out = capsys.readouterr().out
    assert "native_xrt_trace=true" in out and "device_trace" not in out.split("warning:", 1)[1].split("\n")[0]
    ctx = read_raw(only_run(runs_dir)).context
    assert ctx["xrt_ini"]["path"] == str(tmp_path / "xrt.ini") and ctx["xrt_ini"]["found_by"] == "working directory"
    assert ctx["xrt_ini"]["settings"]["Runtime"]["runtime_log"] == "console"
    assert any("turns on XRT profiling" in n for n in ctx["notes"])


def test_hw_emu_writes_the_xrt_ini_for_device_profiling(fake_pyxrt, memcpy_xclbin, runs_dir, tmp_path,
                                                        monkeypatch, only_run):
    from harness.runtime.xrtenv import parse_xrt_ini
    (tmp_path / "emconfig.json").write_text("{}")
    monkeypatch.setenv("EMCONFIG_PATH", str(tmp_path))
    assert main(ARGS + ["--mode", "hw_emu", "--xclbin", str(memcpy_xclbin), "--out", str(runs_dir)]) == 0
    ini = Path(os.environ["XRT_INI_PATH"])
    assert ini.parent.parent == tmp_path / "xrt_profile"
    debug = parse_xrt_ini(ini.read_text())["Debug"]
    assert debug["device_trace"] == "fine" and debug["continuous_trace"] == "true"
    assert debug["profiling_directory"].startswith("./xrt_profile/")     # XRT takes a relative path only
    assert load_run(only_run(runs_dir)).context["device_profile_dir"] == str(ini.parent)


@pytest.mark.parametrize("value", ["0", "-5", str(2 ** 32)])
def test_timeout_outside_what_run_wait_takes_is_refused(fake_pyxrt, runs_dir, capsys, value):
    assert main(ARGS + ["--mode", "hw", "--timeout", value, "--out", str(runs_dir)]) == 2
    assert "4294967295" in capsys.readouterr().err


def test_pyxrt_built_for_another_python_is_named(monkeypatch, tmp_path):
    """XRT's pyxrt is built for its OS's Python: say which one it needs, not 'source setup.sh'."""
    import sys
    from harness.runtime import xrtenv
    (tmp_path / "python").mkdir()
    (tmp_path / "python" / "pyxrt.cpython-38-x86_64-linux-gnu.so").write_text("")
    monkeypatch.setenv("XILINX_XRT", str(tmp_path))
    msg = xrtenv.diagnose_import(ImportError("No module named 'pyxrt'"))
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert "built for CPython 3.8" in msg and f"this is Python {here}" in msg and "PYTHON=python3.8" in msg
    monkeypatch.delenv("XILINX_XRT")
    assert "source /opt/xilinx/xrt/setup.sh" in xrtenv.diagnose_import(None)
    # the right Python, but not on the path
    (tmp_path / "python" / f"pyxrt.cpython-{here.replace('.', '')}-x86_64-linux-gnu.so").write_text("")
    (tmp_path / "python" / "pyxrt.cpython-38-x86_64-linux-gnu.so").unlink()
    monkeypatch.setenv("XILINX_XRT", str(tmp_path))
    assert "not on PYTHONPATH" in xrtenv.diagnose_import(ImportError("x"))


def test_auto_mode_says_why_it_chose_emu(monkeypatch, tmp_path, capsys):
    import harness.runtime as rtmod
    monkeypatch.setattr(rtmod.xrtenv, "import_pyxrt", lambda: (None, "XILINX_XRT is not set: `source ...`", None))
    monkeypatch.delenv("XCL_EMULATION_MODE", raising=False)
    rt = rtmod.open_runtime(None)
    assert rt.mode == "emu"
    assert "no pyxrt: XILINX_XRT is not set" in capsys.readouterr().out
    with pytest.raises(rtmod.UserError, match="XILINX_XRT is not set"):
        rtmod.open_runtime("hw")
