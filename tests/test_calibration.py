"""Calibration rows added for issue 16: host transfers per buffer size, whole-range HBM ports.

Each check row must fail when the model is given the mistake it guards against.
"""
from __future__ import annotations

import pytest

from harness.figures import Figure
from harness.model import calibration, data, predict_transfer


def _row(rid):
    return next(r for r in calibration.load_rows() if r["id"] == rid)


def _set(monkeypatch, path, value):
    node = data.params()
    for k in path[:-1]:
        node = node[k]
    old = node[path[-1]]
    monkeypatch.setitem(node, path[-1], Figure(old.name, value, old.unit, "assumption", "test: a wrong value"))


def test_new_rows_evaluate_with_sources():
    res = {r.id: r for r in calibration.evaluate()}
    assert res["H7"].use == "check" and res["H7"].row["cross_group"] == ""   # crossing not established
    transfers = [r for r in res.values() if r.row["kind"] == "transfer"]
    assert len(transfers) == 32
    assert {r.row["direction"] for r in transfers} == {"h2d", "d2h"}
    assert {r.use for r in transfers} == {"fit", "check"}
    for r in [res["H7"], *transfers]:
        assert r.row["source"] and r.row["conditions"]
        assert r.predicted > 0 and r.measured > 0
        assert abs(r.error) <= calibration.MAX_ROW_ERROR, (r.id, r.error)
    # the [pcie] parameters name the 'fit' rows they come from; the other rows are held out
    for name in ("h2d_bandwidth_GBps", "bandwidth_GBps", "latency_s"):
        fig = data.params()["pcie"][name]
        assert fig.source == "model"
        assert [r.id for r in transfers if r.use == "fit" and r.id in fig.detail], name


def test_mib_rows_are_converted_to_decimal():
    r = calibration.evaluate_row(_row("T-d2h-512M"))
    assert r.measured == pytest.approx(12128.5 * 2 ** 20 / 1e9)


def test_cross_group_column_reaches_the_lateral_term(monkeypatch):
    # No published row establishes a crossing (harness/docs/published-measurements.md, section 3):
    # flag H7's configuration as crossing and see the model's lateral cap take it.
    row = dict(_row("H7"), cross_group="yes")
    crossing = calibration.evaluate_row(row)
    assert "lateral" in crossing.limit and crossing.error < -calibration.MAX_ROW_ERROR
    _set(monkeypatch, ("memory", "hbm", "lateral_efficiency"), 1.0)
    assert abs(calibration.evaluate_row(row).error) < 0.05
    with pytest.raises(ValueError, match="cross_group"):
        calibration.evaluate_row(dict(row, cross_group="maybe"))


@pytest.mark.parametrize("param,value,rid", [
    ("latency_s", 10e-6, "T-h2d-256"),            # the former assumption
    ("latency_s", 5e-6, "T-d2h-4K"),
    ("h2d_bandwidth_GBps", 12.0, "T-h2d-256M"),   # the former assumption, host to card
    ("bandwidth_GBps", 7.82, "T-d2h-16M-x64"),       # d2h takes the shared bandwidth
])
def test_transfer_check_rows_fail_with_wrong_pcie_parameters(monkeypatch, param, value, rid):
    assert abs(calibration.evaluate_row(_row(rid)).error) < 0.10
    _set(monkeypatch, ("pcie", param), value)
    assert abs(calibration.evaluate_row(_row(rid)).error) > 0.15


def test_summary_scores_transfer_rows_and_still_passes():
    s = calibration.summary(calibration.evaluate())
    assert s["passes"]
    assert s["by_kind"]["transfer"]["rows"] == 32 and s["by_kind"]["memcpy"]["rows"] >= 48
    text = calibration.report()
    assert "H7" in text and "T-h2d-64" in text and "X-dma-h2d" in text and "transfer:" in text


def test_transfer_rows_take_each_direction_s_own_parameters():
    small_h, small_d = (predict_transfer(64, d) for d in ("h2d", "d2h"))
    assert small_h.time_s == pytest.approx(data.value("pcie", "latency_s"), rel=0.01)
    big_h, big_d = (predict_transfer(2 ** 29, d) for d in ("h2d", "d2h"))
    assert big_h.bandwidth_GBps == pytest.approx(data.value("pcie", "h2d_bandwidth_GBps"), rel=0.01)
    assert big_d.bandwidth_GBps == pytest.approx(data.value("pcie", "bandwidth_GBps"), rel=0.01)
    assert big_d.bandwidth_GBps > 1.5 * big_h.bandwidth_GBps            # the T rows: 12.7 vs 7.8 GB/s
    assert small_d.time_s == pytest.approx(small_h.time_s, rel=0.01)
