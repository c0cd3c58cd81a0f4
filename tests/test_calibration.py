"""Calibration rows for the cases of issue 16: cross-group traffic and host transfers.

Each check row must fail when the model is given the mistake it guards against.
"""
from __future__ import annotations

import pytest

from harness.errors import UserError
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
    assert res["X1"].row["cross_group"] == "yes" and res["X1"].use == "check"
    transfers = [r for r in res.values() if r.row["kind"] == "transfer"]
    assert len(transfers) == 32
    assert {r.row["direction"] for r in transfers} == {"h2d", "d2h"}
    assert {r.use for r in transfers} == {"fit", "check"}
    for r in [res["X1"], *transfers]:
        assert r.row["source"] and r.row["conditions"]
        assert r.predicted > 0 and r.measured > 0
        assert abs(r.error) <= calibration.MAX_ROW_ERROR, (r.id, r.error)
    # 'fit' rows are the ones the [pcie] parameters name; the rest are held out
    for name in ("h2d_bandwidth_GBps", "d2h_bandwidth_GBps", "latency_s"):
        fig = data.params()["pcie"][name]
        assert fig.source == "model"
        fits = [r.id for r in transfers if r.use == "fit" and r.id in fig.detail]
        assert fits, name
        assert not [r.id for r in transfers if r.use == "check" and f"{r.id} " in fig.detail + " "]


def test_mib_rows_are_converted_to_decimal():
    r = calibration.evaluate_row(_row("T-d2h-512M"))
    assert r.measured == pytest.approx(12128.5 * 2 ** 20 / 1e9)


def test_cross_group_row_fails_with_a_wrong_lateral_model(monkeypatch):
    ok = calibration.evaluate_row(_row("X1"))
    assert abs(ok.error) < 0.05
    # PG276 read as 'every crossing stream gets 50%' (one master per lateral connection)
    _set(monkeypatch, ("memory", "hbm", "lateral_masters_per_link"), 1)
    bad = calibration.evaluate_row(_row("X1"))
    assert bad.error < -calibration.MAX_ROW_ERROR
    assert "lateral" in bad.limit


def test_cross_group_row_fails_with_a_wrong_lateral_efficiency(monkeypatch):
    _set(monkeypatch, ("memory", "hbm", "lateral_efficiency"), 0.25)
    assert calibration.evaluate_row(_row("X1")).error < -calibration.MAX_ROW_ERROR


def test_cross_group_row_without_the_flag_is_not_a_cross_group_check(monkeypatch):
    row = dict(_row("X1"), cross_group="no")
    _set(monkeypatch, ("memory", "hbm", "lateral_efficiency"), 0.25)
    assert abs(calibration.evaluate_row(row).error) < 0.05     # the flag reaches predict_memcpy


@pytest.mark.parametrize("param,value,rid", [
    ("latency_s", 10e-6, "T-h2d-256"),            # the former assumption
    ("latency_s", 5e-6, "T-d2h-4K"),
    ("h2d_bandwidth_GBps", 12.0, "T-h2d-256M"),   # the former assumption, host to card
    ("d2h_bandwidth_GBps", 7.82, "T-d2h-16M-x64"),
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
    assert "X1" in text and "T-h2d-64" in text and "X-dma-h2d" in text and "transfer:" in text


def test_predict_transfer_adds_latency_per_buffer_and_refuses_bad_input():
    one = predict_transfer("u280", 4096, "d2h")
    many = predict_transfer("u280", 4096, "d2h", buffers=8)
    assert many.time_s == pytest.approx(8 * one.time_s)
    small, big = predict_transfer("u280", 64, "h2d"), predict_transfer("u280", 256 * 2 ** 20, "h2d")
    assert small.time_s == pytest.approx(data.value("pcie", "latency_s"), rel=0.01)
    assert big.bandwidth_GBps == pytest.approx(data.value("pcie", "h2d_bandwidth_GBps"), rel=0.01)
    assert predict_transfer("u280", 2 ** 28, "d2h").bandwidth_GBps > big.bandwidth_GBps
    for kw in (dict(direction="up"), dict(buffers=0), dict(bytes=-1)):
        args = dict(bytes=64, direction="h2d", buffers=1) | kw
        with pytest.raises(UserError):
            predict_transfer("u280", **args)
