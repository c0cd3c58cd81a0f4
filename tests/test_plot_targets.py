"""Review of issue 16: a cross-switch run drawn and planned without letting one figure stand for many.

`harness plot` keeps each target (local, other-group, a PC) a series of its own, every measured
series beside the model's (dashed), for the size sweep and for the access patterns; `--target-pc`
without `--sizes` stops the default sweep where the buffers still fit; a fitted parameter says
where it came from in `harness predict`'s explanation.
"""
from __future__ import annotations

import argparse

import numpy as np
import pytest

from harness.cli import main
from harness.results.reader import load_run

SMALL = ["bench", "memcpy", "--mode", "emu", "--warmup", "0", "--repeats", "2", "--kernel-reps", "2",
         "--direction", "read", "--pcs", "1"]


def _draw(run_dir):
    from harness.results.plots import draw
    return draw(load_run(run_dir))


def _series(ax):
    """{label: (x, y)} of the lines an axes draws."""
    return {ln.get_label(): (np.asarray(ln.get_xdata(), float), np.asarray(ln.get_ydata(), float))
            for ln in ax.lines}


def test_a_cross_switch_size_sweep_keeps_each_target_beside_the_model(only_run, runs_dir):
    import matplotlib.pyplot as plt
    assert main(SMALL + ["--out", str(runs_dir), "--target-pc", "local,other-group", "--sizes", "1M,4M"]) == 0
    run = load_run(only_run(runs_dir))
    fig = _draw(only_run(runs_dir))
    try:
        agg = fig.axes[0]
        lines = _series(agg)
        local = [k for k in lines if "local" in k and not k.endswith(": model")]
        other = [k for k in lines if "HBM[7]" in k and not k.endswith(": model")]
        assert len(local) == 1 and len(other) == 1, list(lines)
        s = run.summary
        for label, target in ((local[0], 0), (other[0], 7)):
            want = s[s["target_pc"] == target].sort_values("bytes_per_pc")["bandwidth_GBps_median"].to_numpy()
            # the series is this target's own medians: never a median across targets
            assert np.allclose(lines[label][1], want, rtol=1e-9), (label, lines[label][1], want)
            model = label.rsplit(":", 1)[0] + ": model"
            assert model in lines
            assert np.allclose(lines[model][1], want, rtol=1e-6)    # emulated: the figure is the model's
        assert all(ln.get_linestyle() == "--" for ln in agg.lines if ln.get_label().endswith(": model"))
        assert (lines[other[0]][1] < 0.6 * lines[local[0]][1]).all()      # the lateral cap shows, size by size
    finally:
        plt.close(fig)


def test_pattern_points_of_two_targets_are_two_series(only_run, runs_dir):
    import matplotlib.pyplot as plt
    assert main(SMALL + ["--out", str(runs_dir), "--target-pc", "local,other-group", "--pattern", "random",
                         "--txn-bytes", "64,1K", "--sizes", "64K"]) == 0
    fig = _draw(only_run(runs_dir))
    try:
        ax = [a for a in fig.axes if a.get_visible() and a.get_title().startswith("random access")][0]
        lines = _series(ax)
        measured = {k: v for k, v in lines.items() if not k.endswith(": model")}
        assert len(measured) == 2 and len(lines) == 4, list(lines)
        (la, (_, ya)), (lb, (_, yb)) = sorted(measured.items())
        assert not np.allclose(ya, yb), (la, ya, lb, yb)
    finally:
        plt.close(fig)


def _plan(argv):
    from harness.commands import bench_memcpy
    p = argparse.ArgumentParser()
    bench_memcpy.add_arguments(p)
    return bench_memcpy.plan_from_args(p.parse_args(argv))


@pytest.mark.parametrize("argv, largest", [
    (["--target-pc", "9", "--pcs", "1,8", "--direction", "read"], 16 << 20),      # 8 CUs' inputs in one PC
    (["--target-pc", "local,same-group,other-group", "--pcs", "1,16", "--direction", "read,copy"], 128 << 20),
])
def test_target_pc_without_sizes_stops_where_the_buffers_fit(argv, largest, memcpy_xclbin):
    from harness.bench import memcpy as mc
    from harness.model import load_platform
    plan = _plan(["--mode", "emu"] + argv)
    targets = {p.target for p in plan.points}
    for t in targets:
        mine = [p for p in plan.points if p.target == t]
        assert max(p.bytes_per_pc for p in mine) == largest
        kern = mc.memcpy_design(False)[1]
        assert max(mc.pc_loads(kern, load_platform("u280"), mine).values()) <= 256 << 20
    assert any("per PC not run" in n for n in plan.notes)


def test_given_sizes_that_do_not_fit_are_still_refused(memcpy_xclbin):
    from harness.errors import UserError
    with pytest.raises(UserError, match="would hold"):
        _plan(["--mode", "emu", "--target-pc", "9", "--pcs", "8", "--direction", "read", "--sizes", "64M"])


def test_a_fitted_efficiency_is_not_called_calibrated(tmp_path, capsys):
    p = tmp_path / "card.toml"
    p.write_text('[memory.hbm]\nefficiency = { value = 0.87, unit = "1", source = "measured", detail = "x", '
                 'run_ids = ["20260101T000000Z-hw-memcpy"] }\n')
    assert main(["predict", "--params", str(p), "memcpy"]) == 0
    out = capsys.readouterr().out
    assert "controller efficiency 0.87 (fitted on run(s) 20260101T000000Z-hw-memcpy" in out
    assert main(["predict", "memcpy"]) == 0
    assert "controller efficiency 0.915 (calibrated" in capsys.readouterr().out
