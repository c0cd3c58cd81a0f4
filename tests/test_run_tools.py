"""`harness plot RUN_DIR` and `harness compare RUN_A RUN_B` on frozen runs and runs held in memory."""
from __future__ import annotations

import json
import pathlib
import shutil

import numpy as np
import pandas as pd
import pytest

FIX = pathlib.Path(__file__).parent / "fixtures" / "runs"
HW_MEMCPY = "20250101T000000Z-hw-memcpy"
EMU_MEMCPY = "20250101T010000Z-emu-memcpy"
HW_GEMM = "20250101T020000Z-hw-gemm"
HW_LATENCY = "20250101T030000Z-hw-latency"
EMU_GEMM = "20250101T070000Z-emu-gemm"


def cli(argv) -> int:
    from harness.cli import main
    try:
        return main([str(a) for a in argv])
    except SystemExit as exc:
        return int(exc.code or 0)


@pytest.fixture()
def runs(tmp_path):
    dst = tmp_path / "runs"
    shutil.copytree(FIX, dst)
    return dst


def test_plot_draws_each_bench_outside_the_run_directories(runs, tmp_path, capsys):
    given = [runs / HW_MEMCPY, runs / EMU_MEMCPY, runs / HW_GEMM, runs / HW_LATENCY]
    before = {g: sorted(p.name for p in g.iterdir()) for g in given}
    out = tmp_path / "plots"
    assert cli(["plot", *given, "--out", out]) == 0
    for g in given:
        assert (out / f"{g.name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert sorted(p.name for p in g.iterdir()) == before[g]
    text = capsys.readouterr().out
    assert f"{EMU_MEMCPY}" in text and "EMULATED" in text and str(out) in text


def test_plot_panels_hold_what_the_run_holds():
    import matplotlib.pyplot as plt
    from harness.results.plots import draw
    from harness.results.reader import load_run
    m = load_run(FIX / HW_MEMCPY)
    fig = draw(m)
    try:
        # a column per direction: aggregate panels above, per-CU panels below
        aggs = [a for a in fig.axes if a.get_visible() and "aggregate" in a.get_ylabel()]
        per_cus = [a for a in fig.axes if a.get_visible() and "per CU" in a.get_ylabel()]
        assert len(aggs) == len(per_cus) == m.summary["direction"].nunique()
        labels = {ln.get_label() for agg in aggs for ln in agg.lines}
        verified = m.summary[m.summary["verified"]]
        series = {f"{d}, {int(p)} PC{'s' if p > 1 else ''}" for d, p in zip(verified["direction"], verified["pcs"])}
        # each measured series beside the model's figure for the same points, dashed
        assert labels == {f"{s}: measured" for s in series} | {f"{s}: model" for s in series}
        assert all(ln.get_linestyle() == "--" for agg in aggs for ln in agg.lines if ln.get_label().endswith(": model"))
        assert "measured" in fig._suptitle.get_text()
    finally:
        plt.close(fig)
    lat = load_run(FIX / HW_LATENCY)
    fig = draw(lat)
    try:
        cdf = fig.axes[0]
        (ln,) = cdf.lines
        assert ln.get_ydata()[-1] == pytest.approx(1.0) and "dispatch" in cdf.get_title()
    finally:
        plt.close(fig)


def test_plot_refuses_bad_input(runs, tmp_path, capsys):
    assert cli(["plot", runs / "not-a-run", "--out", tmp_path / "o"]) == 2
    assert cli(["plot", runs / HW_MEMCPY, "--out", runs / HW_GEMM]) == 2
    err = capsys.readouterr().err
    assert "run directory" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def _run(times: dict, run_id: str, timing="measured"):
    """A latency-like run in memory: point (M) -> its measured repetition times."""
    from harness.results.reader import Run
    rows, summ = [], []
    for M, ts in times.items():
        for i, t in enumerate(ts):
            rows.append({"point": M, "phase": "measure", "repetition": i, "time_s": t, "verified": True,
                         "kind": "gemm", "M": M, "K": 64, "N": 64})
        summ.append({"kind": "gemm", "M": M, "K": 64, "N": 64, "point": M, "n": len(ts), "verified": True,
                     "time_s_median": float(np.median(ts))})
    ctx = {"run_id": run_id, "bench": "latency", "timing_source": timing, "mode": "hw"}
    return Run(pathlib.Path(run_id), ctx, pd.DataFrame(rows), pd.DataFrame(summ))


def test_compare_marks_what_changed_and_only_that():
    from harness.results.compare import compare
    rng = np.random.default_rng(1)
    base = {1: 1e-3 * (1 + 0.01 * rng.standard_normal(8)), 2: 2e-3 * (1 + 0.01 * rng.standard_normal(8))}
    same = {1: 1e-3 * (1 + 0.01 * rng.standard_normal(8)), 2: 2e-3 * (1 + 0.01 * rng.standard_normal(8)) * 1.30}
    rows = {r["M"]: r for r in compare(_run(base, "A"), _run(same, "B"))}
    assert not rows[1]["significant"] and rows[1]["ci_low"] < 0 < rows[1]["ci_high"]
    assert rows[2]["significant"] and rows[2]["p_value"] < 0.05
    assert rows[2]["change"] == pytest.approx(0.30, abs=0.03) and rows[2]["ci_low"] > 0.2


def test_compare_never_marks_what_a_rank_test_cannot_decide():
    from harness.results.compare import compare
    rows = compare(_run({1: [1.0, 1.01, 0.99]}, "A"), _run({1: [2.0, 2.01, 1.99]}, "B"))
    (r,) = rows
    assert r["change"] == pytest.approx(1.0) and not r["significant"] and "cannot reach" in r["note"]
    (only,) = compare(_run({1: [1.0] * 4}, "A"), _run({2: [1.0] * 4}, "B"))[:1]
    assert "only in run" in only["note"]


def test_compare_cli(runs, capsys):
    assert cli(["compare", runs / HW_MEMCPY, runs / EMU_MEMCPY]) == 0
    out = capsys.readouterr().out
    assert "median A us" in out and "95% interval" in out and "points changed significantly" in out
    assert "emulated (model)" in out
    assert cli(["compare", runs / HW_MEMCPY, runs / HW_MEMCPY, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and all(r["change"] in (0.0, None) and not r["significant"] for r in rows)
    assert cli(["compare", runs / HW_MEMCPY, runs / HW_GEMM]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "same bench" in err
