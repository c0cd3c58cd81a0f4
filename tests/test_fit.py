"""`harness predict --fit` and `--params FILE` (issue 16, "A model that learns from your card").

The runs are measured-looking fixtures (tests/fit_runs.py) made from known parameters (TRUE) plus
0.5% noise per repetition: the fit must recover those parameters within the tolerances below and
leave the ones the runs do not pin, refuse emulated runs, and a fitted file must change what
`harness predict`, the emulator and the roofline compute.
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fit_runs as fr  # noqa: E402

from harness.cli import main  # noqa: E402
from harness.model import data  # noqa: E402

FIX = Path(__file__).resolve().parent / "fixtures" / "runs"
# How close the fit must come to TRUE (relative): 0.5% noise per repetition, 5 repetitions per point.
TOLERANCE = {
    ("memory", "hbm", "efficiency"): 0.01,
    ("dispatch", "overhead_s"): 0.02,
    ("gemm", "loop_overhead_cycles"): 0.15,
    ("pcie", "h2d_bandwidth_GBps"): 0.01,
    ("pcie", "bandwidth_GBps"): 0.01,
    ("pcie", "latency_s"): 0.03,
    ("memory", "hbm", "random_txn_ns"): 0.02,
    ("memory", "hbm", "lateral_efficiency"): 0.01,
    ("memory", "hbm", "lateral_latency_ns"): 0.03,
}


def cli(argv, capsys):
    try:
        rc = main([str(a) for a in argv])
    except SystemExit as exc:
        rc = int(exc.code or 0)
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.fixture(autouse=True)
def defaults_after():
    yield
    data.use_params(None)


@pytest.fixture(scope="module")
def card_runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("card")
    return {"memcpy": fr.memcpy_run(out), "gemm": fr.gemm_run(out), "transfer": fr.transfer_run(out)}


@pytest.fixture(scope="module")
def fitted(card_runs, tmp_path_factory):
    """The parameter file fitted to all three runs, and what the command printed."""
    dest = tmp_path_factory.mktemp("fit") / "card.toml"
    rc = main(["predict", "--fit", *map(str, card_runs.values()), "--out", str(dest)])
    assert rc == 0
    data.use_params(None)
    return dest


def test_fit_recovers_the_cards_parameters(fitted, card_runs):
    doc = tomllib.loads(fitted.read_text())
    for path, true in fr.TRUE.items():
        if path == ("memory", "hbm", "random_txn_ns"):
            continue                                      # no random-pattern run here: left (next test)
        node = doc
        for part in path:
            node = node[part]
        assert node["value"] == pytest.approx(true, rel=TOLERANCE[path]), ".".join(path)
        assert node["source"] == "measured" and node["run_ids"] and node["residual"] < 0.01
        default = data.value(*path)
        assert node["previous"] == default and abs(default / true - 1) > 2 * TOLERANCE[path]   # it moved
    fit = doc["fit"]
    assert fit["rms_error_after"] < 0.005 < fit["rms_error_before"]
    assert fit["model_version"] == data.base_version() and fit["points"] > 50
    assert fit["run_ids"] == [Path(p).name for p in card_runs.values()]
    for p in card_runs.values():
        files = fit["files"][Path(p).name]
        assert files["samples.csv"] == hashlib.sha256((Path(p) / "samples.csv").read_bytes()).hexdigest()
        assert set(files) == {"context.json", "samples.csv", "summary.csv"}


def test_fit_says_what_it_left_and_why(fitted):
    left = tomllib.loads(fitted.read_text())["fit"]["left"]
    assert "no run given pins it" in left["memory.hbm.random_txn_ns"]
    # a memcpy launch's start-up (~0.26 us) hides in its dispatch (~40 us): not pinned
    for k in ("axi.read_overhead_ns", "axi.write_overhead_ns"):
        assert "pin" in left[k] or "confounded" in left[k] or "fit as well with its previous value" in left[k]
    assert "memory.hbm.efficiency" not in left
    # no run here has buffers away from their ports
    for k in ("memory.hbm.lateral_efficiency", "memory.hbm.lateral_latency_ns"):
        assert "no run given pins it" in left[k] and "other-group" in left[k]


def test_fit_prints_every_points_error_before_and_after(card_runs, capsys, tmp_path):
    rc, out, err = cli(["predict", "--fit", card_runs["memcpy"], card_runs["transfer"], "--out",
                        tmp_path / "f.toml"], capsys)
    assert rc == 0, err
    rows = [ln for ln in out.splitlines() if ln.startswith("20260101T")]
    n_points = len(fr.MEMCPY_POINTS) + len(fr.TRANSFER_POINTS)
    assert len(rows) == n_points
    errs = [[float(x.rstrip("%")) for x in ln.split() if x.endswith("%")] for ln in rows]
    assert max(abs(b) for b, a in errs) > 10 and max(abs(a) for b, a in errs) < 1.5
    assert "RMS error over" in out and "left at their previous values" in out
    assert "gemm.loop_overhead_cycles" in out and "no run given pins it" in out


def test_an_emulated_run_is_refused(tmp_path, capsys):
    emu = fr.memcpy_run(tmp_path, stamp="20260101T030000Z", mode="emu", points=fr.MEMCPY_POINTS[:3])
    dest = tmp_path / "p.toml"
    rc, out, err = cli(["predict", "--fit", emu, "--out", dest], capsys)
    assert rc == 2 and len(err.strip().splitlines()) == 1
    assert "not measured on a card" in err and "itself" in err and "Traceback" not in err
    assert not dest.exists() and not list(tmp_path.glob("*.toml*"))
    # the same refusal among measured runs, and for XRT emulation's fixture-free kind (the emu fixtures)
    rc, _, err = cli(["predict", "--fit", FIX / "20250101T000000Z-hw-memcpy", FIX / "20250101T070000Z-emu-gemm"], capsys)
    assert rc == 2 and "20250101T070000Z-emu-gemm is not measured on a card" in err


@pytest.mark.parametrize("argv,msg", [
    (["--fit", FIX / "20250101T000000Z-hw-memcpy", FIX / "20250101T000000Z-hw-memcpy"], "given twice"),
    (["--fit", FIX / "20250101T050000Z-hw-gemm"], "incomplete"),
    (["--fit", FIX / "20250101T040000Z-hw-memcpy"], "no verified point"),
    (["--out", "x.toml", "memcpy"], "--out"),
    (["--fit", FIX / "20250101T000000Z-hw-memcpy", "--calibration"], "--calibration"),
    (["--out", "x.toml"], "--fit"),
])
def test_fit_bad_input_is_one_line(argv, msg, capsys):
    rc, out, err = cli(["predict", *argv], capsys)
    assert rc == 2 and msg in err and len(err.strip().splitlines()) == 1, err


def test_random_and_strided_points_pin_random_txn_ns(tmp_path, capsys):
    run = fr.memcpy_run(tmp_path, stamp="20260101T040000Z", points=fr.ACCESS_POINTS, seed=4)
    dest = tmp_path / "access.toml"
    rc, out, err = cli(["predict", "--fit", run, "--out", dest], capsys)
    assert rc == 0, err
    assert "random 64B" in out and "stride 64B/8K" in out
    doc = tomllib.loads(dest.read_text())
    path = ("memory", "hbm", "random_txn_ns")
    got = doc["memory"]["hbm"]["random_txn_ns"]
    assert got["value"] == pytest.approx(fr.TRUE[path], rel=TOLERANCE[path]) and got["previous"] == 13.4
    assert doc["fit"]["rms_error_after"] < 0.005 < doc["fit"]["rms_error_before"]


def test_the_fit_leaves_the_model_as_it_was(card_runs):
    from harness.model import fit
    runs, points, notes = fit.load_fit_runs([card_runs["memcpy"]])
    res = fit.fit_points(points, notes)
    assert res.fitted[("memory", "hbm", "efficiency")]["value"] != pytest.approx(0.915, rel=0.01)
    assert data.value("memory", "hbm", "efficiency") == 0.915 and data.value("dispatch", "overhead_s") == 50e-6
    with pytest.raises(ZeroDivisionError):
        with data.trial({("dispatch", "overhead_s"): 1.0}):
            assert data.value("dispatch", "overhead_s") == 1.0
            1 / 0
    assert data.value("dispatch", "overhead_s") == 50e-6


# ---------------------------------------------------------------- --params FILE
def test_a_fitted_file_changes_predict(fitted, capsys):
    rc, base, _ = cli(["predict", "memcpy", "--json"], capsys)
    rc2, tuned, err = cli(["predict", "memcpy", "--json", "--params", fitted], capsys)
    assert rc == rc2 == 0, err
    a, b = json.loads(base), json.loads(tuned)
    eff = tomllib.loads(fitted.read_text())["memory"]["hbm"]["efficiency"]["value"]
    assert b["bandwidth_GBps"] == pytest.approx(a["bandwidth_GBps"] * eff / 0.915, rel=1e-3)
    assert str(fitted) in b["model_version"] and str(fitted) not in a["model_version"]
    # before the subcommand too, and for latency and --calibration
    rc, out, _ = cli(["predict", "--params", fitted, "latency"], capsys)
    assert rc == 0 and "38 us" in out
    rc, cal0, _ = cli(["predict", "--calibration"], capsys)
    rc1, cal1, _ = cli(["predict", "--calibration", "--params", fitted], capsys)
    assert rc == rc1 == 0 and cal0 != cal1


def test_a_fitted_file_changes_the_emulators_time_and_is_recorded(fitted, tmp_path, capsys):
    from harness.results.reader import load_run
    times = {}
    for name, extra in (("default", []), ("fitted", ["--params", fitted])):
        out = tmp_path / name
        rc, _, err = cli(["bench", "memcpy", "--mode", "emu", "--warmup", "0", "--repeats", "1", "--kernel-reps", "2",
                          "--sizes", "1M", "--pcs", "1", "--direction", "read", "--out", out, *extra], capsys)
        assert rc == 0, err
        run = load_run(next(out.iterdir()))
        times[name] = float(run.summary["time_s_median"].iloc[0])
        mp = run.context["model_params"]
        if name == "fitted":
            assert mp == {"file": str(fitted), "sha256": hashlib.sha256(fitted.read_bytes()).hexdigest(),
                          "overlay": True, "defaults_sha256": mp["defaults_sha256"]}
        else:
            assert mp["overlay"] is False and mp["file"] == "harness/data/model_params.toml"
    from harness import model
    data.use_params(fitted)
    plat = model.load_platform("u280")
    want = model.dispatch_overhead_s() + model.predict_memcpy(plat, memory="hbm", ports=1, direction="read",
                                                              width_bits=512, clock_mhz=300, burst=64,
                                                              outstanding=32, bytes=2 << 20).time_s
    assert times["fitted"] == pytest.approx(want, rel=1e-6) and times["fitted"] != pytest.approx(times["default"])


def test_a_fitted_file_changes_the_roofline(fitted, tmp_path, capsys):
    got = {}
    for name, extra in (("default", []), ("fitted", ["--params", fitted])):
        out = tmp_path / name
        rc, _, err = cli(["roofline", "--results", FIX / "20250101T000000Z-hw-memcpy", "--workload", "smolvla",
                          "--out", out, *extra], capsys)
        assert rc == 0, err
        got[name] = json.loads((out / "roofline.json").read_text())
    assert got["fitted"]["model_params"]["file"] == str(fitted) and not got["default"]["model_params"]["overlay"]
    assert got["fitted"]["summary"]["dispatch_s"] == pytest.approx(
        tomllib.loads(fitted.read_text())["dispatch"]["overhead_s"]["value"])
    assert got["default"]["summary"]["dispatch_s"] == pytest.approx(50e-6)


GOOD = '[memory.hbm]\nefficiency = { value = 0.85, unit = "1", source = "assumption", detail = "test" }\n'


@pytest.mark.parametrize("text,msg", [
    ("[memory.hbm\nefficiency = 1", "not valid TOML"),
    (b"\x00\xff\xfe binary", "not valid TOML"),
    ('[memory.hbm]\nefficency = { value = 0.9, unit = "1", source = "assumption", detail = "typo" }\n',
     "memory.hbm.efficency is not a parameter"),
    ('[memory.hbm]\nefficiency = 0.9\n', "must be a table"),
    ('[memory.hbm]\nefficiency = { value = 1.2, unit = "1", source = "assumption", detail = "x" }\n', "above 1"),
    ('[pcie]\nlatency_s = { value = -1e-6, unit = "s", source = "assumption", detail = "x" }\n', "at least 0"),
    ('[pcie]\nbandwidth_GBps = { value = 0, unit = "GB/s", source = "assumption", detail = "x" }\n', "divides"),
    ('[pcie]\nbandwidth_GBps = { value = "fast", unit = "GB/s", source = "assumption", detail = "x" }\n',
     "not a finite number"),
    ('[pcie]\nlatency_s = { value = 10, unit = "us", source = "assumption", detail = "x" }\n', "convert"),
    ('[pcie]\nlatency_s = { value = 1e-5, unit = "s", source = "measured", detail = "x" }\n', "names no run"),
    ('[pcie]\nlatency_s = { value = 1e-5, unit = "s", source = "guess", detail = "x" }\n', "source 'guess'"),
    ('[fit]\nmodel_version = "harness.model v0"\n' + GOOD, "refit"),
    ('[fit]\nrun_ids = ["20250101T000000Z-hw-memcpy"]\n' + GOOD, "no model_version"),   # the version line deleted
    ('[reference_designs.hpcc_u280]\npublished_gflops = { value = 1.0, unit = "GFLOP/s", source = "spec", '
     'detail = "x" }\n', "not a parameter"),
])
def test_a_bad_params_file_is_refused_in_one_line(tmp_path, capsys, text, msg):
    f = tmp_path / "bad.toml"
    f.write_bytes(text if isinstance(text, bytes) else text.encode())
    rc, out, err = cli(["predict", "memcpy", "--params", f], capsys)
    assert rc == 2 and msg in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert err.startswith(f"error: --params {f}")


def test_a_bad_params_file_stops_a_bench_and_the_roofline_before_anything_is_written(tmp_path, capsys):
    f = tmp_path / "bad.toml"
    f.write_text("not = [toml")
    out = tmp_path / "runs"
    rc, _, err = cli(["bench", "memcpy", "--mode", "emu", "--sizes", "4K", "--out", out, "--params", f], capsys)
    assert rc == 2 and "not valid TOML" in err and not out.exists()
    rc, _, err = cli(["roofline", "--results", FIX / "20250101T000000Z-hw-memcpy", "--out", tmp_path / "r",
                      "--params", f], capsys)
    assert rc == 2 and "not valid TOML" in err and not (tmp_path / "r").exists()
    rc, _, err = cli(["predict", "memcpy", "--params", tmp_path / "missing.toml"], capsys)
    assert rc == 2 and "no such file" in err


def test_a_hand_written_file_overlays_only_what_it_names(tmp_path, capsys):
    f = tmp_path / "mine.toml"
    f.write_text(GOOD)
    data.use_params(f)
    assert data.value("memory", "hbm", "efficiency") == 0.85
    assert data.value("memory", "hbm", "random_txn_ns") == 13.4 and data.value("dispatch", "overhead_s") == 50e-6
    assert data.params_file()["sha256"] == hashlib.sha256(f.read_bytes()).hexdigest()
    data.use_params(None)
    assert data.value("memory", "hbm", "efficiency") == 0.915 and not data.params_file()["overlay"]


def test_a_fit_started_from_a_params_file_keeps_what_it_did_not_refit(card_runs, tmp_path, capsys):
    start = tmp_path / "start.toml"
    start.write_text('[axi]\nread_overhead_ns = { value = 99, unit = "ns", source = "assumption", detail = "mine" }\n')
    dest = tmp_path / "next.toml"
    rc, out, err = cli(["predict", "--fit", card_runs["memcpy"], "--params", start, "--out", dest], capsys)
    assert rc == 0, err
    doc = tomllib.loads(dest.read_text())
    assert doc["axi"]["read_overhead_ns"]["value"] == 99 and doc["fit"]["start"]["file"] == str(start)
    assert doc["memory"]["hbm"]["efficiency"]["source"] == "measured"
    data.use_params(dest)                       # the written file is itself a valid --params file
    assert data.value("axi", "read_overhead_ns") == 99


def test_a_direction_of_its_own_is_a_parameter_too(tmp_path):
    """harness.model.transfer takes pcie.<h2d|d2h>_<latency_s|bandwidth_GBps> before the shared keys."""
    from harness.model.transfer import predict_transfer
    f = tmp_path / "dirs.toml"
    f.write_text('[pcie]\nd2h_latency_s = { value = 30e-6, unit = "s", source = "assumption", detail = "x" }\n')
    before = {d: predict_transfer(64, d).time_s for d in ("h2d", "d2h")}
    data.use_params(f)
    assert predict_transfer(64, "d2h").time_s == pytest.approx(before["d2h"] - 12.7e-6 + 30e-6)
    assert predict_transfer(64, "h2d").time_s == pytest.approx(before["h2d"])
    f.write_text('[pcie]\nd2h_latency_s = { value = 30, unit = "us", source = "assumption", detail = "x" }\n')
    with pytest.raises(Exception, match="convert"):
        data.use_params(f)


# ---------------------------------------------------------------- cross-switch runs (--port-pc, --target-pc)
LATERAL = [("memory", "hbm", "lateral_efficiency"), ("memory", "hbm", "lateral_latency_ns")]


def _fit(runs, dest, capsys):
    rc, out, err = cli(["predict", "--fit", *runs, "--out", dest], capsys)
    assert rc == 0, err
    return tomllib.loads(dest.read_text()), out


def test_cross_switch_points_pin_the_lateral_parameters(tmp_path, capsys):
    """A --port-pc/--target-pc run of a card whose lateral link passes 62% (the default 50%) and adds
    70 ns (48.9): recovered within TOLERANCE, with the efficiency from the local cells beside them."""
    run = fr.switch_run(tmp_path)
    doc, out = _fit([run], tmp_path / "switch.toml", capsys)
    assert "port 0 -> PC 30" in out and "port 7 -> PC 19" in out            # every cell is a point
    for path in [("memory", "hbm", "efficiency"), *LATERAL]:
        got = doc["memory"]["hbm"][path[-1]]
        assert got["value"] == pytest.approx(fr.SWITCH_TRUE[path], rel=TOLERANCE[path]), path
        assert got["source"] == "measured" and got["run_ids"] == [Path(run).name]
    assert doc["memory"]["hbm"]["lateral_efficiency"]["previous"] == 0.5
    assert doc["fit"]["rms_error_after"] < 0.005 < 0.05 < doc["fit"]["rms_error_before"]
    # the fitted file moves the model's other-group prediction to the card's
    from harness import model
    data.use_params(tmp_path / "switch.toml")
    fitted = model.predict_memcpy("u280", direction="read", bytes=64 << 20, burst=16, outstanding=16,
                                  target="other-group").steady_GBps
    with data.trial(fr.SWITCH_TRUE):
        data.use_params(None)
        true = model.predict_memcpy("u280", direction="read", bytes=64 << 20, burst=16, outstanding=16,
                                    target="other-group").steady_GBps
    assert fitted == pytest.approx(true, rel=0.01)


def test_cross_switch_points_read_as_local_would_not_fit(tmp_path, capsys, monkeypatch):
    """The check can fail: a fit that predicts every cell as if the buffer lay at its port (the fit
    before these points were taken) cannot explain the other-group cells and pins no lateral parameter."""
    from harness import model
    run = fr.switch_run(tmp_path)
    monkeypatch.setattr(model, "target_of", lambda *a, **k: "local")
    doc, out = _fit([run], tmp_path / "blind.toml", capsys)
    assert not any(p[-1] in doc["memory"].get("hbm", {}) for p in LATERAL)
    assert doc["fit"]["rms_error_after"] > 0.05


def test_streams_alone_pin_the_lateral_efficiency_and_leave_the_latency_with_a_reason(tmp_path, capsys):
    seq = [p for p in fr.SWITCH_POINTS if len(p) == 4]
    run = fr.switch_run(tmp_path, points=seq)
    doc, _ = _fit([run], tmp_path / "seq.toml", capsys)
    path = ("memory", "hbm", "lateral_efficiency")
    assert doc["memory"]["hbm"]["lateral_efficiency"]["value"] == pytest.approx(fr.SWITCH_TRUE[path], rel=0.01)
    why = doc["fit"]["left"]["memory.hbm.lateral_latency_ns"]
    assert "round trip" in why or "no point" in why, why


def test_other_group_cells_without_local_ones_leave_the_lateral_efficiency_confounded(tmp_path, capsys):
    away = [p for p in fr.SWITCH_POINTS if len(p) == 4 and model_relation(p) == "other-group"]
    run = fr.switch_run(tmp_path, points=away)
    doc, _ = _fit([run], tmp_path / "away.toml", capsys)
    left = doc["fit"]["left"]
    fitted = set(doc.get("memory", {}).get("hbm", {}))
    # efficiency x lateral_efficiency is all these cells show: one of the two is left, confounded
    assert len(fitted & {"efficiency", "lateral_efficiency"}) == 1
    assert any("confounded" in left.get(f"memory.hbm.{k}", "") for k in ("efficiency", "lateral_efficiency"))


def model_relation(p) -> str:
    from harness import model
    return model.switch_target(model.load_platform("u280"), p[2], p[3])


def test_an_emulated_cross_switch_run_is_refused(tmp_path, capsys):
    runs = tmp_path / "runs"
    assert main(["bench", "memcpy", "--mode", "emu", "--direction", "read", "--port-pc", "0,6", "--target-pc",
                 "local,other-group", "--warmup", "0", "--repeats", "1", "--kernel-reps", "2", "--out",
                 str(runs)]) == 0
    capsys.readouterr()
    run = next(runs.iterdir())
    dest = tmp_path / "p.toml"
    rc, out, err = cli(["predict", "--fit", run, "--out", dest], capsys)
    assert rc == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "not measured on a card" in err and "itself" in err
    assert not dest.exists() and not list(tmp_path.glob("*.toml*"))


def test_a_copy_cell_asked_for_as_a_pc_and_as_its_relation_is_left_out_with_a_note(tmp_path, capsys):
    """--target-pc other-group,7 from port PC 0: both put `in` in PC 7; only the PC puts `out` there too
    (copy), and the columns cannot tell the two apart."""
    seq = [p for p in fr.SWITCH_POINTS if len(p) == 4]
    run = fr.switch_run(tmp_path, points=seq + [("copy", 1 << 20, 0, 7)],
                        requested=["other-group"] + sorted({str(p[3]) for p in seq} | {"7"}))
    _, out = _fit([run], tmp_path / "c.toml", capsys)
    assert f"point {len(seq)}: copy to PC 7 was asked for both as a PC and as its relation" in out
    assert "port 0 -> PC 7" not in out


def test_cross_switch_cells_of_a_run_without_its_connectivity_are_left_out_with_a_note(tmp_path, capsys):
    """The cells are placed from the run's own connectivity (context.json), never from today's design
    files: a run that does not record it cannot have its cross-switch cells fitted."""
    from harness.designs import load_design
    design = load_design("memcpy").to_context()
    design["kernels"]["bw_memcpy"].pop("args")
    seq = [p for p in fr.SWITCH_POINTS if len(p) == 4]
    run = fr.switch_run(tmp_path, points=seq, context={"design": design})
    doc, out = _fit([run], tmp_path / "n.toml", capsys)
    assert "has no bw_memcpy connectivity to place it by; left out" in out
    assert "lateral_efficiency" not in doc["memory"]["hbm"] and "port 0 -> PC 30" not in out


def test_predict_transfer_is_the_models_sync_time_and_takes_a_fitted_file(fitted, capsys):
    """`harness predict transfer` prints predict_transfer's figure per size and direction, and a fitted
    [pcie] changes it (the same figure the emulator's bo.sync and the roofline's transfers use)."""
    from harness.model.transfer import predict_transfer
    rc, base, err = cli(["predict", "transfer", "--sizes", "64,1M", "--json"], capsys)
    assert rc == 0, err
    pts = {(p["direction"], p["bytes"]): p for p in json.loads(base)["points"]}
    assert set(pts) == {("h2d", 64), ("h2d", 1 << 20), ("d2h", 64), ("d2h", 1 << 20)}
    for (d, n), p in pts.items():
        assert p["time_s"] == pytest.approx(predict_transfer(n, d).time_s) and p["figure"]["source"] == "model"
    rc, tuned, err = cli(["predict", "transfer", "--sizes", "64,1M", "--json", "--params", fitted], capsys)
    assert rc == 0, err
    lat = tomllib.loads(fitted.read_text())["pcie"]["latency_s"]["value"]
    small = next(p for p in json.loads(tuned)["points"] if p["direction"] == "h2d" and p["bytes"] == 64)
    assert small["time_s"] == pytest.approx(lat + 64 / (fr.TRUE[("pcie", "h2d_bandwidth_GBps")] * 1e9), rel=0.02)
    assert small["time_s"] != pytest.approx(pts[("h2d", 64)]["time_s"], rel=0.05)
    for bad in (["--direction", "up"], ["--sizes", "1Q"], ["--sizes", ""]):
        rc, _, err = cli(["predict", "transfer", *bad], capsys)
        assert rc == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
