"""Designs that place: m_axi bursts the model says saturate a PC, CUs in named SLRs, and a static
per-SLR budget (LUT, BRAM18, URAM, DSP, m_axi adapter buffers included) every design meets."""
from __future__ import annotations

import re

import pytest

from harness import REPO_ROOT, model
from harness.designs import all_designs, load_design, parse_cfg
from harness.designs import budget

TARGETS = ["hw", "hw_emu"]


@pytest.mark.parametrize("target", TARGETS)
def test_every_design_fits_every_slr_it_uses(target):
    for d in all_designs(target):
        assert budget.check(d) == [], budget.table(d)


def test_the_per_slr_figures_are_platform_data_with_their_source():
    slrs = {s.name: s for s in budget.platform_slrs("u280")}
    assert set(slrs) == {"SLR0", "SLR1", "SLR2"}
    assert slrs["SLR0"].available == {"lut": 369000, "bram18": 1014, "uram": 320, "dsp": 2733}
    assert sum(s.available["dsp"] for s in slrs.values()) == 8490      # UG1120: DSPs left to kernels
    assert "UG1120" in slrs["SLR0"].detail


def test_an_oversized_design_is_stopped_with_the_numbers():
    d = load_design("memcpy")
    k = d.kernels["bw_memcpy"]
    k.m_axi = {"burst": 64, "outstanding": 32}          # the old 64-beat x 32 choice: 2,048-deep FIFOs
    problems = budget.check(d)
    assert problems and "SLR0 needs 1,920 BRAM18 but 1,014 are left to kernels there" in problems[0]
    k.m_axi = {"burst": 16, "outstanding": 16}
    assert budget.check(d) == []
    k.slr = ["SLR3"] * k.cus
    assert "SLR3 is not an SLR of u280" in budget.check(d)[0]


def test_adapter_buffers_follow_burst_outstanding_and_width():
    assert budget.adapter(512, 16, 16)["bram18"] == 15          # 256 x 512 bit: 15 x 512x36 blocks
    assert budget.adapter(512, 64, 32)["bram18"] == 60          # 2,048 deep: 4 blocks deep
    assert budget.adapter(256, 64, 32)["bram18"] == 32
    assert budget.adapter(512, 4, 4)["bram18"] == 0             # shallow: LUTRAM


def test_budget_command_exits_2_when_a_design_does_not_fit(monkeypatch, capsys):
    real = budget.check
    monkeypatch.setattr(budget, "check", lambda d, platform="u280": real(d) + ["memcpy: made not to fit"])
    assert budget.main(["hw", "memcpy"]) == 2
    err = capsys.readouterr().err
    assert "made not to fit" in err and "does not fit" in err
    monkeypatch.setattr(budget, "check", real)
    assert budget.main(["hw", "memcpy"]) == 0


@pytest.mark.parametrize("direction", ["read", "write", "copy"])
def test_memcpy_bursts_saturate_a_pc_by_the_model(direction):
    """The design's burst x outstanding leave the PC, not Little's law, as the limit, with room to spare."""
    p = load_design("memcpy").all_params("bw_memcpy")
    ports = 2 if direction == "copy" else 1
    pred = model.predict_memcpy("u280", memory="hbm", ports=ports, direction=direction, width_bits=512,
                                clock_mhz=300, burst=p["MEMCPY_BURST"], outstanding=p["MEMCPY_OUTSTANDING"],
                                bytes=256 << 20)
    little = [v for k, v in pred.limits.items() if k.startswith("Little")]
    assert pred.limit not in ("Little's law, reads", "Little's law, writes")
    assert min(little) >= 2 * pred.steady_GBps              # twice what the PCs take
    # and they are no larger than needed: half the outstanding requests still saturate
    half = model.predict_memcpy("u280", memory="hbm", ports=ports, direction=direction, width_bits=512,
                                clock_mhz=300, burst=p["MEMCPY_BURST"], outstanding=p["MEMCPY_OUTSTANDING"] // 2,
                                bytes=256 << 20)
    assert half.steady_GBps == pytest.approx(pred.steady_GBps)


@pytest.mark.parametrize("target", TARGETS)
def test_every_cu_has_its_slr_in_the_cfg(target):
    for d in all_designs(target):
        text = d.cfg_text()
        slr = dict(re.findall(r"^slr=(\S+):(SLR\d)$", text, re.M))
        assert set(slr) == set(parse_cfg(text)), f"{d.name}: every CU placed"
        for k in d.kernels.values():
            assert [slr[cu] for cu in k.cu_names()] == k.slr
    # memcpy: every CU beside the HBM it drives
    assert set(load_design("memcpy").kernels["bw_memcpy"].slr) == {"SLR0"}


def test_the_emulation_variant_is_small():
    hw, emu = load_design("memcpy"), load_design("memcpy", target="hw_emu")
    assert hw.kernels["bw_memcpy"].cus == 16 and emu.kernels["bw_memcpy"].cus == 2
    assert emu.target == "emulation" and emu.to_context()["variant"] == "emulation"
    assert load_design("memcpy", target="emu").kernels["bw_memcpy"].cus == 16   # the emulator models the card
    g = load_design("gemm_int8", target="hw_emu")
    assert g.all_params("gemm")["GEMM_ROWS"] == 2 and g.all_params("gemm")["GEMM_TILE_M"] == 4
    assert g.kernels["gemm"].cus == 1 and load_design("flops_fp32", target="hw_emu").kernels["flops"].cus == 1


@pytest.mark.parametrize("design", ["memcpy", "gemm_fp32"])
def test_the_budget_counts_the_bursts_and_channels_the_pragmas_ask_for(design):
    """The budget's m_axi figures are the parameters the kernels' INTERFACE pragmas use (one source),
    and each port's `dir` names the channels its pragma configures."""
    try:
        import tomllib
    except ModuleNotFoundError:
        import tomli as tomllib
    d = load_design(design)
    raw = tomllib.loads((REPO_ROOT / "kernels" / "designs" / f"{d.base}.toml").read_text())
    for k in d.kernels.values():
        ptrs = [a for a in k.args if a.kind == "ptr"]
        if not ptrs:
            continue
        names = raw["kernels"][k.name]["m_axi"]
        text = (REPO_ROOT / "kernels" / k.source).read_text()
        for a in ptrs:
            pragma = re.search(rf"INTERFACE m_axi port={a.name}\b[^)\n]*", text).group(0)
            assert f"_burst_length={names['burst']}" in pragma and f"_outstanding={names['outstanding']}" in pragma
            reads, writes = "max_read_burst_length" in pragma, "max_write_burst_length" in pragma
            if a.dir == "read":
                assert reads
            elif a.dir == "write":
                assert writes
        assert k.m_axi == {"burst": d.all_params(k.name)[names["burst"]],
                           "outstanding": d.all_params(k.name)[names["outstanding"]]}
