"""`harness roofline` on frozen run directories (tests/fixtures/runs), headless."""
from __future__ import annotations

import csv
import json
import pathlib
import re
import shutil

import pandas as pd
import pytest

FIX = pathlib.Path(__file__).parent / "fixtures" / "runs"
HW_MEMCPY = "20250101T000000Z-hw-memcpy"
EMU_MEMCPY = "20250101T010000Z-emu-memcpy"
HW_GEMM = "20250101T020000Z-hw-gemm"
HW_LATENCY = "20250101T030000Z-hw-latency"
FAILED = "20250101T040000Z-hw-memcpy"
INCOMPLETE = "20250101T050000Z-hw-gemm"
EMU_GEMM16 = "20250101T060000Z-emu-gemm"
EMU_GEMM = "20250101T070000Z-emu-gemm"          # fp32, emulated, fused/unfused pair
EMU_LATENCY = "20250101T080000Z-emu-latency"
SET_VALUES = {"spec", "measured", "emulated", "runs", "achieved"}


@pytest.fixture()
def runs(tmp_path):
    dst = tmp_path / "runs"
    shutil.copytree(FIX, dst)
    return dst


def summary(run: str) -> list[dict]:
    with open(FIX / run / "summary.csv") as f:
        return list(csv.DictReader(f))


def verified(run: str) -> list[dict]:
    return [r for r in summary(run) if r["verified"] == "True"]


def roofline(argv) -> int:
    """Run the command through the real CLI entry point (harness.cli.main): its exit code,
    2 for a UserError (one line on stderr) or an argparse error (SystemExit)."""
    from harness.cli import main
    try:
        return main(["roofline", *map(str, argv)])
    except SystemExit as exc:
        return int(exc.code or 0)


def load(paths):
    from harness.results.reader import load_runs
    return load_runs([FIX / p for p in paths])


def analyze(paths, workload="smolvla", **kw):
    from harness.roofline import analyze as an
    return an(load(paths), workload, **kw)


def fake_run(bench, run_id, rows, timing="measured", dtype="fp32"):
    """A run held in memory (a bench this checkout may not have yet, e.g. `flops`)."""
    from harness.results.reader import Run
    ctx = {"run_id": run_id, "bench": bench, "timing_source": timing, "mode": "hw" if timing == "measured" else "emu",
           "dtype": dtype, "status": "complete", "platform": None}
    return Run(pathlib.Path("/nonexistent") / run_id, ctx, pd.DataFrame(), pd.DataFrame(rows))


def flops_run(best=1000.0, timing="measured", dtype="fp32", run_id="20250102T000000Z-hw-flops"):
    return fake_run("flops", run_id, [
        {"dtype": dtype, "flops_per_element": 1, "oi_FLOPpB": 0.25, "verified": True, "throughput_GFLOPps_best": 3.0},
        {"dtype": dtype, "flops_per_element": 4096, "oi_FLOPpB": 1024.0, "verified": True,
         "throughput_GFLOPps_best": best},
        {"dtype": dtype, "flops_per_element": 8192, "oi_FLOPpB": 2048.0, "verified": False,
         "throughput_GFLOPps_best": 9 * best}], timing, dtype)


def per_pc_read(run=HW_MEMCPY) -> float:
    return max(float(r["bandwidth_GBps_best"]) / float(r["pcs"]) for r in verified(run) if r["direction"] == "read")


# ---------- ceilings ------------------------------------------------------------------------------
def test_memcpy_run_alone(runs, tmp_path, capsys):
    run, out = runs / HW_MEMCPY, tmp_path / "o"
    assert roofline(["--results", run, "--out", out]) == 0
    data = json.loads((out / "roofline.json").read_text())
    assert (out / "roofline.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    by = {c["key"]: c for c in data["ceilings"]}
    assert by["memory.spec"]["value"] == 460 and by["memory.spec"]["source"] == "spec"
    best = max(float(r["bandwidth_GBps_best"]) for r in verified(HW_MEMCPY))
    assert by["memory.measured"]["value"] == pytest.approx(best) and by["memory.measured"]["run_id"] == HW_MEMCPY
    assert by["memory.pc.measured"]["value"] == pytest.approx(per_pc_read())
    assert any(c["kind"] == "compute" and c["source"] == "spec" for c in data["ceilings"])
    assert sorted(p.name for p in run.iterdir()) == ["context.json", "samples.csv", "summary.csv"]


def test_unverified_points_never_become_ceilings(runs, tmp_path):
    rows = summary(HW_MEMCPY)
    unverified = [float(r["bandwidth_GBps_best"]) for r in rows if r["verified"] != "True"]
    verified = [float(r["bandwidth_GBps_best"]) for r in rows if r["verified"] == "True"]
    # the fixture holds a tempting point: verified repetitions better than any other, one failed
    assert unverified and max(unverified) > max(verified)
    assert roofline(["--results", runs / HW_MEMCPY, "--out", tmp_path / "o"]) == 0
    data = json.loads((tmp_path / "o" / "roofline.json").read_text())
    assert all(c["value"] not in unverified for c in data["ceilings"])


def test_emulated_run_gives_model_ceiling_never_measured(runs, tmp_path):
    out = tmp_path / "o"
    assert roofline(["--results", runs / EMU_MEMCPY, "--out", out]) == 0
    data = json.loads((out / "roofline.json").read_text())
    from_run = [c for c in data["ceilings"] if c["run_id"] == EMU_MEMCPY]
    assert from_run and all(c["source"] == "model" and c["emulated"] for c in from_run)
    assert not any(c["source"] == "measured" for c in data["ceilings"])
    assert "emulated (model)" in (out / "roofline.svg").read_text()
    assert "emulated (model)" in (out / "report.md").read_text()


def test_spec_compute_is_the_dsps_available_to_kernels():
    from harness.roofline import platform as plat
    p = plat.load_platform("u280")
    # 8,490 DSPs available to kernels (of 9,024) x 300 MHz x 2 FLOP x MACs/DSP: 1 at 16 bits, 1/5 at fp32 (C3)
    for d, expect in (("fp32", 1018.8), ("fx16", 5094.0), ("int8", 5094.0)):
        f = plat.spec_compute(p, d)
        assert f.value == pytest.approx(expect) and f.unit == "GFLOP/s" and f.source == "spec"
        assert "9,024" in f.detail and "available to kernels" in f.detail
    assert plat.device_compute(p, "fx16").value == pytest.approx(5414.4)     # the seed's 9,024


def test_a_gemm_runs_best_is_never_a_compute_roof(runs, tmp_path):
    out = tmp_path / "o"
    assert roofline(["--results", runs / HW_MEMCPY, runs / HW_GEMM, "--workload", "smolvla", "--out", out]) == 0
    data = json.loads((out / "roofline.json").read_text())
    best = max(float(r["throughput_GFLOPps_best"]) for r in verified(HW_GEMM))
    assert not [c for c in data["ceilings"] if c["kind"] == "compute" and c["value"] == pytest.approx(best)]
    ms = data["ceiling_sets"]["measured"]
    roof = {c["key"]: c for c in data["ceilings"]}[ms["compute"]]
    # no flops run: the GEMM design's peak by the model, labelled as such, for the design that was run
    assert ms["compute"] == "compute.design.fp32" and roof["source"] == "model"
    from harness.roofline import platform as plat
    d = data["design"]
    want = plat.design_peak(plat.load_platform("u280"), dtype="fp32", params=d["params"], clock_mhz=d["clock_mhz"],
                            origin=d["origin"], cus=d["cus"].get("gemm", 1))
    assert roof["value"] == pytest.approx(want.value) and d["origin"] in roof["detail"]
    assert "design peak" in roof["name"].lower()
    if "GEMM_PE" in d["params"] and d["cus"].get("gemm", 1) == 1:      # one CU of GEMM_PE MACs
        assert roof["value"] == pytest.approx(d["params"]["GEMM_PE"] * 2 * d["clock_mhz"] / 1e3)


def test_a_flops_run_is_the_compute_roof_of_its_precision():
    from harness.roofline import analyze as an
    fl = flops_run(best=777.0)
    a = an(load([HW_MEMCPY, HW_GEMM]) + [fl], "smolvla")
    rs = a.ceilings.run_set
    assert rs.compute.key == "compute.measured.fp32" and rs.compute.value == 777.0       # unverified 6,993 ignored
    assert rs.compute.figure.run_id == fl.run_id and "flops" in rs.compute.figure.name
    assert a.ceilings.flops_curves and a.ceilings.flops_curves[0][2] == [(0.25, 3.0), (1024.0, 777.0)]
    gemm_rows = [r for r in a.rows_of("measured") if r["kind"] in ("gemm", "attention")]
    assert {r["compute_ceiling"] for r in gemm_rows} == {"compute.measured.fp32"}
    # an emulated flops run gives a model figure and an 'emulated' set
    b = an(load([EMU_MEMCPY]) + [flops_run(500.0, "model", run_id="20250102T000000Z-emu-flops")], "smolvla")
    assert b.ceilings.run_set.key == "emulated" and b.ceilings.run_set.compute.figure.tag == "emulated (model)"
    # a flops run of another element type is drawn, not the roof
    c = an(load([HW_MEMCPY, HW_GEMM]) + [flops_run(900.0, dtype="int8")], "smolvla")
    assert c.ceilings.run_set.compute.key == "compute.design.fp32"
    assert c.ceilings.get("compute.measured.int8") is not None


# ---------- per-port memory ---------------------------------------------------------------------------
def one_pc_per_port_gemm_run():
    """A gemm run whose design (this checkout's params) puts A, B, C and bias on one PC each, one CU."""
    from harness.designs import load_design
    ctx = load_design("gemm", dtype="fp32").to_context()
    g = ctx["kernels"]["gemm"]
    g["cus"] = 1
    g["args"] = {"A": ["HBM[0]"], "B": ["HBM[1]"], "C": ["HBM[2]"], "bias": ["HBM[3]"], "M": "u32", "K": "u32",
                 "N": "u32", "epilogue": "u32"}
    ctx["kernels"] = {"gemm": g}
    r = fake_run("gemm", "20250102T000000Z-hw-gemm", [{"dtype": "fp32", "M": 64, "K": 64, "N": 64, "epilogue": "none",
                                                      "path": "gemm", "verified": True, "time_s_median": 1e-4}])
    r.context.update({"design": ctx, "clock_mhz": ctx["freq_mhz"]})
    return r


def test_memory_time_is_the_busiest_port_not_the_sum_of_ports():
    from harness.roofline import analyze as an
    a = an(load([HW_MEMCPY]) + [one_pc_per_port_gemm_run(), flops_run(1000.0)], "smolvla")
    assert a.design.run_id == "20250102T000000Z-hw-gemm"
    row = next(r for r in a.rows_of("measured") if r["name"] == "expert.attn.q")     # 50 x 720 x 960
    M, K, N = 50, 720, 960
    t_b = K * N * 4 / (per_pc_read() * 1e9)         # the weights through port B, one PC
    t_c = 2 * M * K * N / 1000e9
    assert row["time_s"] == pytest.approx(max(t_b, t_c)) and t_b > t_c
    assert row["bound"] == "memory" and row["memory_bottleneck"] == "gemm.B (HBM[1])"
    # the old 'connectivity' ceiling (4 ports x one PC) would call it compute-bound: the mistake this avoids
    assert (M * K + K * N + M * N) * 4 / (4 * per_pc_read() * 1e9) < t_c
    spec = next(r for r in a.rows_of("spec") if r["name"] == "expert.attn.q")
    assert spec["bound"] == "compute"
    assert "expert.attn.q" in {x["name"] for x in a.changed}


def test_ports_sharing_a_pc_share_its_bandwidth():
    from harness.figures import Figure
    from harness.roofline.ports import PortModel
    f = Figure("pc", 10.0, "GB/s", "spec", "test")
    apart = PortModel({"gemm": {"A": ["HBM[0]"], "B": ["HBM[1]"], "C": ["HBM[2]"]}}, f, f, "test")
    shared = PortModel({"gemm": {"A": ["HBM[0]"], "B": ["HBM[0]"], "C": ["HBM[2]"]}}, f, f, "test")
    wide = PortModel({"gemm": {"A": ["HBM[0]"], "B": ["HBM[4:7]"], "C": ["HBM[2]"]}}, f, f, "test")
    streams = {"A": 10e9, "B": 30e9, "C": 5e9}
    assert apart.time("gemm", streams)[:2] == (pytest.approx(3.0), "gemm.B (HBM[1])")
    assert shared.time("gemm", streams)[0] == pytest.approx(4.0)          # A and B on one PC
    assert wide.time("gemm", streams)[0] == pytest.approx(1.0)            # A binds once B spreads over 4 PCs


# ---------- one byte convention -----------------------------------------------------------------------
def test_bytes_use_the_kernels_element_and_output_types(runs, tmp_path):
    out = tmp_path / "o"
    assert roofline(["--results", runs / EMU_GEMM16, "--workload", "smolvla", "--out", out]) == 0
    data = json.loads((out / "roofline.json").read_text())
    assert data["precision"]["element_type"] == "fp16"
    assert data["precision"]["element_bytes"] == 2 and data["precision"]["output_bytes"] == 4
    fc1 = next(p for p in data["points"] if p["name"] == "vision.mlp.fc1" and p["ceiling_set"] == "spec")
    M, K, N = 1024, 768, 3072
    assert (fc1["in_bytes"], fc1["weight_bytes"], fc1["out_bytes"]) == (M * K * 2, K * N * 2, M * N * 4)
    fus = next(f for f in data["fusion"] if f["name"] == "vision.mlp.fc1")
    assert fus["fused_bytes"] == (M * K + K * N + N) * 2 + M * N * 4
    bias = next(p for p in data["points"] if p["name"] == "vision.mlp.fc1.bias" and p["ceiling_set"] == "spec")
    assert bias["bytes"] == 2 * M * N * 4 + N * 2


# ---------- per-shape times -------------------------------------------------------------------------
def test_ops_covered_by_a_run_take_its_median_others_the_model():
    a = analyze([HW_MEMCPY, HW_GEMM, HW_LATENCY])
    ach = {r["name"]: r for r in a.rows_of("achieved")}
    launch = float(next(r for r in verified(HW_LATENCY) if r["kind"] == "dispatch")["time_s_median"])
    lat = next(r for r in verified(HW_LATENCY) if (r["M"], r["K"], r["N"]) == ("50", "720", "2048"))
    gate = ach["expert.mlp.gate"]                    # 50 x 720 x 2048, covered by the latency run
    assert gate["run_id"] == HW_LATENCY and gate["time_source"] == "measured"
    assert gate["time_s"] == pytest.approx(float(lat["time_s_median"]) - launch)
    assert gate["attained_GFLOPps"] == pytest.approx(2 * 50 * 720 * 2048 / gate["time_s"] / 1e9)
    shapes = {(int(r["M"]), int(r["K"]), int(r["N"])) for r in verified(HW_LATENCY) + verified(HW_GEMM)
              if r.get("kind", "gemm") == "gemm"}
    for r in ach.values():
        if r["run_id"]:
            assert (r["M"], r["K"], r["N"]) in shapes             # a run's figure only for its own shape
        else:
            assert r["time_source"] == "model" and "predict_" in r["time_detail"]


def test_one_shapes_figure_never_moves_another_op():
    # the same design either way (the latency run's); only the gemm run's shapes may move
    with_run = {r["name"]: r["time_s"] for r in analyze([HW_MEMCPY, HW_LATENCY, HW_GEMM]).rows_of("achieved")}
    without = {r["name"]: r["time_s"] for r in analyze([HW_MEMCPY, HW_LATENCY]).rows_of("achieved")}
    gemm_shapes = {(int(r["M"]), int(r["K"]), int(r["N"])) for r in verified(HW_GEMM)}
    a = analyze([HW_MEMCPY, HW_LATENCY])
    changed = {r["name"] for r in a.rows_of("achieved") if with_run[r["name"]] != without[r["name"]]}
    assert changed
    assert all((r["M"], r["K"], r["N"]) in gemm_shapes for r in a.rows_of("achieved") if r["name"] in changed)


def test_dispatch_from_the_latency_run_else_the_model():
    launch = float(next(r for r in verified(HW_LATENCY) if r["kind"] == "dispatch")["time_s_median"])
    a = analyze([HW_MEMCPY, HW_LATENCY])
    assert a.summary["dispatch_s"] == pytest.approx(launch)
    assert a.summary["sources"]["dispatch_s"]["run_ids"] == [HW_LATENCY]
    b = analyze([HW_MEMCPY])
    assert b.summary["dispatch_s"] == pytest.approx(50e-6) and b.summary["sources"]["dispatch_s"]["source"] == "model"


# ---------- latency of one inference ---------------------------------------------------------------
@pytest.fixture()
def full(runs, tmp_path, capsys):
    out = tmp_path / "full"
    rc = roofline(["--results", runs / HW_MEMCPY, runs / HW_GEMM, runs / HW_LATENCY,
                   "--workload", "smolvla", "--derate", "0.8", "--out", out])
    assert rc == 0
    return out, json.loads((out / "roofline.json").read_text()), capsys.readouterr()


def test_the_three_latencies_add_up_from_the_rows(full):
    out, data, _ = full
    s = data["summary"]
    with open(out / "ops.csv") as f:
        rows = list(csv.DictReader(f))
    by = {}
    for r in rows:
        by.setdefault(r["ceiling_set"], []).append(r)
    tot = {k: sum(float(r["time_s"]) * int(r["count"]) for r in rs) for k, rs in by.items()}
    launches = sum(int(r["launches"]) for r in by["achieved"])
    assert s["launches"] == launches
    # per-shape times + dispatch + the per-inference host transfers (no transfer run here: the model's)
    assert s["sources"]["host_transfers_s"]["source"] == "model"
    assert s["latency_achieved_s"] == pytest.approx(tot["achieved"] + s["dispatch_s"] * launches
                                                    + s["host_transfers_s"])
    assert s["latency_roofline_spec_s"] == pytest.approx(tot["spec"])
    assert s["latency_roofline_runs_s"] == pytest.approx(tot["measured"])
    for k in ("element_type", "compute_bound_time_share", "latency_roofline_spec_s", "latency_roofline_runs_s",
              "latency_achieved_s", "fusion_saving_s", "dispatch_s", "launches", "sources"):
        assert k in s, k
    for k in ("element_type", "latency_roofline_spec_s", "latency_roofline_runs_s", "latency_achieved_s",
              "fusion_saving_s", "dispatch_s", "launches", "compute_bound_time_share"):
        assert s["sources"][k]["source"] and "detail" in s["sources"][k], k
    assert set(s["compute_bound_time_share"]) == {"spec", "measured", "achieved"}


def test_the_gap_is_split_into_its_components(full):
    _, data, _ = full
    lat = data["latency"]
    gap = lat["gap"]
    assert gap["against"] == "measured"
    assert gap["total_s"] == pytest.approx(lat["latency_achieved_s"] - lat["latency_roofline_runs_s"])
    comps = {c["key"]: c for c in lat["components"]}
    assert list(comps) == ["tile_padding_s", "unoverlapped_memory_s", "pipeline_refills_s", "dispatch_s",
                           "host_transfers_s", "other_s"]
    assert comps["host_transfers_s"]["value_s"] == pytest.approx(lat["host_transfers_s"])
    assert sum(c["value_s"] for c in comps.values()) == pytest.approx(gap["total_s"], rel=1e-9)
    assert comps["dispatch_s"]["value_s"] == pytest.approx(data["summary"]["dispatch_s"] * lat["launches"])
    assert comps["dispatch_s"]["source"] == "measured"
    assert comps["tile_padding_s"]["value_s"] > 0 and comps["pipeline_refills_s"]["value_s"] > 0
    assert {c["source"] for k, c in comps.items() if k in ("tile_padding_s", "pipeline_refills_s")} == {"model"}


def test_pipeline_depth_and_pipeline_refills_are_kept_apart(full):
    out, data, _ = full
    g = next(x for x in data["latency_shapes"] if (x["M"], x["K"], x["N"]) == (50, 720, 2048))
    assert g["pipeline_depth_s"] and g["pipeline_refills_s"]
    assert g["pipeline_refills_s"] > 2 * g["pipeline_depth_s"]      # every refill of a call vs one pass
    assert "expert.mlp.gate" in g["workload_op"] and g["source"] == "measured"
    md = (out / "report.md").read_text()
    assert "pipeline depth / clock" in md and "pipeline refills" in md
    assert "pipeline fill" not in md


def test_launches_with_and_without_fusion():
    from harness.roofline.fusion import chains
    from harness.workload.smolvla import build_smolvla
    a = analyze([HW_MEMCPY])
    wl = build_smolvla()
    epilogue_launches = sum(o.launches for ch in chains(wl) for o in ch[1:])
    assert a.summary["launches"] == sum(o.launches for o in wl.ops)
    assert a.summary["launches_fused"] == a.summary["launches"] - epilogue_launches > 0
    assert a.summary["fusion_saving_s"] > 0


def test_fusion_savings_beside_the_runs(full):
    _, data, _ = full
    fc1 = next(f for f in data["fusion"] if f["name"] == "vision.mlp.fc1")
    assert fc1["epilogue"] == "bias+gelu" and fc1["fused_oi_FLOPpB"] > fc1["unfused_oi_FLOPpB"]
    assert fc1["achieved_saved_s"] == pytest.approx(fc1["achieved_unfused_time_s"] - fc1["achieved_fused_time_s"]
                                                    + 2 * data["summary"]["dispatch_s"])
    rows = {r["path"]: float(r["time_s_median"]) for r in verified(HW_GEMM) if r["N"] == "3072"}
    (pair,) = [x for x in data["fusion_runs"] if x["N"] == 3072]
    assert pair["run_saved_s"] == pytest.approx(rows["unfused"] - rows["fused"]) and pair["source"] == "measured"
    assert pair["model_saved_s"] is not None


# ---------- headline first -------------------------------------------------------------------------
def test_terminal_and_report_open_with_the_answers(full):
    out, data, cap = full
    first = cap.out.splitlines()
    assert first[0].startswith("smolVLA at batch size 1 on the U280 - timed on the card")
    head = "\n".join(first[:8])
    for want in ("Element type: fp32", "compute-bound", "memory-bound", "Latency of one inference",
                 "under spec ceilings", "achieved", "tile padding", "pipeline refills", "dispatch",
                 "Fusing every GEMM", "launches", "Roofs:", HW_MEMCPY):
        assert want in head, want
    md = (out / "report.md").read_text()
    order = [md.index(h) for h in ("## Summary", "## Contents", "## The plot", "## Latency of one inference",
                                   "## Ceilings", "## Ops", "## Sources")]
    assert order == sorted(order)
    assert "Latency of one inference: roofline" in md[:md.index("## Contents")]


def test_one_notice_per_kind_and_no_warnings_without_a_workload(runs, tmp_path, capsys):
    assert roofline(["--results", runs / EMU_MEMCPY, runs / EMU_GEMM, runs / EMU_LATENCY, "--workload", "smolvla",
                     "--out", tmp_path / "a"]) == 0
    err = capsys.readouterr().err
    assert len([ln for ln in err.splitlines() if "emulated:" in ln]) == 1
    assert all(r in err for r in (EMU_MEMCPY, EMU_GEMM, EMU_LATENCY))
    assert roofline(["--results", runs / EMU_MEMCPY, "--out", tmp_path / "b"]) == 0
    err = capsys.readouterr().err
    assert "precision" not in err.lower() and "elementwise" not in err.lower() and "warning" not in err


# ---------- stable data ---------------------------------------------------------------------------
@pytest.mark.parametrize("given", [[], [EMU_MEMCPY], [EMU_MEMCPY, EMU_GEMM, EMU_LATENCY], [HW_MEMCPY, HW_LATENCY],
                                   [HW_MEMCPY, EMU_GEMM]], ids=["none", "emu-memcpy", "emu-all", "hw", "mixed"])
def test_columns_are_the_same_whatever_the_runs(runs, tmp_path, given):
    from harness.roofline.classify import COLUMNS
    out = tmp_path / "o"
    assert roofline(["--results", *[runs / g for g in given], "--workload", "smolvla", "--out", out]
                    if given else ["--workload", "smolvla", "--out", out]) == 0
    with open(out / "ops.csv") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == COLUMNS
    assert {r["ceiling_set"] for r in rows} <= SET_VALUES and "achieved" in {r["ceiling_set"] for r in rows}
    data = json.loads((out / "roofline.json").read_text())
    assert data["columns"] == COLUMNS and all(list(p) == COLUMNS for p in data["points"])
    assert not [c for c in COLUMNS if c.startswith(("measured_", "emulated_", "spec_", "runs_"))]
    n_ops = len({r["name"] for r in rows})
    assert len(rows) == n_ops * len({r["ceiling_set"] for r in rows})
    if given == [HW_MEMCPY, EMU_GEMM]:
        assert data["run_ceilings"] == "measured"       # the gemm run gives no ceiling: memcpy is all measured
    if given == [EMU_MEMCPY, EMU_GEMM, EMU_LATENCY]:
        assert {r["ceiling_set"] for r in rows} == {"spec", "emulated", "achieved"}
        assert not [r for r in rows if r["time_source"] == "measured"]


def test_mixed_hardware_and_emulated_ceilings_are_named_runs():
    from harness.roofline import analyze as an
    a = an(load([HW_MEMCPY]) + [flops_run(500.0, "model", run_id="20250102T000000Z-emu-flops")], "smolvla")
    assert a.ceilings.run_set.key == "runs" and "mixed" in a.ceilings.run_set.label
    assert {r["ceiling_set"] for r in a.rows} == {"spec", "runs", "achieved"}


# ---------- precision ----------------------------------------------------------------------------
def test_precision_mismatch_warns_everywhere(runs, tmp_path, capsys):
    out = tmp_path / "o"
    assert roofline(["--results", runs / HW_GEMM, "--workload", "smolvla", "--precision", "fp16", "--out", out]) == 0
    err = capsys.readouterr().err
    assert "PRECISION MISMATCH" in err and "fp32" in err
    assert "PRECISION MISMATCH" in (out / "report.md").read_text()
    assert "precision mismatch" in (out / "roofline.svg").read_text().lower()
    assert any("PRECISION MISMATCH" in w for w in json.loads((out / "roofline.json").read_text())["warnings"])


def test_auto_precision_matches_the_kernel_without_warning(runs, tmp_path, capsys):
    out = tmp_path / "o"
    assert roofline(["--results", runs / HW_GEMM, "--workload", "smolvla", "--out", out]) == 0
    assert "MISMATCH" not in capsys.readouterr().err
    data = json.loads((out / "roofline.json").read_text())
    assert data["summary"]["element_type"] == "fp32" and HW_GEMM in data["summary"]["element_type_origin"]
    assert data["summary"]["sources"]["element_type"]["run_ids"] == [HW_GEMM]


def test_auto_refuses_kernels_of_two_element_types(runs, tmp_path):
    assert roofline(["--results", runs / HW_GEMM, runs / EMU_GEMM16, "--workload", "smolvla",
                     "--out", tmp_path / "o"]) == 2
    assert not (tmp_path / "o").exists()


def test_nothing_measured(tmp_path, capsys):
    out = tmp_path / "spec"
    assert roofline(["--workload", "smolvla", "--out", out, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    data = json.loads((out / "roofline.json").read_text())
    assert printed == data and data["nothing_measured"] is True
    assert list(data["ceiling_sets"]) == ["spec"]
    s = data["summary"]
    assert s["latency_roofline_runs_s"] is None and s["latency_achieved_s"] > s["latency_roofline_spec_s"]
    assert s["timed_on_card"] is False and data["latency"]["gap"]["against"] == "spec"
    assert "nothing measured" in (out / "report.md").read_text()


# ---------- bad input ------------------------------------------------------------------------------
def _one_error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("bad, says", [("not-a-run", "is not a run directory"), (FAILED, "no verified point"),
                                       (INCOMPLETE, "incomplete run"), ("does-not-exist", "does not exist")])
def test_bad_run_directories_rejected(runs, tmp_path, bad, says, capsys):
    out = tmp_path / "o"
    assert roofline(["--results", runs / HW_MEMCPY, runs / bad, "--workload", "smolvla", "--out", out]) == 2
    cap = capsys.readouterr()
    assert says in _one_error_line(cap.err) and cap.out == ""
    assert not out.exists()


def test_never_writes_into_a_run_directory(runs, tmp_path, monkeypatch, capsys):
    import harness.commands.roofline as cmd
    monkeypatch.setattr(cmd, "REPO_ROOT", tmp_path)
    before = sorted(p.name for p in (runs / HW_MEMCPY).iterdir())
    assert roofline(["--results", runs / HW_MEMCPY]) == 0
    assert sorted(p.name for p in (runs / HW_MEMCPY).iterdir()) == before
    (made,) = (tmp_path / "results").iterdir()
    assert re.fullmatch(r"roofline-\d{8}T\d{6}Z", made.name) and (made / "report.md").is_file()
    assert f"to {made}" in capsys.readouterr().out
    assert roofline(["--results", runs / HW_MEMCPY, "--out", runs / HW_MEMCPY]) == 2
    assert "run directory" in _one_error_line(capsys.readouterr().err)
    assert sorted(p.name for p in (runs / HW_MEMCPY).iterdir()) == before


def test_default_output_directories_are_never_reused(tmp_path, monkeypatch):
    import harness.commands.roofline as cmd
    monkeypatch.setattr(cmd, "REPO_ROOT", tmp_path)
    assert roofline(["--workload", "smolvla"]) == 0
    assert roofline([]) == 0
    outs = sorted((tmp_path / "results").iterdir())
    assert len(outs) == 2 and all(p.name.startswith("roofline-") for p in outs)


def test_unknown_workload_and_bad_derate(runs, tmp_path, capsys):
    assert roofline(["--workload", "gpt2", "--out", tmp_path / "o"]) == 2
    assert "gpt2" in _one_error_line(capsys.readouterr().err)
    assert roofline(["--results", runs / HW_MEMCPY, "--derate", "1.5", "--out", tmp_path / "o"]) == 2
    assert "--derate" in _one_error_line(capsys.readouterr().err)
    assert roofline(["--workload", "smolvla", "--precision", "fp64", "--out", tmp_path / "o"]) == 2
    _one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "o").exists()


# ---------- the seed, point by point ---------------------------------------------------------------
def test_seed_point_by_point(capsys):
    assert roofline(["--seed-assumptions"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    oi44 = next(ln for ln in lines if ln.startswith("OI ~44"))
    assert "44.6" in oi44 and "expert.attn.q" in oi44 and "50x720x960" in oi44
    for fig in ("ridge ~11.7: 11.8", "OI ~22: 22.3", "ridge ~18: 18.0"):
        assert any(ln.startswith(fig) for ln in lines), fig
    corrected = [ln for ln in lines if ln.strip().startswith("corrected:")]
    assert any("22.3" in ln for ln in corrected)                         # fp32 OI of that op
    assert any(ln.strip().startswith("corrected: 2.21") for ln in corrected)       # fp32 compute / 460
    assert any(ln.strip().startswith("corrected: 3.40") and "300 GB/s" in ln for ln in corrected)
    assert any("GEMM kernel's ports" in ln and "gemm.B" in ln for ln in corrected)
    assert "Corrected conclusion:" in out and "memory-bound" in out and "74.4" in out and "37.2" in out


def test_seed_json_and_files(runs, tmp_path, capsys):
    out = tmp_path / "seed"
    assert roofline(["--seed-assumptions", "--json", "--results", runs / HW_MEMCPY, "--out", out]) == 0
    data = json.loads(capsys.readouterr().out)
    s, c = data["seed"], data["corrected"]
    assert round(s["compute"]["value"], -1) == 5410 and s["memory"]["value"] == 460
    assert round(s["ridge_FLOPpB"], 1) == 11.8 and round(s["derated_ridge_FLOPpB"]) == 18
    assert c["operand"] == "fp32" and c["compute_spec"]["value"] == pytest.approx(1018.8)
    assert [p["figure"] for p in data["points"]] == ["OI ~44", "ridge ~11.7", "OI ~22", "ridge ~18"]
    # the op's bytes over its busiest port's time, at the memcpy run's per-PC figure
    from harness.roofline import analyze as an
    a = an(load([HW_MEMCPY]), "smolvla")
    from harness.workload.precision import ByteConvention
    op = a.workload.op("expert.attn.q")
    t, where, _ = a.ceilings.run_set.ports.time("gemm", op.streams(ByteConvention.of("fp32")))
    assert c["port_bandwidth_GBps"] == pytest.approx(op.bytes("fp32") / t / 1e9) and c["port_bottleneck"] == where
    for o in data["ops"]:
        assert o["seed_oi_FLOPpB"] == pytest.approx(2 * o["corrected_oi_FLOPpB"])
    assert (out / "seed.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = (out / "seed.md").read_text()
    assert "OI ~44" in md and "50x720x960" in md and "seed.png" in md
    assert roofline(["--seed-assumptions", "--results", runs / HW_MEMCPY]) == 0
    assert sorted(p.name for p in (runs / HW_MEMCPY).iterdir()) == ["context.json", "samples.csv", "summary.csv"]


# ---------- the plot -------------------------------------------------------------------------------
def _seg_meets_box(p, q, box, steps=400) -> bool:
    x0, y0, x1, y1 = box
    for i in range(steps + 1):
        t = i / steps
        x, y = p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])
        if x0 <= x <= x1 and y0 <= y <= y1:
            return True
    return False


def label_problems(fig) -> list[str]:
    """Labels that overlap another label or cross a line; legends or texts outside the figure."""
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    fb = fig.bbox
    problems = []
    for ax in fig.axes:
        texts = [t for t in ax.texts if t.get_visible() and t.get_text()]
        boxes = [t.get_window_extent(r) for t in texts]
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                if boxes[i].overlaps(boxes[j]):
                    problems.append(f"{texts[i].get_text()!r} overlaps {texts[j].get_text()!r}")
        for ln in ax.lines:
            xy = ln.get_transform().transform(ln.get_xydata())
            for t, b in zip(texts, boxes):
                if any(_seg_meets_box(xy[k], xy[k + 1], (b.x0, b.y0, b.x1, b.y1)) for k in range(len(xy) - 1)):
                    problems.append(f"{t.get_text()!r} crosses a line")
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    for art in legends + list(fig.texts):
        b = art.get_window_extent(r)
        if b.x0 < fb.x0 - 1 or b.y0 < fb.y0 - 1 or b.x1 > fb.x1 + 1 or b.y1 > fb.y1 + 1:
            problems.append(f"{type(art).__name__} outside the figure")
    for leg in legends:
        lb = leg.get_window_extent(r)
        for ax in fig.axes:
            if lb.overlaps(ax.get_window_extent(r)):
                problems.append("the legend overlaps a panel")
        for t in fig.texts:
            if t.get_text() and lb.overlaps(t.get_window_extent(r)):
                problems.append("the legend overlaps a text")
    return problems


def test_the_label_check_catches_a_label_on_a_line():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    ax.text(0.5, 0.5, "on the line")
    ax.text(0.1, 0.9, "a")
    ax.text(0.1, 0.9, "b")
    problems = label_problems(fig)
    plt.close(fig)
    assert any("crosses a line" in p for p in problems) and any("overlaps" in p for p in problems)


@pytest.mark.parametrize("given, kw", [
    ([], {}), ([HW_MEMCPY, HW_GEMM, HW_LATENCY], {"derate": 0.8}), ([EMU_MEMCPY, EMU_GEMM, EMU_LATENCY], {}),
    ([HW_MEMCPY], {"derate": 0.6}), ([EMU_MEMCPY], {"workload": None, "derate": 0.9})],
    ids=["spec", "hw-derate", "emu", "memcpy", "ceilings-only"])
def test_plot_labels_never_overlap_and_the_legend_fits(given, kw):
    import matplotlib.pyplot as plt
    from harness.roofline import analyze as an
    from harness.roofline.plot import legend_label
    kw = dict(kw)
    wl = kw.pop("workload", "smolvla")
    a = an(load(given), wl, **kw)
    fig = a.plot()
    try:
        assert label_problems(fig) == []
        placed = [t for ax in fig.axes for t in ax.texts if t.get_text()]
        assert any("GB/s" in t.get_text() for t in placed)               # value labels were placed
        for c in a.ceilings.all:
            assert len(legend_label(c)) <= 70 and "detail" not in legend_label(c)
    finally:
        plt.close(fig)


def test_roofs_stop_at_their_ridge():
    import matplotlib.pyplot as plt
    a = analyze([HW_MEMCPY, HW_GEMM])
    fig = a.plot()
    try:
        spec_ax, run_ax = fig.axes[:2]
        sp, rs = a.ceilings.spec, a.ceilings.run_set
        for ax, cs in ((spec_ax, sp), (run_ax, rs)):
            ends = [ln.get_xdata()[-1] for ln in ax.lines
                    if ln.get_ydata()[-1] / ln.get_xdata()[-1] == pytest.approx(cs.memory.value)]
            assert ends and max(ends) == pytest.approx(cs.compute.value / cs.memory.value)
            starts = [ln.get_xdata()[0] for ln in ax.lines if ln.get_ydata()[0] == cs.compute.value
                      and ln.get_ydata()[-1] == cs.compute.value]
            assert starts == [pytest.approx(cs.compute.value / cs.memory.value)]
    finally:
        plt.close(fig)


# ---------- the report -----------------------------------------------------------------------------
def test_report_footnotes_numbers_and_the_linked_plot(full):
    out, data, _ = full
    md = (out / "report.md").read_text()
    html = (out / "report.html").read_text()
    cells = "\n".join(ln for ln in md.splitlines() if ln.startswith("|"))
    assert "run 2025" not in cells and "UG1393" not in cells          # sources are footnotes, not cells
    refs = set(re.findall(r"\[\^(\d+)\]", cells))
    notes = set(re.findall(r"^\[\^(\d+)\]: ", md, re.M))
    assert refs and refs <= notes
    assert not re.search(r"\de[+-]\d", md)                               # no 1e+03 us
    assert not re.search(r"\d\.\d{6,}", md)                              # no long decimals
    assert "[![roofline](roofline.png)](roofline.svg)" in md
    assert "<a href='roofline.svg'><img" in html and "data:image/png;base64," in html
    assert "<li id='fn-1'>" in html and "href='#fn-1'" in html
    for c in data["ceilings"]:
        assert c["name"] in md and c["detail"] in md
    toc = md[md.index("## Contents"):md.index("## The plot")]
    for name in ("Latency of one inference", "Ceilings", "Memory per kernel port", "Fusion", "Ops"):
        assert name in toc


# ---------- the Python API (README) ----------------------------------------------------------------
def test_readme_python_example_runs(monkeypatch, tmp_path):
    import matplotlib.pyplot as plt
    root = pathlib.Path(__file__).resolve().parent.parent
    readme = (root / "README.md").read_text()
    section = readme[readme.index("### Python API"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    code = code.replace("/tmp/roofline.png", str(tmp_path / "roofline.png"))
    monkeypatch.chdir(root)
    ns: dict = {}
    exec(compile(code, "README.md", "exec"), ns)
    assert "df" in ns and list(ns["df"].columns)[:2] == ["ceiling_set", "stage"]
    assert (tmp_path / "roofline.png").stat().st_size > 0
    plt.close("all")


def test_command_modules_import_nothing_heavy():
    import subprocess
    import sys
    code = ("import sys, harness.commands.roofline, harness.commands.plot, harness.commands.compare; "
            "print([m for m in ('matplotlib', 'pandas', 'scipy') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_rewrite_leaves_no_stale_output(runs, tmp_path):
    out = tmp_path / "o"
    assert roofline(["--results", runs / HW_MEMCPY, "--workload", "smolvla", "--out", out]) == 0
    assert (out / "ops.csv").is_file()
    assert roofline(["--results", runs / HW_MEMCPY, "--out", out]) == 0       # ceilings only: no ops
    assert not (out / "ops.csv").exists() and (out / "report.md").is_file()


def test_nothing_emulated_is_called_measured(runs, tmp_path, capsys):
    out = tmp_path / "emu"
    assert roofline(["--results", runs / EMU_MEMCPY, runs / EMU_GEMM, runs / EMU_LATENCY, "--workload", "smolvla",
                     "--out", out]) == 0
    cap = capsys.readouterr()
    data = json.loads((out / "roofline.json").read_text())

    def keys(o):
        if isinstance(o, dict):
            return set(o) | {k for v in o.values() for k in keys(v)}
        return {k for v in o for k in keys(v)} if isinstance(o, list) else set()
    assert [k for k in keys(data) if "measured" in k] == ["nothing_measured"]
    assert data["run_ceilings"] == "emulated" and data["summary"]["timed_on_card"] is False
    assert {p["time_source"] for p in data["points"]} == {"spec", "model", "emulated (model)"}
    md = (out / "report.md").read_text()
    assert "measured" not in md.replace("nothing measured", "")
    assert "measured" not in cap.out.replace(str(out), "") and "EMULATED" in cap.out.splitlines()[0]
    assert "EMULATED" in (out / "roofline.svg").read_text()


def test_ports_spread_over_several_pcs_and_cus():
    from harness.figures import Figure
    from harness.roofline.ports import PortModel
    f = Figure("pc", 10.0, "GB/s", "spec", "test")
    # two CUs splitting N; B over two ports per CU (B0, B1): A is read whole by each CU
    k = {"gemm": {"A": ["HBM[0]", "HBM[8]"], "B0": ["HBM[1]", "HBM[9]"], "B1": ["HBM[2]", "HBM[10]"],
                  "C": ["HBM[3]", "HBM[11]"]}}
    pm = PortModel(k, f, f, "test")
    assert pm.ports_for("gemm", "B") == ["B0", "B1"] and pm.ports_for("gemm", "A") == ["A"]
    t, where, _ = pm.time("gemm", {"A": 10e9, "B": 80e9, "C": 8e9})
    assert t == pytest.approx(2.0) and where.startswith("gemm.B")        # 80 GB over 4 PCs
    t, where, _ = pm.time("gemm", {"A": 30e9, "B": 80e9, "C": 8e9})
    assert t == pytest.approx(3.0) and where.startswith("gemm.A")        # each CU reads all of A
