"""The statistics of a point, fed known samples: the ceiling is the best verified measured
repetition, warm-ups and failed repetitions never count, and the columns are the documented ones."""
import numpy as np
import pytest

from harness.results.stats import summarize, time_stats

DOC_COLUMNS = ["time_s_median", "time_s_min", "time_s_max", "time_s_p99", "time_s_iqr", "time_s_cv",
               "bandwidth_GBps_best", "bandwidth_GBps_median"]


def _rows():
    rows = []
    # point 0: warm-up faster than anything measured (must be ignored), one failed repetition
    # with the highest rate (must be ignored), four verified measured repetitions.
    rows.append(dict(point=0, phase="warmup", verified=True, time_s=0.5, bandwidth_GBps=99.0))
    rows.append(dict(point=0, phase="measure", verified=False, time_s=0.1, bandwidth_GBps=None))
    for t, bw in ((1.0, 10.0), (2.0, 5.0), (4.0, 2.5), (0.8, 12.5)):
        rows.append(dict(point=0, phase="measure", verified=True, time_s=t, bandwidth_GBps=bw))
    # point 1: all verified
    for t in (1.0, 1.0, 3.0):
        rows.append(dict(point=1, phase="measure", verified=True, time_s=t, bandwidth_GBps=3.0 / t))
    for r in rows:
        r.update(timing_source="measured", error="", size=100 + r["point"])
    return rows


def test_ceiling_is_the_best_verified_measured_repetition_and_median_is_the_median():
    s = summarize(_rows(), ["size"], ("bandwidth_GBps",)).set_index("point")
    for col in DOC_COLUMNS:
        assert col in s.columns, col
    p0 = s.loc[0]
    assert p0["bandwidth_GBps_best"] == 12.5          # max, not the warm-up's 99 nor the failed one
    assert p0["bandwidth_GBps_median"] == np.median([10.0, 5.0, 2.5, 12.5])
    assert p0["time_s_min"] == 0.8 and p0["time_s_max"] == 4.0
    assert p0["time_s_median"] == np.median([1.0, 2.0, 4.0, 0.8])
    assert (p0["n"], p0["n_verified"], bool(p0["verified"])) == (5, 4, False)   # one failure: not verified
    p1 = s.loc[1]
    assert bool(p1["verified"]) and p1["bandwidth_GBps_best"] == 3.0 and p1["bandwidth_GBps_median"] == 3.0


def test_best_is_max_even_when_it_is_not_the_last_or_first():
    rows = [dict(point=0, phase="measure", verified=True, time_s=1.0, bandwidth_GBps=v, timing_source="model",
                 error="", size=1) for v in (3.0, 7.0, 5.0)]
    s = summarize(rows, ["size"], ("bandwidth_GBps",))
    assert s.loc[0, "bandwidth_GBps_best"] == 7.0 and s.loc[0, "bandwidth_GBps_median"] == 5.0


def test_time_stats_of_known_samples():
    t = np.array([1.0, 2.0, 3.0, 4.0])
    st = time_stats(t)
    assert st["time_s_median"] == 2.5 and st["time_s_iqr"] == pytest.approx(1.5)
    assert st["time_s_cv"] == pytest.approx(np.std(t, ddof=1) / 2.5)
    assert st["time_s_p99"] == pytest.approx(np.percentile(t, 99))
    assert all(np.isnan(v) for v in time_stats(np.array([])).values())
