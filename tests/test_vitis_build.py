"""The Vitis flow, checked without Vitis: `make -n xclbin` and the generated .cfg files."""
from __future__ import annotations

import re
import shlex
import subprocess

import pytest

from harness import REPO_ROOT
from harness.designs import all_designs, load_design, parse_bank, parse_cfg

PLATFORM = "xilinx_u280_gen3x16_xdma_1_202211_1"


def _make(*args, env_extra=None):
    import os
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run(["make", "--no-print-directory", "-C", str(REPO_ROOT), *args],
                          capture_output=True, text=True, env=env, timeout=60)


def _vpp_lines(out: str, flag: str):
    return [shlex.split(line) for line in out.splitlines() if line.startswith("v++ ") and f" {flag} " in line]


@pytest.mark.parametrize("target", ["hw", "hw_emu"])
def test_make_n_xclbin_compiles_each_kernel_and_links_with_the_generated_cfg(target):
    res = _make("-n", "xclbin", f"TARGET={target}", "DESIGN=all")
    assert res.returncode == 0, res.stderr
    out = res.stdout
    outdir = f"build/{target}.{PLATFORM}"
    for d in all_designs(target):
        compiles = [c for c in _vpp_lines(out, "-c") if f"{d.name}/" in " ".join(c)]
        assert sorted(c[c.index("-k") + 1] for c in compiles) == sorted(d.kernels)
        for c in compiles:
            assert c[c.index("-t") + 1] == target and c[c.index("--platform") + 1] == PLATFORM
            kernel = c[c.index("-k") + 1]
            for flag in d.define_flags(kernel):
                assert flag in c, f"{flag} missing from the v++ -c of {kernel}"
            assert ("-g" in c) == (target != "hw")
            assert c[c.index("--hls.clock") + 1] == f"{int(d.freq_mhz * 1e6)}:{kernel}"
        link = [c for c in _vpp_lines(out, "-l") if f"{d.name}.link.xclbin" in " ".join(c)]
        assert len(link) == 1
        link = link[0]
        assert link[link.index("--config") + 1] == f"{outdir}/{d.name}.cfg"
        assert link[link.index("--kernel_frequency") + 1] == f"{d.freq_mhz:g}"
        assert sum(a.endswith(".xo") for a in link) == len(d.kernels)
        assert any(l.startswith("v++ -p") and f"{outdir}/{d.name}.xclbin" in l for l in out.splitlines())
        assert f"harness.designs cfg {d.name} {target} > {outdir}/{d.name}.cfg" in out


def test_freq_and_platform_variables_reach_v_plus_plus():
    res = _make("-n", "xclbin", "TARGET=hw", "DESIGN=memcpy", "FREQ_MHZ=250",
                "PLATFORM=/opt/xilinx/platforms/xilinx_u280_xdma_201920_3/xilinx_u280_xdma_201920_3.xpfm")
    assert res.returncode == 0, res.stderr
    assert "--kernel_frequency 250" in res.stdout and "--hls.clock 250000000:bw_memcpy" in res.stdout
    assert "build/hw.xilinx_u280_xdma_201920_3/memcpy.xclbin" in res.stdout


def test_guards_stop_at_once_with_the_remedy():
    res = _make("xclbin", "TARGET=hw", "DESIGN=memcpy", env_extra={"PATH": "/usr/bin:/bin", "XILINX_VITIS": "",
                                                                 "XILINX_XRT": ""})
    assert res.returncode != 0
    assert "settings64.sh" in res.stderr
    res = _make("xclbin", "TARGET=bogus", "DESIGN=memcpy")
    assert res.returncode != 0 and "hw, hw_emu or sw_emu" in res.stderr


def test_make_help_lists_every_target_and_variable():
    out = _make("help").stdout
    for word in ("demo", "test", "emu", "xclbin", "emconfig", "clean", "TARGET", "PLATFORM", "FREQ_MHZ", "DESIGN"):
        assert word in out


@pytest.mark.parametrize("design", [d.name for d in all_designs()])
def test_generated_cfg_names_real_cus_ports_and_banks(design):
    from harness.model import load_platform
    d = load_design(design)
    tags = {m.tag for m in load_platform("u280").memories}
    conn = parse_cfg(d.cfg_text())
    ports = {k: {a.name for a in kern.args if a.kind == "ptr"} for k, kern in d.kernels.items()}
    users: dict[str, list[str]] = {}
    for cu, sp in conn.items():
        kernel = cu.rsplit("_", 1)[0]
        assert kernel in d.kernels and cu in d.kernels[kernel].cu_names()
        assert set(sp) == ports[kernel], f"{cu}: every memory port is connected"
        for port, bank in sp.items():
            reach = parse_bank(bank)
            assert set(reach.tags) <= tags and reach.home in tags | {None}, f"{cu}.{port} -> {bank} not on the U280"
            # a port is owned by its switch port's PC (a range reaches the others without owning them)
            users.setdefault(reach.home or bank, []).append(f"{cu}.{port}")
    shared_ok = {f"{cu}.{a.name}" for k in d.kernels.values() for cu in k.cu_names() for a in k.args if a.shared}
    for bank, who in users.items():
        assert len(who) == 1 or all(w in shared_ok for w in who[1:]), f"{bank} shared by {who}"
    assert re.search(r"^\[connectivity\]$", d.cfg_text(), re.M)


@pytest.mark.parametrize("target", ["hw", "hw_emu"])
def test_make_n_prints_the_release_and_budget_checks_and_profiles_only_hw_emu(target):
    out = _make("-n", "xclbin", f"TARGET={target}", "DESIGN=memcpy").stdout
    lines = out.splitlines()
    toolchain = next(i for i, l in enumerate(lines) if "harness.designs toolchain" in l)
    budget = next(i for i, l in enumerate(lines) if "harness.designs budget" in l)
    first_vpp = next(i for i, l in enumerate(lines) if l.startswith("v++ "))
    assert toolchain < first_vpp and budget < first_vpp
    assert f"toolchain {target} v++ {PLATFORM}" in lines[toolchain] and f"budget {target} memcpy" in lines[budget]
    link = next(l for l in lines if l.startswith("v++ -l"))
    assert ("--profile.data all:all:all" in link) == (target == "hw_emu")


def test_an_unknown_design_lists_the_valid_names():
    res = _make("xclbin", "DESIGN=memcopy")
    assert res.returncode == 2
    assert "DESIGN=memcopy is not a design" in res.stderr
    for d in all_designs():
        assert d.name in res.stderr


def test_a_vitis_release_without_the_u280_stops_before_any_compile(tmp_path):
    vpp = tmp_path / "v++"
    vpp.write_text("#!/bin/sh\necho 'v++ v2024.1 (64-bit)'\necho 'SW Build 5076996'\n"
                   "[ \"$1\" = --version ] || { echo COMPILED >&2; exit 1; }\n")
    vpp.chmod(0o755)
    res = _make("xclbin", "TARGET=hw", "DESIGN=memcpy", f"VPP={vpp}",
                env_extra={"XILINX_VITIS": str(tmp_path), "XILINX_XRT": str(tmp_path)})
    assert res.returncode != 0
    assert "U280 devices are not supported by Vivado/Vitis 2024.1" in res.stderr
    assert "COMPILED" not in res.stderr


def test_make_emu_checks_every_designs_budget_first():
    lines = _make("-n", "emu").stdout.splitlines()
    budget = next(i for i, l in enumerate(lines) if "harness.designs budget hw" in l)
    native = next(i for i, l in enumerate(lines) if "harness.designs.native" in l)
    assert budget < native
