"""`harness roofline` on frozen run directories (tests/fixtures/runs), headless."""
from __future__ import annotations

import csv
import json
import pathlib
import shutil

import pytest

FIX = pathlib.Path(__file__).parent / "fixtures" / "runs"
HW_MEMCPY = "20250101T000000Z-hw-memcpy"
EMU_MEMCPY = "20250101T010000Z-emu-memcpy"
HW_GEMM = "20250101T020000Z-hw-gemm"
HW_LATENCY = "20250101T030000Z-hw-latency"
FAILED = "20250101T040000Z-hw-memcpy"
INCOMPLETE = "20250101T050000Z-hw-gemm"
EMU_GEMM16 = "20250101T060000Z-emu-gemm"
EMU_GEMM = "20250101T070000Z-emu-gemm"          # fp32, emulated: ~30 GFLOP/s, fused/unfused pair
EMU_LATENCY = "20250101T080000Z-emu-latency"


@pytest.fixture()
def runs(tmp_path):
    dst = tmp_path / "runs"
    shutil.copytree(FIX, dst)
    return dst


def summary(run: str) -> list[dict]:
    with open(FIX / run / "summary.csv") as f:
        return list(csv.DictReader(f))


def roofline(argv, capsys=None) -> int:
    """Run the command through the real CLI entry point (harness.cli.main): its exit code,
    2 for a UserError (one line on stderr) or an argparse error (SystemExit)."""
    from harness.cli import main
    try:
        return main(["roofline", *map(str, argv)])
    except SystemExit as exc:
        return int(exc.code or 0)


# ---------- issue 2: the first slice ---------------------------------------------------------
def test_memcpy_run_alone_writes_into_the_run_dir(runs, capsys):
    run = runs / HW_MEMCPY
    assert roofline(["--results", run]) == 0
    out = capsys.readouterr().out
    assert str(run) in out
    data = json.loads((run / "roofline.json").read_text())
    assert (run / "roofline.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    by = {c["key"]: c for c in data["ceilings"]}
    assert by["memory.spec"]["value"] == 460 and by["memory.spec"]["source"] == "spec"
    best_verified = max(float(r["bandwidth_GBps_best"]) for r in summary(HW_MEMCPY) if r["verified"] == "True")
    assert by["memory.measured"]["value"] == pytest.approx(best_verified)
    assert by["memory.measured"]["source"] == "measured"
    assert HW_MEMCPY in by["memory.measured"]["detail"]
    assert any(c["kind"] == "compute" and c["source"] == "spec" for c in data["ceilings"])


def test_unverified_points_never_become_ceilings(runs):
    rows = summary(HW_MEMCPY)
    unverified = [float(r["bandwidth_GBps_best"]) for r in rows if r["verified"] != "True"]
    verified = [float(r["bandwidth_GBps_best"]) for r in rows if r["verified"] == "True"]
    # the fixture holds a tempting point: verified repetitions better than any other, one failed
    assert unverified and max(unverified) > max(verified)
    assert roofline(["--results", runs / HW_MEMCPY]) == 0
    data = json.loads((runs / HW_MEMCPY / "roofline.json").read_text())
    assert all(c["value"] not in unverified for c in data["ceilings"])


def test_emulated_run_gives_model_ceiling_never_measured(runs, tmp_path):
    out = tmp_path / "o"
    assert roofline(["--results", runs / EMU_MEMCPY, "--out", out]) == 0
    data = json.loads((out / "roofline.json").read_text())
    from_run = [c for c in data["ceilings"] if EMU_MEMCPY in c["detail"]]
    assert from_run and all(c["source"] == "model" and "emulated" in c["detail"] for c in from_run)
    assert not any(c["source"] == "measured" for c in data["ceilings"])
    svg = (out / "roofline.svg").read_text()
    assert "emulated (model)" in svg
    assert "emulated (model)" in (out / "report.md").read_text()


# ---------- issue 4: compute ceilings per precision ------------------------------------------
def test_memcpy_gemm_latency_together(runs, tmp_path):
    out = tmp_path / "o"
    assert roofline(["--results", runs / HW_MEMCPY, runs / HW_GEMM, runs / HW_LATENCY, "--out", out]) == 0
    data = json.loads((out / "roofline.json").read_text())
    by = {c["key"]: c for c in data["ceilings"]}
    best = max(float(r["throughput_GFLOPps_best"]) for r in summary(HW_GEMM) if r["verified"] == "True")
    assert by["compute.measured.fp32"]["value"] == pytest.approx(best)
    assert by["compute.measured.fp32"]["source"] == "measured"
    assert by["compute.spec.fp32"]["source"] == "spec"
    svg = (out / "roofline.svg").read_text()
    for c in (by["compute.measured.fp32"], by["compute.spec.fp32"], by["memory.spec"]):
        assert c["name"] in svg


def test_spec_compute_is_dsp_clock_macs_2():
    from harness.roofline import platform as plat
    p = plat.load_platform("u280")
    # 9,024 DSPs x 300 MHz x 2 FLOP x MACs/DSP: 1 for 16-bit fixed and int8, about 1/5 for fp32 (C3)
    for d, expect in (("fp32", 1082.88), ("fx16", 5414.4), ("int8", 5414.4)):
        f = plat.spec_compute(p, d)
        assert f.value == pytest.approx(expect) and f.unit == "GFLOP/s" and f.source == "spec"


# ---------- issue 5 ------------------------------------------------------------------------
@pytest.fixture()
def full(runs, tmp_path, capsys):
    out = tmp_path / "full"
    rc = roofline(["--results", runs / HW_MEMCPY, runs / HW_GEMM, runs / HW_LATENCY,
                   "--workload", "smolvla", "--derate", "0.8", "--out", out])
    assert rc == 0
    return out, json.loads((out / "roofline.json").read_text()), capsys.readouterr()


def test_outputs_and_their_content(full):
    out, data, _ = full
    for name in ("roofline.png", "roofline.svg", "roofline.json", "report.md", "report.html", "ops.csv"):
        assert (out / name).stat().st_size > 0, name
    md = (out / "report.md").read_text()
    html = (out / "report.html").read_text()
    svg = (out / "roofline.svg").read_text()
    for c in data["ceilings"]:
        assert c["name"] in md and c["detail"] in md         # every ceiling with its source detail
        assert c["name"] in svg
    assert "assumption" in md and "derated" in md.lower()
    for section in ("## Ceilings", "## Ops", "## Fusion", "## Latency of one inference", "## Bound class"):
        assert section in md
    assert "data:image/png;base64," in html and "<table>" in html
    assert data["precision"]["element_type"] == "fp32" and HW_GEMM in data["precision"]["origin"]
    with open(out / "ops.csv") as f:
        rows = list(csv.DictReader(f))
    assert {"oi_FLOPpB", "spec_bound", "measured_bound", "spec_time_s", "measured_attainable_GFLOPps"} <= set(rows[0])


def test_classification_follows_the_ridges(full):
    _, data, _ = full
    sets = data["ceiling_sets"]
    by = {c["key"]: c for c in data["ceilings"]}
    # the connectivity-aware ceiling of the GEMM kernel: 4 ports, each on its own PC, x the 1-PC memcpy figure
    one_pc = max(float(r["bandwidth_GBps_best"]) for r in summary(HW_MEMCPY)
                 if r["verified"] == "True" and r["pcs"] == "1")
    assert by["memory.connectivity"]["value"] == pytest.approx(4 * one_pc)
    assert sets["measured"]["memory"] == "memory.connectivity"
    for name, s in sets.items():
        assert s["key"] == name
        mem = by[s["memory"]]["value"]
        assert s["ridge_FLOPpB"] == pytest.approx(by[s["compute"]]["value"] / mem)
        assert s["ridge_elementwise_FLOPpB"] == pytest.approx(by[s["compute_elementwise"]]["value"] / mem)
        for p in data["points"]:
            # GEMM and attention products under the GEMM roof, elementwise ops under their own
            roof = s["compute"] if p["kind"] in ("gemm", "attention") else s["compute_elementwise"]
            assert p[f"{name}_compute_ceiling"] == roof
            comp = by[roof]["value"]
            ridge = comp / mem
            assert p[f"{name}_bound"] == ("memory" if p["oi_FLOPpB"] < ridge else "compute")
            assert p[f"{name}_attainable_GFLOPps"] == pytest.approx(min(comp, mem * p["oi_FLOPpB"]))
            assert p[f"{name}_bound_by"] == (s["memory"] if p[f"{name}_bound"] == "memory" else roof)
            assert p[f"{name}_source"] == by[p[f"{name}_bound_by"]]["source"]
    assert sets["measured"]["compute"] == "compute.measured.fp32"
    assert sets["measured"]["compute_elementwise"] == "compute.spec.fp32"
    changed = {c["name"] for c in data["changed_class"]}
    expect = {p["name"] for p in data["points"] if p["spec_bound"] != p["measured_bound"]}
    assert changed == expect and changed            # the 4-PC GEMM ceiling moves ops to memory-bound
    assert all(sets["spec"]["ridge_FLOPpB"] <= p["oi_FLOPpB"] < sets["measured"]["ridge_FLOPpB"]
               for p in data["points"] if p["name"] in changed)


def test_latency_is_op_times_plus_dispatch(full):
    _, data, _ = full
    lat = [x for x in data["latency"] if x["variant"] == "unfused"]
    assert {x["ceilings"] for x in lat} == {"spec", "measured"}
    dispatch_rows = [r for r in summary(HW_LATENCY) if r["kind"] == "dispatch"]
    for x in lat:
        total = sum(p[f"{x['ceilings']}_time_total_s"] for p in data["points"])
        launches = sum(p["launches"] for p in data["points"])
        assert x["latency_s"] == pytest.approx(total + launches * x["dispatch_per_launch_s"])
        if x["ceilings"] == "measured":
            assert x["dispatch_per_launch_s"] == pytest.approx(float(dispatch_rows[0]["time_s_median"]))
            assert x["dispatch_source"] == "measured"
    gap = {(g["M"], g["K"], g["N"]): g for g in data["latency_gap"]}
    g = gap[(50, 720, 2048)]
    assert "expert.mlp.gate" in g["workload_op"]
    measured = [float(r["time_s_median"]) for r in summary(HW_LATENCY) if r["M"] == "50"][0]
    assert g["time_s_median"] == pytest.approx(measured)
    assert g["source"] == "measured" and HW_LATENCY in g["detail"]
    assert g["ceilings"] == "measured" and g["gap_against"] == "measured"
    assert g["gap_s"] == pytest.approx(measured - g["measured_roofline_time_s"])
    # the run's own empty-kernel launch cost is subtracted from the start-to-wait time
    launch = float(dispatch_rows[0]["time_s_median"])
    assert g["dispatch_s"] == pytest.approx(launch)
    assert g["gap_after_dispatch_s"] == pytest.approx(measured - launch - g["measured_roofline_time_s"])


def test_fusion_bytes_and_measured_saving(full):
    _, data, _ = full
    fc1 = next(f for f in data["fusion"] if f["name"] == "vision.mlp.fc1")
    M, K, N, eb = 1024, 768, 3072, 4
    gemm_b = (K * N + M * K + M * N) * eb
    bias_b = (M * N + N + M * N) * eb       # read C and the bias vector, write C'
    gelu_b = (M * N + M * N) * eb           # read C', write the output
    assert fc1["epilogue"] == "bias+gelu"
    assert fc1["unfused_bytes"] == gemm_b + bias_b + gelu_b
    assert fc1["fused_bytes"] == (K * N + M * K + N + M * N) * eb
    assert fc1["fused_oi_FLOPpB"] > fc1["unfused_oi_FLOPpB"]
    assert fc1["predicted_saved_s"] > 0
    rows = {r["path"]: float(r["time_s_median"]) for r in summary(HW_GEMM) if r["N"] == "3072"}
    assert fc1["run_saved_s"] == pytest.approx(rows["unfused"] - rows["fused"])
    assert fc1["run_id"] == HW_GEMM and fc1["run_saved_source"] == "measured"
    (pair,) = [x for x in data["fusion_runs"] if x["N"] == 3072]
    assert pair["run_saved_s"] == pytest.approx(rows["unfused"] - rows["fused"]) and pair["source"] == "measured"
    assert {f["name"] for f in data["fusion"]} >= {"vision.mlp.fc1", "expert.time_mlp_in"}


def test_precision_mismatch_warns_everywhere(runs, tmp_path, capsys):
    out = tmp_path / "o"
    assert roofline(["--results", runs / HW_GEMM, "--workload", "smolvla", "--precision", "fp16",
                     "--out", out]) == 0
    err = capsys.readouterr().err
    assert "PRECISION MISMATCH" in err and "fp32" in err
    assert "PRECISION MISMATCH" in (out / "report.md").read_text()
    assert "precision mismatch" in (out / "roofline.svg").read_text().lower()
    data = json.loads((out / "roofline.json").read_text())
    assert any("PRECISION MISMATCH" in w for w in data["warnings"])


def test_auto_precision_matches_the_kernel_without_warning(runs, tmp_path, capsys):
    out = tmp_path / "o"
    assert roofline(["--results", runs / HW_GEMM, "--workload", "smolvla", "--out", out]) == 0
    assert "MISMATCH" not in capsys.readouterr().err
    data = json.loads((out / "roofline.json").read_text())
    assert data["precision"]["element_type"] == "fp32"
    assert not any("MISMATCH" in w for w in data["warnings"])


def test_auto_refuses_kernels_of_two_element_types(runs, tmp_path):
    assert roofline(["--results", runs / HW_GEMM, runs / EMU_GEMM16, "--workload", "smolvla",
                     "--out", tmp_path / "o"]) == 2
    assert not (tmp_path / "o").exists()


def test_nothing_measured(tmp_path, capsys):
    out = tmp_path / "spec"
    assert roofline(["--workload", "smolvla", "--out", out, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    data = json.loads((out / "roofline.json").read_text())
    assert printed == data
    assert data["nothing_measured"] is True
    assert {c["source"] for c in data["ceilings"]} <= {"spec", "assumption"}
    assert list(data["ceiling_sets"]) == ["spec"]
    assert "Nothing was measured" in (out / "report.md").read_text()


def _one_error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("bad, says", [("not-a-run", "is not a run directory"), (FAILED, "no verified point"),
                                       (INCOMPLETE, "incomplete run"), ("does-not-exist", "does not exist")])
def test_bad_run_directories_rejected(runs, tmp_path, bad, says, capsys):
    from harness.cli import main
    out = tmp_path / "o"
    assert main(["roofline", "--results", str(runs / HW_MEMCPY), str(runs / bad), "--workload", "smolvla",
                 "--out", str(out)]) == 2
    cap = capsys.readouterr()
    assert says in _one_error_line(cap.err) and cap.out == ""
    assert not out.exists()
    assert not (runs / HW_MEMCPY / "roofline.json").exists()


def test_bad_run_alone_writes_nothing_into_it(runs, capsys):
    from harness.cli import main
    assert main(["roofline", "--results", str(runs / FAILED)]) == 2
    _one_error_line(capsys.readouterr().err)
    assert sorted(p.name for p in (runs / FAILED).iterdir()) == ["context.json", "samples.csv", "summary.csv"]


def test_unknown_workload_and_bad_derate(runs, tmp_path, capsys):
    from harness.cli import main
    with pytest.raises(SystemExit) as e:
        main(["roofline", "--workload", "gpt2", "--out", str(tmp_path / "o")])
    assert e.value.code == 2
    assert "gpt2" in _one_error_line(capsys.readouterr().err)
    assert main(["roofline", "--results", str(runs / HW_MEMCPY), "--derate", "1.5", "--out", str(tmp_path / "o")]) == 2
    assert "--derate" in _one_error_line(capsys.readouterr().err)
    assert main(["roofline", "--workload", "smolvla", "--precision", "fp64", "--out", str(tmp_path / "o")]) == 2
    _one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "o").exists()


def test_seed_assumptions_reproduced_and_corrected(runs, capsys):
    assert roofline(["--seed-assumptions", "--json", "--results", runs / HW_MEMCPY]) == 0
    data = json.loads(capsys.readouterr().out)
    s, c = data["seed"], data["corrected"]
    assert round(s["compute"]["value"], -1) == 5410        # "5,410 GFLOP/s"
    assert s["memory"]["value"] == 460
    assert round(s["ridge_FLOPpB"], 1) == 11.8
    assert s["derated_memory"]["value"] == 300 and s["derated_memory"]["source"] == "assumption"
    assert round(s["derated_ridge_FLOPpB"]) == 18
    assert c["operand"] == "fp32"
    assert c["compute"]["value"] < s["compute"]["value"] / 4             # the fp32 ceiling
    assert c["memory"]["source"] == "measured"
    assert data["ops"]
    for o in data["ops"]:
        assert o["seed_oi_FLOPpB"] == 2 * o["corrected_oi_FLOPpB"]       # exactly 2x
    assert s["inference_oi_FLOPpB"] == pytest.approx(2 * c["inference_oi_FLOPpB"])


def test_seed_assumptions_text(capsys):
    assert roofline(["--seed-assumptions"]) == 0
    out = capsys.readouterr().out
    assert "5,414.4 GFLOP/s" in out and "11.8" in out and "18.0" in out and "nothing was measured" in out


def test_harness_main(runs, tmp_path, capsys):
    from harness.cli import main
    assert main(["roofline", "--results", str(runs / FAILED)]) == 2
    assert "error:" in capsys.readouterr().err
    assert main(["roofline", "--results", str(runs / HW_MEMCPY), "--out", str(tmp_path / "o")]) == 0


# ---------- audit: emulated numbers never under "measured" labels ------------------------------
@pytest.fixture()
def emulated(runs, tmp_path, capsys):
    out = tmp_path / "emu"
    assert roofline(["--results", runs / EMU_MEMCPY, runs / EMU_GEMM, runs / EMU_LATENCY,
                     "--workload", "smolvla", "--out", out]) == 0
    return out, json.loads((out / "roofline.json").read_text()), capsys.readouterr()


def _keys(o) -> set:
    if isinstance(o, dict):
        return set(o) | {k for v in o.values() for k in _keys(v)}
    if isinstance(o, list):
        return {k for v in o for k in _keys(v)}
    return set()


def test_emulated_runs_are_named_emulated_everywhere(emulated):
    out, data, cap = emulated
    assert list(data["ceiling_sets"]) == ["spec", "emulated"]
    es = data["ceiling_sets"]["emulated"]
    assert es["label"] == "emulated ceilings (model)" and data["run_ceilings"] == "emulated"
    assert data["nothing_measured"] is True and data["no_runs"] is False
    # no key, ceiling key or column anywhere says "measured"
    assert not [k for k in _keys(data) if "measured" in k and k != "nothing_measured"]
    assert not [c["key"] for c in data["ceilings"] if "measured" in c["key"]]
    assert {"memory.emulated", "compute.emulated.fp32"} <= {c["key"] for c in data["ceilings"]}
    with open(out / "ops.csv") as f:
        header = next(csv.reader(f))
    assert not [h for h in header if h.startswith("measured")]
    assert {"emulated_bound", "emulated_attainable_GFLOPps", "emulated_time_s", "emulated_source",
            "emulated_compute_ceiling", "emulated_bound_by", "spec_source"} <= set(header)
    assert {p["emulated_source"] for p in data["points"]} <= {"emulated (model)", "spec"}
    assert "emulated (model)" in {p["emulated_source"] for p in data["points"]}
    assert all(p["spec_source"] == "spec" for p in data["points"])
    # latency gap and fusion rows carry the run's source: model
    assert data["latency_gap"] and all(g["source"] == "model" and g["source_tag"] == "emulated (model)"
                                       and g["ceilings"] == "emulated" for g in data["latency_gap"])
    fc1 = next(f for f in data["fusion"] if f["name"] == "vision.mlp.fc1")
    assert fc1["run_id"] == EMU_GEMM and fc1["run_saved_source"] == "model"
    assert data["fusion_runs"] and all(x["source"] == "model" for x in data["fusion_runs"])
    # the report: headers named by the set, sources per row, nothing emulated called measured
    md = (out / "report.md").read_text()
    assert "| emulated (model): bound |" in md and "emulated (model): compute roof" in md
    assert "measured:" not in md.replace("emulated", "")
    assert "measured median" not in md and "roofline (measured)" not in md and "measured saving" not in md
    assert "roofline (emulated (model))" in md and "run median" in md
    assert f"(emulated (model): run {EMU_GEMM})" in md
    assert "Nothing here was timed on the card" in md
    assert "measured" not in "\n".join(l for l in cap.out.splitlines() if not l.startswith("wrote"))
    assert "EMULATED" in (out / "roofline.svg").read_text()


def test_hardware_and_emulated_mixed_is_named_runs(runs, tmp_path):
    out = tmp_path / "o"
    assert roofline(["--results", runs / HW_MEMCPY, runs / EMU_GEMM, "--workload", "smolvla", "--out", out]) == 0
    data = json.loads((out / "roofline.json").read_text())
    assert list(data["ceiling_sets"]) == ["spec", "runs"]
    assert "mixed" in data["ceiling_sets"]["runs"]["label"]
    srcs = {p["runs_source"] for p in data["points"]}
    assert "measured" in srcs and "emulated (model)" in srcs       # per-figure sources shown per op
    by = {c["key"]: c for c in data["ceilings"]}
    for p in data["points"]:
        assert by[p["runs_bound_by"]]["source"] == ("measured" if p["runs_source"] == "measured" else
                                                    "model" if p["runs_source"] == "emulated (model)" else "spec")
    assert "| measured + emulated (model): bound |" in (out / "report.md").read_text()


def test_hardware_runs_still_measured(full):
    out, data, _ = full
    assert list(data["ceiling_sets"]) == ["spec", "measured"] and data["nothing_measured"] is False
    with open(out / "ops.csv") as f:
        header = next(csv.reader(f))
    assert {"measured_bound", "measured_attainable_GFLOPps", "measured_time_s", "measured_source",
            "measured_compute_ceiling"} <= set(header)
    assert "| measured: bound |" in (out / "report.md").read_text()


# ---------- audit: the GEMM kernel's throughput is the roof of GEMM-kind ops only ----------------
def test_elementwise_ops_keep_the_spec_compute_roof(emulated):
    out, data, _ = emulated
    es = data["ceiling_sets"]["emulated"]
    by = {c["key"]: c for c in data["ceilings"]}
    gemm_roof = by[es["compute"]]["value"]
    assert gemm_roof == pytest.approx(30.0)                 # the emulated GEMM kernel's best
    ew = [p for p in data["points"] if p["kind"] == "elementwise"]
    gk = [p for p in data["points"] if p["kind"] in ("gemm", "attention")]
    assert ew and gk
    assert all(p["emulated_compute_ceiling"] == "compute.spec.fp32" for p in ew)
    assert all(p["emulated_compute_ceiling"] == "compute.emulated.fp32" for p in gk)
    # under the GEMM roof these would be compute-bound (OI x memory roof > 30 GFLOP/s): they are not
    mem = by[es["memory"]]["value"]
    assert any(p["oi_FLOPpB"] * mem > gemm_roof for p in ew)
    assert all(p["emulated_bound"] == "memory" for p in ew)
    assert not [c for c in data["changed_class"] if c["kind"] == "elementwise"]
    assert any("elementwise ops" in n and "spec compute ceiling" in n for n in es["notes"])
    md = (out / "report.md").read_text()
    assert "compute: elementwise" in md and "compute roof (elementwise)" in md
    svg = (out / "roofline.svg").read_text()
    assert "elementwise ops" in svg


def test_epilogues_sit_under_the_elementwise_roof(full):
    _, data, _ = full
    from harness.roofline.ceilings import Ceiling, CeilingSet
    from harness.roofline.classify import roofline_time
    from harness.figures import Figure
    fig = lambda v: Figure("x", v, "GFLOP/s", "spec", "test")           # noqa: E731
    cs = CeilingSet("t", "t", Ceiling("m", "memory", Figure("m", 10.0, "GB/s", "spec", "test")),
                    Ceiling("c", "compute", fig(1.0)), fig(0.0), compute_elementwise=Ceiling("e", "compute", fig(1e3)))
    assert roofline_time(100e9, 1e9, cs, "gemm")[1:] == ("compute", pytest.approx(100.0))
    assert roofline_time(100e9, 1e9, cs, "attention")[1] == "compute"
    assert roofline_time(100e9, 2e9, cs, "elementwise")[1:] == ("memory", pytest.approx(0.2))
    # the fusion table's unfused time is the sum of the chain's op times, each under its kind's roof
    pts = {p["name"]: p for p in data["points"]}
    fc1 = next(f for f in data["fusion"] if f["name"] == "vision.mlp.fc1")
    chain = ["vision.mlp.fc1"] + [n for n in pts if n.startswith("vision.mlp.fc1.")]
    assert len(chain) == 3
    assert fc1["unfused_time_s"] == pytest.approx(sum(pts[n]["measured_time_s"] for n in chain))
    # fused: the GEMM's FLOPs at the GEMM roof plus the epilogue's at the elementwise roof
    by = {c["key"]: c for c in data["ceilings"]}
    ms = data["ceiling_sets"]["measured"]
    g_flop = pts["vision.mlp.fc1"]["flop"]
    e_flop = fc1["flop"] - g_flop
    t_comp = g_flop / by[ms["compute"]]["value"] / 1e9 + e_flop / by[ms["compute_elementwise"]]["value"] / 1e9
    assert fc1["fused_time_s"] == pytest.approx(max(t_comp, fc1["fused_bytes"] / by[ms["memory"]]["value"] / 1e9))


def test_seed_corrected_bounds_per_kind(runs, capsys):
    assert roofline(["--seed-assumptions", "--json", "--results", runs / EMU_MEMCPY, runs / EMU_GEMM]) == 0
    data = json.loads(capsys.readouterr().out)
    c = data["corrected"]
    assert c["compute"]["source"] == "model" and c["compute_elementwise"]["source"] == "spec"
    assert c["ceilings"] == "emulated" and c["nothing_measured"] is True
    assert all(o["corrected_bound"] == "memory" for o in data["ops"] if o["kind"] == "elementwise")


# ---------- audit: the memcpy run's own ceiling is printed ---------------------------------------
def test_memcpy_run_alone_prints_its_best_aggregate(runs, capsys):
    assert roofline(["--results", runs / HW_MEMCPY]) == 0
    out = capsys.readouterr().out
    best = max(float(r["bandwidth_GBps_best"]) for r in summary(HW_MEMCPY) if r["verified"] == "True")
    (line,) = [ln for ln in out.splitlines() if "best verified aggregate bandwidth over all PCs" in ln]
    assert f"{best:,.1f} GB/s (measured: run {HW_MEMCPY}" in line
    assert "memory roof" in out                                  # and which roof ops are placed under
    md = (runs / HW_MEMCPY / "report.md").read_text()
    assert "best verified aggregate bandwidth over all PCs" in md
    assert "best aggregate over all PCs" in md or "memory roof" in md


def test_emulated_memcpy_alone_prints_model_aggregate(runs, tmp_path, capsys):
    assert roofline(["--results", runs / EMU_MEMCPY, "--out", tmp_path / "o"]) == 0
    out = capsys.readouterr().out
    (line,) = [ln for ln in out.splitlines() if "best verified aggregate bandwidth over all PCs" in ln]
    assert "380.0 GB/s (emulated (model): run" in line and "measured" not in line


# ---------- audit: the default output directory is printed ----------------------------------------
def test_default_output_directory_is_printed(tmp_path, monkeypatch, capsys):
    import harness.commands.roofline as cmd
    monkeypatch.setattr(cmd, "REPO_ROOT", tmp_path)
    assert roofline(["--workload", "smolvla"]) == 0
    assert roofline([]) == 0
    outs = sorted((tmp_path / "results").iterdir())
    assert len(outs) == 2 and all(p.name.startswith("roofline-") for p in outs)   # never overwritten
    printed = capsys.readouterr().out
    for p in outs:
        assert f"to {p} (default directory" in printed
        assert (p / "report.md").is_file()
