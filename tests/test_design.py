"""Design files are the one source of build facts: flags, connectivity, context."""
from __future__ import annotations

import pytest

import harness.designs.files as design_mod
from harness.designs import load_design, parse_bank, parse_cfg
from harness.errors import UserError


def test_memcpy_cfg_connects_every_cu_to_its_own_switch_ports_and_every_pc():
    d = load_design("memcpy")
    conn = parse_cfg(d.cfg_text())
    k = d.kernels["bw_memcpy"]
    cus = [c for c in conn if c.startswith("bw_memcpy_")]
    assert len(cus) == k.cus
    homes = [parse_bank(b).home for c in cus for b in conn[c].values()]
    assert len(homes) == len(set(homes)), "no switch port may be shared between memcpy ports"
    for i in range(k.cus):
        assert conn[f"bw_memcpy_{i + 1}"] == {"in": f"HBM[0:31].{2 * i}", "out": f"HBM[0:31].{2 * i + 1}"}
        assert parse_bank(conn[f"bw_memcpy_{i + 1}"]["in"]).tags == [f"HBM[{p}]" for p in range(32)]


def _one_port_design(bank: str) -> str:
    """Design file "x": one kernel k, one CU, one pointer argument a connected to `bank`."""
    return f"""name = "x"
[kernels.k]
source = "k.cpp"
cus = 1
args = [{{ name = "a", kind = "ptr", bank = "{bank}" }}]
"""


@pytest.mark.parametrize("text", ["HBM[3]", "HBM[0:31]", "HBM[0:31].4", "HBM[4:7].5", "DDR[1]"])
def test_connectivity_round_trips_from_the_design_file_through_the_cfg(tmp_path, monkeypatch, text):
    monkeypatch.setattr(design_mod, "DESIGNS_DIR", _write(tmp_path, _one_port_design(text)))
    d = load_design("x")
    assert f"sp=k_1.a:{text}\n" in d.cfg_text()
    got = parse_cfg(d.cfg_text())["k_1"]["a"]
    assert got == text and str(parse_bank(got)) == text
    assert parse_bank(got) == d.kernels["k"].args[0].reach_for(0)


@pytest.mark.parametrize("text, why", [
    ("HBM[31:0]", "low:high"), ("HBM[0:32]", "not have \\(HBM\\[32\\]"), ("HBM[0:31].32", "not have \\(HBM\\[32\\]"),
    ("DDR[0:1].1", "only HBM"), ("HBM[0-31]", "not like"), ("HBM[0:31].", "not like")])
def test_a_bad_range_is_a_clear_error(tmp_path, monkeypatch, text, why):
    monkeypatch.setattr(design_mod, "DESIGNS_DIR", _write(tmp_path, _one_port_design(text)))
    with pytest.raises(UserError, match=why) as exc:
        load_design("x")
    assert "k_1.a" in str(exc.value) and "\n" not in str(exc.value)
    if "not have" in why:
        return                                      # well formed: only the platform lacks that PC
    with pytest.raises(ValueError, match="sp="):       # the cfg parser refuses a malformed one as well
        parse_cfg(f"[connectivity]\nnk=k:1:k_1\nsp=k_1.a:{text}\n")


def test_ranges_may_overlap_but_two_masters_on_one_switch_port_must_be_asked_for(tmp_path, monkeypatch):
    src = """name = "x"
[kernels.k]
source = "k.cpp"
cus = 2
args = [{ name = "a", kind = "ptr", bank = "HBM[0:31].{cu}" }, { name = "b", kind = "ptr", bank = "HBM[0:31].{cu+1}" }]
"""
    monkeypatch.setattr(design_mod, "DESIGNS_DIR", _write(tmp_path, src))
    with pytest.raises(UserError, match="HBM\\[1\\] is shared"):
        load_design("x")
    (tmp_path / "x.toml").write_text(src.replace("{cu+1}", "{cu+2}"))
    load_design("x")


def test_define_flags_carry_the_design_parameters():
    d = load_design("gemm", dtype="int8")
    flags = d.define_flags("gemm")
    assert "-DGEMM_DTYPE_ID=3" in flags
    assert any(f.startswith("-DGEMM_ROWS=") for f in flags) and any(f.startswith("-DGEMM_COLS=") for f in flags)
    assert d.name == "gemm_int8"
    assert load_design("gemm_int8").all_params() == d.all_params()


def test_context_records_banks_per_cu():
    ctx = load_design("memcpy").to_context()
    assert ctx["kernels"]["bw_memcpy"]["args"]["out"][3] == "HBM[0:31].7"
    assert ctx["params"]["MEMCPY_BURST"] > 0


def _write(tmp_path, text):
    (tmp_path / "x.toml").write_text(text)
    return tmp_path


def test_cu_count_is_one_edit(tmp_path, monkeypatch):
    text = (design_mod.DESIGNS_DIR / "memcpy.toml").read_text().replace("cus = 16", "cus = 4")
    monkeypatch.setattr(design_mod, "DESIGNS_DIR", _write(tmp_path, text))
    d = load_design("x")
    conn = parse_cfg(d.cfg_text())
    assert sorted(c for c in conn if c.startswith("bw_memcpy")) == [f"bw_memcpy_{i}" for i in range(1, 5)]
    assert "nk=bw_memcpy:4:" in d.cfg_text()


def test_shared_pc_refused_unless_asked(tmp_path, monkeypatch):
    text = """name = "x"
[kernels.k]
source = "k.cpp"
cus = 2
args = [{ name = "a", kind = "ptr", bank = "HBM[0]" }]
"""
    monkeypatch.setattr(design_mod, "DESIGNS_DIR", _write(tmp_path, text))
    with pytest.raises(UserError, match="shared"):
        load_design("x")
    (tmp_path / "x.toml").write_text(text.replace('bank = "HBM[0]"', 'bank = "HBM[0]", shared = true'))
    load_design("x")


def test_bank_must_exist_on_the_platform():
    from harness.model import load_platform
    tags = {m.tag for m in load_platform("u280").memories}
    for d in design_mod.all_designs():
        d.validate(tags)
    with pytest.raises(UserError, match="HBM\\[32\\]"):
        d = load_design("memcpy")
        d.kernels["bw_memcpy"].cus = 21
        d.kernels["bw_memcpy"].slr = ["SLR0"] * 21
        d.validate(tags)


def test_unknown_design_and_dtype_are_user_errors():
    with pytest.raises(UserError, match="no design"):
        load_design("nope")
    with pytest.raises(UserError, match="not built"):
        load_design("gemm", dtype="fp64")


def test_parse_cfg_rejects_sp_for_undeclared_cu():
    with pytest.raises(ValueError):
        parse_cfg("[connectivity]\nnk=k:1:k_1\nsp=k_2.a:HBM[0]\n")


def test_element_sizes_agree_between_the_model_and_the_host_types():
    """The model's bytes per element and the numpy types the benches allocate are the same facts."""
    import numpy as np
    from harness.bench import reference
    from harness.model.platform import dtype_figure
    for dtype in load_design("gemm", dtype="fp32").variants:
        assert dtype_figure(dtype, "out_bytes").value == np.dtype(reference.OUT_TYPES[dtype]).itemsize
        assert dtype_figure(dtype, "elem_bytes").value == np.dtype(reference.ELEM_TYPES[dtype]).itemsize

