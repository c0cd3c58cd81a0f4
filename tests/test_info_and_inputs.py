"""`harness info`, `harness predict` and `harness workload` inputs, and the demo path."""
from __future__ import annotations

import json

import pytest

from harness.cli import main


def test_info_reports_connectivity_from_the_loaded_xclbin(capsys, memcpy_xclbin):
    assert main(["info", "--mode", "emu", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["connectivity"]["bw_memcpy_4"] == {"in": "HBM[0:31].6", "out": "HBM[0:31].7"}
    assert info["device"]["xclbin"]["uuid"]
    assert any(m["tag"] == "DDR[1]" for m in info["device"]["xclbin"]["memories"])


def test_info_connectivity_follows_the_xclbin_not_the_design_file(capsys, memcpy_xclbin, tmp_path):
    # an xclbin whose cfg connects CU 1 differently: info must show what the xclbin says
    desc = json.loads(memcpy_xclbin.read_text())
    cfg = (memcpy_xclbin.parent / desc["cfg"]).read_text().replace("sp=bw_memcpy_1.in:HBM[0:31].0",
                                                                      "sp=bw_memcpy_1.in:HBM[9]")
    (tmp_path / desc["cfg"]).write_text(cfg)
    desc["library"] = str(memcpy_xclbin.parent / desc["library"])
    other = tmp_path / "other.emu.xclbin"
    other.write_text(json.dumps(desc))
    with pytest.raises(SystemExit) as exc:
        raise SystemExit(main(["info", "--mode", "emu", "--xclbin", str(other), "--json"]))
    assert exc.value.code == 0
    assert json.loads(capsys.readouterr().out)["connectivity"]["bw_memcpy_1"]["in"] == "HBM[9]"


def test_info_without_an_xclbin_still_describes_the_device(capsys, monkeypatch, tmp_path):
    import harness.runtime as rtmod
    monkeypatch.setattr(rtmod.Runtime, "default_xclbin", lambda self, design: tmp_path / "missing.xclbin")
    assert main(["info", "--mode", "emu"]) == 0
    out = capsys.readouterr().out
    assert "harness-emulated-u280" in out and "none loaded" in out and "make emu" in out


@pytest.mark.parametrize("argv,needle", [
    (["predict", "gemm", "--shape", "5000000000x1x1"], "32-bit"),
    (["predict", "gemm", "--shape", "4x4x4", "--tile-m", "100000"], "4096"),
    (["predict", "gemm", "--shape", "4x4x4", "--port-bandwidth", "1e9"], "at most"),
    (["predict", "memcpy", "--ports", "1000"], "32 AXI ports"),
    (["predict", "--calibration", "memcpy"], "alone"),
    (["workload", "smolvla", "--steps", "0"], "--steps"),
    (["workload", "smolvla", "--vlm-layers", "33"], "32 layers"),
    (["info", "--mode", "emu", "--design", "gemm"], "gemm_fp32"),
])
def test_impossible_inputs_are_refused_in_one_line(capsys, argv, needle):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err and "Traceback" not in err


def test_predict_memcpy_defaults_come_from_the_design_file(capsys):
    from harness.designs import load_design
    assert main(["predict", "memcpy", "--json"]) == 0
    inputs = json.loads(capsys.readouterr().out)["inputs"]
    params = load_design("memcpy").all_params("bw_memcpy")
    assert (inputs["burst"], inputs["outstanding"]) == (params["MEMCPY_BURST"], params["MEMCPY_OUTSTANDING"])


@pytest.mark.slow
def test_demo_path_produces_verified_runs_a_plot_and_a_report(tmp_path, monkeypatch, capsys):
    import harness.commands.demo as demo
    from harness.results.reader import load_run
    monkeypatch.setattr(demo, "RUNS_DIR", tmp_path)
    from harness.cli import main
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    (demo_dir,) = tmp_path.iterdir()
    runs = [load_run(p) for p in sorted(demo_dir.iterdir()) if (p / "context.json").is_file()]
    assert sorted(r.bench for r in runs) == ["gemm", "latency", "memcpy", "memcpy", "transfer"]
    assert all(r.timing_source == "model" and r.summary["verified"].all() for r in runs)
    report = demo_dir / "roofline"
    for name in ("roofline.png", "roofline.svg", "report.md", "report.html", "roofline.json", "ops.csv"):
        assert (report / name).stat().st_size > 0
    assert "EMULATED" in out and str(report / "roofline.png") in out
    text = (report / "report.md").read_text()
    assert "460" in text and "spec" in text and "emulated (model)" in text
    assert "measured:" not in text.replace("emulated", "")   # nothing emulated is called measured
    # the per-inference host transfers come from the demo's transfer run, labelled as emulated
    transfer = next(r for r in runs if r.bench == "transfer")
    assert f"emulated (model), run {transfer.run_id}" in out
