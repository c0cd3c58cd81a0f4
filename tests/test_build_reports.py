"""`make report`: the build reports parsed and flagged (fixtures in the tools' formats), and the
Vitis release check `make xclbin` runs first."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from harness.designs import load_design
from harness.designs import reports, toolchain
from harness.model import load_platform

FIX = Path(__file__).parent / "fixtures" / "vitis_reports"
sys.path.insert(0, str(Path(__file__).parent))
import xclbin_image  # noqa: E402


def test_a_clean_synthesis_report_raises_no_flag():
    rep = reports.parse_csynth((FIX / "bw_memcpy" / "csynth.rpt").read_text())
    assert rep.top == "bw_memcpy" and rep.version.startswith("2023.1")
    assert [(lp.name, lp.ii, lp.pipelined) for lp in rep.loops] == [("REPS", None, False), ("WORDS", 1, True)]
    assert [p.interface for p in rep.maxi] == ["m_axi_gmem0", "m_axi_gmem1"]
    assert rep.maxi[0].max_read_burst == "16" and rep.maxi[0].read_outstanding == "16"
    assert {(b["interface"], b["direction"], b["width"]) for b in rep.bursts} == \
        {("m_axi_gmem0", "read", 512), ("m_axi_gmem1", "write", 512)}
    assert rep.resources["BRAM"] == "30"
    assert reports.hls_flags(rep, 512) == []


def test_ii_above_1_ports_without_bursts_and_narrow_bursts_are_flagged():
    rep = reports.parse_csynth((FIX / "gemm" / "csynth.rpt").read_text())
    flags = reports.hls_flags(rep, 512)
    assert any("loop MAC is pipelined at II=2" in f for f in flags)
    assert any("m_axi_gmem2 has no burst (Stride is incompatible)" in f for f in flags)
    assert any("m_axi_gmem3 bursts are 32 bits wide" in f for f in flags)
    assert not any("LOAD_A" in f or "gmem0" in f or "gmem1" in f for f in flags)
    assert len(flags) == 3


def test_resources_per_slr_from_the_routed_utilization_report():
    per = reports.parse_slr_utilization((FIX / "link" / "imp" / "impl_1_full_util_routed.rpt").read_text())
    assert per["SLR0"] == {"LUT": 171233, "BRAM_tile": 492.5, "URAM": 0, "DSP": 1884}
    assert per["SLR2"]["DSP"] == 0 and set(per) == {"SLR0", "SLR1", "SLR2"}


def _xclbin_with_clock(tmp_path, design, mhz):
    path = tmp_path / f"{design.name}.xclbin"
    return xclbin_image.write(path, design, load_platform("u280"), data_clock_mhz=mhz)


def test_the_achieved_clock_comes_from_the_xclbin_and_a_lower_one_is_flagged(tmp_path):
    d = load_design("memcpy")
    path = _xclbin_with_clock(tmp_path, d, 236)
    clocks = reports.xclbin_clocks(path.read_bytes())
    assert {c["name"]: (c["type"], c["freq_mhz"]) for c in clocks} == {"DATA_CLK": ("DATA", 236),
                                                                         "KERNEL_CLK": ("KERNEL", 500)}
    assert "achieved 236 MHz" in reports.clock_flags(clocks, 300)[0]
    assert reports.clock_flags(reports.xclbin_clocks(_xclbin_with_clock(tmp_path, d, 300).read_bytes()), 300) == []


def test_a_build_is_reported_from_its_directories(tmp_path):
    """The layout v++ leaves: build/<target>.<platform>/<design>.xclbin and the temp dir's reports."""
    d = load_design("gemm_fp32")
    temp, build = tmp_path / "_x" / d.name, tmp_path / "hw"
    for k in ("gemm",):
        dst = temp / k / k / "solution" / "syn" / "report"
        dst.mkdir(parents=True)
        shutil.copy(FIX / k / "csynth.rpt", dst / "csynth.rpt")
    (temp / "reports" / "link" / "imp").mkdir(parents=True)
    shutil.copy(FIX / "link" / "imp" / "impl_1_full_util_routed.rpt", temp / "reports" / "link" / "imp")
    build.mkdir()
    _xclbin_with_clock(build, d, 250)
    lines, flags = reports.report(d, build, temp)
    text = "\n".join(lines)
    assert "loop MAC: II 2 (pipelined)" in text and "SLR0: LUT 171,233" in text and "DATA_CLK (DATA) 250 MHz" in text
    assert any("II=2" in f for f in flags) and any("achieved 250 MHz" in f for f in flags)
    assert any("no synthesis report for bias_gelu, nop" in f for f in flags)


def test_report_without_a_build_says_what_to_run(capsys):
    assert reports.main(["hw", "xilinx_u280_nonexistent_1_202211_1", "memcpy"]) == 2
    err = capsys.readouterr().err
    assert "make xclbin TARGET=hw DESIGN=memcpy PLATFORM=xilinx_u280_nonexistent_1_202211_1" in err


@pytest.mark.parametrize("text, target, error, warning", [
    ("v++ v2023.1 (64-bit)\nSW Build 3854077 on 2023-05-04-06:32:48", "hw", None, None),
    ("v++ v2023.2 (64-bit)", "hw_emu", None, None),
    ("v++ v2024.1 (64-bit)", "hw", "not supported by Vivado/Vitis 2024.1", None),
    ("v++ v2025.1 (64-bit)", "sw_emu", "cannot build for the U280", None),
    ("v++ v2022.2 (64-bit)", "sw_emu", None, None),
])
def test_the_vitis_release_decides_what_can_be_built(text, target, error, warning):
    err, warn = toolchain.check(text, target, "xilinx_u280_gen3x16_xdma_1_202211_1")
    assert (err is None) == (error is None) and (error is None or error in err)
    assert warn == warning


def test_sw_emu_on_a_release_that_deprecates_or_removed_it():
    # (on a non-U280 platform, so the U280 cut-off does not speak first)
    assert "deprecated" in toolchain.check("v++ v2024.2", "sw_emu", "xilinx_u55c_gen3x16_xdma_3_202210_1")[1]
    assert "no sw_emu" in toolchain.check("v++ v2025.1", "sw_emu", "xilinx_u55c_gen3x16_xdma_3_202210_1")[0]
    assert toolchain.parse_release("garbage") is None
