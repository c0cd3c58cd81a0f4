"""`harness bench transfer` end to end on the emulator, its model, its reader checks, its plot, and the
roofline's per-inference host transfers."""
from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from harness.cli import main
from harness.errors import UserError
from harness.results.reader import load_run

SMALL = ["bench", "transfer", "--mode", "emu", "--warmup", "1", "--repeats", "2"]


def _run(runs_dir, *extra):
    return main(SMALL + ["--out", str(runs_dir)] + list(extra))


@pytest.fixture(scope="module")
def transfer_run(tmp_path_factory, memcpy_xclbin):
    d = tmp_path_factory.mktemp("transfer_runs")
    assert main(SMALL + ["--out", str(d), "--sizes", "64..1M"]) == 0
    (run,) = list(d.iterdir())
    return run


def test_sweep_writes_a_complete_verified_run_timed_by_the_model(transfer_run):
    from harness.model import predict_transfer
    run = load_run(transfer_run)
    ctx = run.context
    assert ctx["bench"] == "transfer" and ctx["status"] == "complete" and ctx["timing_source"] == "model"
    assert ctx["dtype"] is None and ctx["transfer"]["banks"] == ["HBM[0]", "HBM[31]"]
    s = run.samples
    # 2 banks x 15 sizes x 2 directions x (1 warm-up + 2 measured)
    assert len(s) == 2 * 15 * 2 * 3 and s["verified"].all()
    assert set(s["direction"]) == {"h2d", "d2h"} and set(s["bank"]) == {"HBM[0]", "HBM[31]"}
    # emulated: each sync's time is the model's, for its own direction and size
    for _, r in s.iterrows():
        assert r["time_s"] == pytest.approx(predict_transfer(int(r["bytes"]), r["direction"]).time_s, rel=1e-9)
        assert r["model_time_s"] == pytest.approx(r["time_s"], rel=1e-9)
    assert np.allclose(s["bandwidth_GBps"], s["bytes"] / s["time_s"] / 1e9)
    h2d = s[s["direction"] == "h2d"]
    assert (h2d["h2d_time_s"] == h2d["time_s"]).all() and (h2d["d2h_time_s"] == 0).all()
    assert len(run.summary) == 2 * 15 * 2 and run.summary["verified"].all()


def test_the_end_of_run_table_puts_measured_beside_model(runs_dir, capsys):
    assert _run(runs_dir, "--sizes", "64,1M", "--banks", "HBM[5]") == 0
    out = capsys.readouterr().out
    assert "MODELED" in out and "model us" in out
    line = next(x for x in out.splitlines() if x.strip().startswith("h2d"))
    assert "HBM[5]" in line and "2/2 sizes verified" in line


def test_a_d2h_that_returns_stale_data_fails_and_is_recorded(runs_dir, only_run, monkeypatch):
    monkeypatch.setenv("HARNESS_EMU_FAULT", "stale_d2h")
    assert _run(runs_dir, "--sizes", "64,4K", "--banks", "HBM[0]") == 0
    run_dir = only_run(runs_dir)
    run = load_run(run_dir, require_verified=False)
    assert not run.samples["verified"].any() and run.samples["bandwidth_GBps"].isna().all()
    assert "differ from what was written" in run.summary["errors"].iloc[0]
    assert "stale_d2h" in run.context["emulator"]["fault"]
    with pytest.raises(UserError, match="no verified point"):
        load_run(run_dir)


def test_an_h2d_that_never_lands_fails_after_the_first_repetition(runs_dir, only_run, monkeypatch):
    """Fresh data each repetition: a device holding the previous repetition's data cannot pass."""
    from harness.runtime.session import Session
    real = Session.to_device
    calls = []

    def once(self, bos, nbytes=None):
        calls.append(1)
        return real(self, bos, nbytes) if len(calls) == 1 else 1e-5
    monkeypatch.setattr(Session, "to_device", once)
    assert _run(runs_dir, "--sizes", "64", "--banks", "HBM[0]") == 0
    s = load_run(only_run(runs_dir), require_verified=False).samples
    assert list(s["verified"]) == [True, True, False, False, False, False]


def test_repetition_keys_never_repeat_within_a_run():
    from harness.bench.transfer import rep_key
    keys = {int(rep_key(b, i, r)) for b in range(4) for i in range(23) for r in range(64)}
    assert len(keys) == 4 * 23 * 64


@pytest.mark.parametrize("args,needle", [
    (["--sizes", "0"], "positive"),
    (["--sizes", "100"], "multiple of 8"),
    (["--sizes", "512M"], "larger than HBM[0]"),
    (["--sizes", "4x"], "suffix"),
    (["--banks", "HBM[40]"], "not a memory of the U280"),
    (["--banks", "hbm0"], "not a memory of the U280"),
    (["--banks", ","], "empty"),
    (["--banks", "DDR[0]"], "does not use it"),
    (["--repeats", "0"], "at least 1"),
])
def test_bad_input_is_one_line_exit_2_and_leaves_no_run(runs_dir, capsys, args, needle):
    extra = ([] if "--sizes" in args else ["--sizes", "64"]) + ([] if "--banks" in args else ["--banks", "HBM[0]"])
    assert _run(runs_dir, *extra, *args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err and "Traceback" not in err
    assert not any(runs_dir.iterdir())


def test_a_fault_spec_naming_a_kernel_for_stale_d2h_is_refused(runs_dir, capsys, monkeypatch):
    monkeypatch.setenv("HARNESS_EMU_FAULT", "stale_d2h:bw_memcpy")
    assert _run(runs_dir, "--sizes", "64") == 2
    assert "stale_d2h alone" in capsys.readouterr().err
    assert not any(runs_dir.iterdir())


# ---------------------------------------------------------------- the model
def test_the_model_per_direction_and_its_overrides(monkeypatch):
    from harness.model import data, predict_transfer
    from harness.figures import Figure
    p = predict_transfer(1 << 20, "d2h")
    P = data.params()["pcie"]
    assert p.time_s == pytest.approx(P["latency_s"].value + (1 << 20) / (P["bandwidth_GBps"].value * 1e9))
    assert p.bandwidth_GBps == pytest.approx((1 << 20) / p.time_s / 1e9)
    assert p.figure().source == "model"
    # a parameter file may give one direction its own bandwidth; the other keeps the shared one
    own = dict(P, d2h_bandwidth_GBps=Figure("d2h", 6.0, "GB/s", "measured" if False else "model", "test"))
    monkeypatch.setitem(data.params(), "pcie", own)
    assert predict_transfer(1 << 30, "d2h").bandwidth_GBps < 6.0 < predict_transfer(1 << 30, "h2d").bandwidth_GBps
    with pytest.raises(UserError, match="h2d or d2h"):
        predict_transfer(64, "up")


# ---------------------------------------------------------------- the reader
def _rehash(run):
    ctx = json.loads((run / "context.json").read_text())
    ctx["sha256"] = {n: hashlib.sha256((run / n).read_bytes()).hexdigest() for n in ("samples.csv", "summary.csv")}
    (run / "context.json").write_text(json.dumps(ctx))


def _copy(src, tmp_path):
    import shutil
    dst = tmp_path / src.name
    shutil.copytree(src, dst)
    return dst


@pytest.mark.parametrize("edit,says", [
    (lambda t: t.replace(",h2d,", ",up,", 1), "direction 'up'"),
    (lambda t: t.replace(",h2d,HBM[0],", ",h2d,,", 1), "bank is empty"),
])
def test_the_reader_refuses_an_edited_transfer_run(transfer_run, tmp_path, edit, says):
    run = _copy(transfer_run, tmp_path)
    f = run / "samples.csv"
    f.write_text(edit(f.read_text()))
    _rehash(run)
    with pytest.raises(UserError, match=says.replace("[", r"\[").replace("(", r"\(")):
        load_run(run)


def test_a_transfer_faster_than_the_pcie_link_is_refused(transfer_run, tmp_path):
    """The physical bound: no sync beats PCIe Gen3 x16 (the platform's pcie_link_GBps)."""
    import pandas as pd
    from harness.results.stats import summarize_samples
    run = _copy(transfer_run, tmp_path)
    s = pd.read_csv(run / "samples.csv", keep_default_na=False, dtype=str)
    i = s.index[-1]
    b = int(s.loc[i, "bytes"])
    t = b / 20e9                          # 20 GB/s: above the 15.75 GB/s link
    s.loc[i, "time_s"] = repr(t)
    s.loc[i, "wall_time_s"] = repr(t)
    s.loc[i, "d2h_time_s" if s.loc[i, "direction"] == "d2h" else "h2d_time_s"] = repr(t)
    s.loc[i, "bandwidth_GBps"] = repr(b / t / 1e9)
    s.to_csv(run / "samples.csv", index=False)
    typed = pd.read_csv(run / "samples.csv")
    typed["verified"] = typed["verified"].astype(bool)
    summarize_samples("transfer", typed.to_dict("records")).to_csv(run / "summary.csv", index=False)
    _rehash(run)
    with pytest.raises(UserError, match="PCIe link"):
        load_run(run)


# ---------------------------------------------------------------- plot
def test_plot_draws_a_transfer_run(transfer_run, tmp_path, capsys):
    out = tmp_path / "plots"
    assert main(["plot", str(transfer_run), "--out", str(out)]) == 0
    assert (out / f"{transfer_run.name}.png").stat().st_size > 10_000
    assert "transfer run" in capsys.readouterr().out


# ---------------------------------------------------------------- roofline
def test_the_pipeline_transfers_of_one_inference():
    from harness.roofline.transfers import pipeline_transfers
    from harness.workload.smolvla import SmolVLAConfig
    t = {x.name: x for x in pipeline_transfers(SmolVLAConfig())}
    assert (t["camera image"].bytes, t["camera image"].count, t["camera image"].direction) == (786_432, 3, "h2d")
    assert (t["robot state"].bytes, t["action chunk"].bytes, t["action chunk"].direction) == (128, 6_400, "d2h")


def test_roofline_takes_transfer_times_from_the_run_with_its_source(transfer_run, tmp_path, capsys):
    from harness.model import predict_transfer
    out = tmp_path / "roof"
    assert main(["roofline", "--workload", "smolvla", "--transfer", str(transfer_run), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Host transfers per inference" in text and "emulated (model)" in text
    data = json.loads((out / "roofline.json").read_text())
    lat = data["latency"]
    fig = lat["host_transfers"]["figure"]
    run_id = transfer_run.name
    # an emulated run's figure is a model figure from that run, never measured
    assert fig["source"] == "model" and fig["emulated"] and fig["run_id"] == run_id
    assert data["summary"]["sources"]["host_transfers_s"]["run_ids"] == [run_id]
    # 786,432 B lies between the run's 512K and 1M points: linear between them, which for the
    # affine model is the model's own time
    img = next(i for i in lat["host_transfers"]["items"] if i["name"] == "camera image")
    assert img["time_s"] == pytest.approx(predict_transfer(786_432, "h2d").time_s, rel=1e-9)
    assert "interpolated" in img["detail"]
    comps = {c["key"]: c for c in lat["components"]}
    assert comps["host_transfers_s"]["value_s"] == pytest.approx(fig["value"])
    assert comps["host_transfers_s"]["source"] == "emulated (model)"
    assert "Host transfers per inference" in (out / "report.md").read_text()


def test_a_measured_transfer_run_gives_a_measured_figure(transfer_run):
    """Through the same code: a run on the card (faked here at the Run level) yields 'measured'."""
    from harness.roofline.transfers import per_inference
    from harness.workload.smolvla import SmolVLAConfig
    run = load_run(transfer_run)
    run.context["timing_source"] = "measured"
    run.context["mode"] = "hw"
    if run.emulated:
        pytest.skip("Run.emulated reads more than the timing source")
    fig = per_inference(SmolVLAConfig(), run)["figure"]
    assert fig["source"] == "measured" and fig["run_id"] == run.run_id


def test_roofline_without_a_transfer_run_uses_the_model_so_labelled(tmp_path, capsys):
    out = tmp_path / "roof"
    assert main(["roofline", "--workload", "smolvla", "--out", str(out)]) == 0
    lat = json.loads((out / "roofline.json").read_text())["latency"]
    fig = lat["host_transfers"]["figure"]
    assert fig["source"] == "model" and fig["run_id"] is None and "predict_transfer" in fig["detail"]


def test_roofline_transfer_bad_inputs(transfer_run, tmp_path, runs_dir, capsys):
    # a run that is not a transfer run
    assert main(SMALL[:1] + ["memcpy", "--mode", "emu", "--warmup", "0", "--repeats", "1", "--sizes", "4K",
                             "--pcs", "1", "--direction", "read", "--out", str(runs_dir)]) == 0
    capsys.readouterr()
    (memcpy_run,) = list(runs_dir.iterdir())
    assert main(["roofline", "--workload", "smolvla", "--transfer", str(memcpy_run),
                 "--out", str(tmp_path / "r1")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "bench transfer" in err
    assert not (tmp_path / "r1").exists()
    # a transfer run whose sizes do not reach a camera image
    small = tmp_path / "small"
    assert main(SMALL + ["--out", str(small), "--sizes", "64..4K", "--banks", "HBM[0]"]) == 0
    capsys.readouterr()
    (srun,) = list(small.iterdir())
    assert main(["roofline", "--workload", "smolvla", "--transfer", str(srun), "--out", str(tmp_path / "r2")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "786432 B" in err and "--sizes" in err
    assert not (tmp_path / "r2").exists()
