"""The harness against XRT's real Python binding, on XRT's no-op device (no card needed).

../shared/xrt holds XRT's own pyxrt (built from XRT's 2022.1 sources for CPython
3.11 against Debian's libxrt1, XRT 2.13). With XCL_EMULATION_MODE=noop XRT loads
its no-op shim, which opens device 0 without a card; an xclbin written here from
the design file (tests/xclbin_image.py) loads on it, and kernels, buffers and
runs then behave as the binding makes them behave: argument conversions,
exception types, the "No such query request" answers of the device queries.

Each check runs in a process of its own (tests/real_pyxrt_checks.py): XRT picks
its shim once per process, and some misuse of the binding ends the process.
The tests skip, with the reason, where the binding cannot load; `.ci/run` sets
HARNESS_REQUIRE_REAL_PYXRT=1, which turns every such skip into a failure.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness import REPO_ROOT

SHARED_XRT = REPO_ROOT.parent / "shared" / "xrt"
NOOP_SHIM = Path("/usr/lib/x86_64-linux-gnu/libxrt_noop.so.2")
CHECKS = Path(__file__).parent / "real_pyxrt_checks.py"
REQUIRED = os.environ.get("HARNESS_REQUIRE_REAL_PYXRT") == "1"


def _why_not() -> str | None:
    if not (SHARED_XRT / "README.md").is_file():
        return f"XRT's binding is not beside this checkout ({SHARED_XRT})"
    if not NOOP_SHIM.exists():
        return f"{NOOP_SHIM} is missing: `apt-get install libxrt1` (Debian's XRT runtime)"
    res = subprocess.run([sys.executable, "-c", "import pyxrt"], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(SHARED_XRT)}, timeout=60)
    if res.returncode != 0:
        last = (res.stderr.strip().splitlines() or ["?"])[-1]
        return f"pyxrt does not import with Python {sys.version.split()[0]}: {last}"
    return None


_REASON = _why_not()
if _REASON and REQUIRED:
    raise RuntimeError(f"HARNESS_REQUIRE_REAL_PYXRT=1 but {_REASON}")
pytestmark = pytest.mark.skipif(_REASON is not None, reason=_REASON or "")


@pytest.fixture(scope="module")
def noop_env(tmp_path_factory):
    """XRT's no-op device: XILINX_XRT/lib/libxrt_noop.so.2 (Debian installs it elsewhere)."""
    root = tmp_path_factory.mktemp("xrt-noop")
    (root / "lib").mkdir()
    (root / "lib" / NOOP_SHIM.name).symlink_to(NOOP_SHIM)
    env = {k: v for k, v in os.environ.items() if k not in ("XRT_INI_PATH", "EMCONFIG_PATH")}
    env.update({"PYTHONPATH": os.pathsep.join([str(SHARED_XRT), str(REPO_ROOT)]), "XILINX_XRT": str(root),
                "XCL_EMULATION_MODE": "noop"})
    return env


def _check(env, folder: Path, name: str, *args: str) -> dict:
    res = subprocess.run([sys.executable, str(CHECKS), name, str(folder), *args], capture_output=True,
                         text=True, env=env, timeout=300, cwd=folder)
    assert res.returncode == 0, f"{name}: exit {res.returncode}\n{res.stdout[-2000:]}\n{res.stderr[-2000:]}"
    return json.loads(res.stdout.split("@@RESULT@@", 1)[1])


def test_every_name_the_harness_uses_exists_in_the_binding(noop_env, tmp_path):
    out = _check(noop_env, tmp_path, "surface")
    assert out["missing"] == []
    # what the emulator must not offer, the binding does not have either
    assert "hw_context" not in out["module"] and "register_xclbin" not in out["classes"]["device"]
    assert "wait2" not in out["classes"]["run"]
    # the xclbin item classes are nested in pyxrt.xclbin, as tests/data/pyxrt_2023_1_surface.json says
    assert {"xclbinkernel", "xclbinmem"} <= set(out["classes"]["xclbin"])
    assert "xclbinkernel" not in out["module"]


def test_device_info_handles_the_no_op_devices_answers(noop_env, tmp_path):
    out = _check(noop_env, tmp_path, "device_info")
    ctx = out["context"]
    for key in ("name", "bdf", "platform", "max_clock_frequency_mhz"):
        assert "No such query request" in ctx[key]["unavailable"], key
    assert ctx["xrt_version"] == "2.13.0"             # from get_info(host)
    assert "unavailable" in ctx["clocks"] and out["shell"] is None
    # no clocks from the device: the design's target, said to be that
    assert out["clock"]["clock_source"] == "design" and out["clock"]["clock_mhz"] == 300


@pytest.mark.parametrize("design", ["memcpy", "gemm_fp32"])
def test_a_session_loads_an_xclbin_written_from_the_design_and_runs_every_cu(noop_env, tmp_path, design):
    from harness.designs import load_design
    from harness.model import load_platform
    d = load_design(design)
    out = _check(noop_env, tmp_path, "session", design)
    # XRT's memory topology is the platform data's: tag -> index
    assert out["mem_index"] == {m.tag: m.index for m in load_platform("u280").memories}
    # kernel.group_id of every CU port is the bank the design file gives it; for a port on a PC
    # range (memcpy: HBM[0:31].N), XRT answers with the range's last bank, as the emulator does
    tags = {i: t for t, i in out["mem_index"].items()}
    for k in d.kernels.values():
        for cu in range(k.cus):
            for a in k.args:
                if a.kind == "ptr":
                    assert tags[out["groups"][f"{k.name}_{cu + 1}.{a.name}"]] == a.reach_for(cu).tags[-1]
    # every CU launched twice (bounded wait, then unbounded), logged by CU name
    want = [[cu] for k in d.kernels.values() for cu in k.cu_names() for _ in range(2)]
    assert out["launch_log"] == want
    assert out["xsa"] == "xilinx_u280_gen3x16_xdma_1_202211_1"
    assert {k["name"] for k in out["context_kernels"]} == set(d.kernels)


def test_the_emulator_raises_what_the_binding_raises(noop_env, tmp_path, memcpy_xclbin):
    sys.path.insert(0, str(Path(__file__).parent))
    import real_pyxrt_checks
    from harness.runtime import emulator
    real = _check(noop_env, tmp_path, "calls")
    emu = real_pyxrt_checks.call_outcomes(emulator, str(memcpy_xclbin))
    assert emu == real
    # the cases that matter, spelled out
    assert real["set_arg u32 2**31 unencoded"] == "TypeError" and real["set_arg float"] == "TypeError"
    assert real["set_arg -1 (2**32-1 encoded)"] == "ok" and real["wait beyond unsigned 32-bit"] == "TypeError"
    assert real["kernel call with 2**31"] == "run"     # kernel.__call__ swallows the bad argument
    # the spelling the transfer bench's syncs use (XRT 2023.1: sync(dir, size, offset))
    assert real["sync to device with size and offset"] == real["sync from device with size and offset"] == "ok"


def test_scalars_reach_the_binding_as_it_takes_them():
    """What Session.run passes for every unsigned 32-bit value the binding would refuse unencoded."""
    from harness.runtime.session import encode_u32
    assert [encode_u32(v) for v in (0, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1)] == [0, 2 ** 31 - 1, -2 ** 31, -1]
    assert all(-2 ** 31 <= encode_u32(v) <= 2 ** 31 - 1 for v in range(0, 2 ** 32, 2 ** 27 - 1))
    for bad in (-1, 2 ** 32, 1.0, True):
        with pytest.raises(ValueError):
            encode_u32(bad)


def test_the_no_op_device_is_never_a_card(noop_env, tmp_path):
    out = _check(noop_env, tmp_path, "noop_refused")
    assert out["auto_mode"] == "emu" and out["auto_timing"] == "model"
    assert "no-op device" in out["announced"][0]
    assert "no-op device" in out["hw"] and "unset XCL_EMULATION_MODE" in out["hw"]
    # and through the command line: exit 2, one line, nothing recorded
    runs = tmp_path / "runs"
    res = subprocess.run([sys.executable, "-m", "harness", "bench", "memcpy", "--mode", "hw", "--sizes", "4K",
                          "--pcs", "1", "--out", str(runs)], capture_output=True, text=True, env=noop_env,
                         timeout=300, cwd=tmp_path)
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1 and "no-op" in res.stderr
    assert not runs.exists() or not any(runs.iterdir())
