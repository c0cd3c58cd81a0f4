"""Cross-switch traffic: ports on a PC range, buffers placed by PC, the lateral cost in the model,
the emulator and the bench, and the heat map."""
from __future__ import annotations

import json

import numpy as np
import pytest

from harness import model
from harness.bench import memcpy as mc
from harness.cli import main
from harness.designs import load_design
from harness.errors import UserError
from harness.results.reader import load_run

SMALL = ["bench", "memcpy", "--mode", "emu", "--warmup", "0", "--repeats", "1", "--kernel-reps", "2",
         "--sizes", "64K"]
PLAT = model.load_platform("u280")


def _run(runs_dir, *extra):
    return main(SMALL + ["--out", str(runs_dir)] + list(extra))


# ---------------------------------------------------------------- the model
def test_switch_targets_are_named_from_the_switch_groups():
    assert model.switch_target(PLAT, 5, 5) == "local"
    assert [model.switch_target(PLAT, 4, t) for t in (5, 7)] == ["same-group", "same-group"]
    assert [model.switch_target(PLAT, 3, t) for t in (4, 31)] == ["other-group", "other-group"]
    with pytest.raises(UserError, match="0 to 31"):
        model.switch_target(PLAT, 0, 32)


def test_other_group_is_capped_by_the_lateral_switch_and_pays_its_latency():
    kw = dict(direction="read", burst=16, outstanding=16, bytes=64 << 20)
    local = model.predict_memcpy(PLAT, target="local", **kw)
    same = model.predict_memcpy(PLAT, target="same-group", **kw)
    other = model.predict_memcpy(PLAT, target="other-group", **kw)
    assert same.bandwidth_GBps == local.bandwidth_GBps
    assert other.limit == "lateral switch 50%"
    assert other.steady_GBps == pytest.approx(0.5 * local.steady_GBps)
    # the extra latency lengthens the round trip (a Little's-law ceiling), with its source as data
    lat = model.data.params()["memory"]["hbm"]["lateral_latency_ns"]
    assert lat.source == "spec" and "Shuhai" in lat.detail and lat.value == pytest.approx(22 / 0.45, rel=1e-2)
    assert other.limits["Little's law, reads"] < local.limits["Little's law, reads"]
    with pytest.raises(UserError, match="target"):
        model.predict_memcpy(PLAT, target="far", **kw)


def test_cus_sharing_one_pc_share_its_bandwidth():
    kw = dict(direction="read", burst=16, outstanding=16, bytes=64 << 20)
    one = model.predict_memcpy_cu(PLAT, **kw)
    crowded = model.predict_memcpy_cu(PLAT, crowd=4, own_pcs=1, **kw)
    assert crowded.time_s == pytest.approx(4 * one.time_s, rel=0.01)


def test_predict_memcpy_takes_the_target_as_a_relation_or_a_pc(capsys):
    assert main(["predict", "memcpy", "--port-pc", "0", "--target-pc", "5", "--json"]) == 0
    far = json.loads(capsys.readouterr().out)
    assert far["inputs"]["target"] == "other-group" and far["limit"] == "lateral switch 50%"
    assert main(["predict", "memcpy", "--target-pc", "same-group", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["inputs"]["target"] == "same-group"
    for bad, needle in ((["--target-pc", "far"], "use local, same-group"), (["--target-pc", "32"], "0 to 31")):
        assert main(["predict", "memcpy", *bad]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and needle in err


# ---------------------------------------------------------------- where buffers go
@pytest.mark.parametrize("target", ["same-group", "other-group"])
def test_relative_targets_are_what_they_say_and_one_buffer_per_pc(target):
    d = load_design("memcpy")
    kern = d.kernels["bw_memcpy"]
    where = mc.placement(kern, PLAT, target, kern.cus, ("in", "out"))
    assert sorted(where.values()) == list(range(32))            # a permutation: no PC holds two
    for (cu, port), pc in where.items():
        home = int(kern.args[kern.arg_index(port)].home_for(cu)[4:-1])
        assert model.switch_target(PLAT, home, pc) == target
        # an `in` lands in another CU's `out` PC: a CU using its own PCs would not do a partner's job
        assert (pc % 2) != (home % 2)


def test_a_buffer_is_placed_in_an_explicit_pc_and_a_stale_xclbin_is_refused(memcpy_xclbin, tmp_path):
    from harness.runtime import open_runtime
    from harness.runtime.session import Session
    design = load_design("memcpy")
    sess = Session(open_runtime("emu"), design, memcpy_xclbin)
    b = sess.alloc("bw_memcpy", 3, "out", 4096, pc=30)
    assert sess.placed_in("bw_memcpy", 3, "out", b) == "HBM[30]"
    # an xclbin linked before the ports reached a range (CU 1's `in` on HBM[0] alone): refused, not copied
    desc = json.loads(memcpy_xclbin.read_text())
    cfg = (memcpy_xclbin.parent / desc["cfg"]).read_text().replace("sp=bw_memcpy_1.in:HBM[0:31].0\n",
                                                                      "sp=bw_memcpy_1.in:HBM[0]\n")
    (tmp_path / desc["cfg"]).write_text(cfg)
    desc["library"] = str(memcpy_xclbin.parent / desc["library"])
    (tmp_path / "old.emu.xclbin").write_text(json.dumps(desc))
    old = Session(open_runtime("emu"), design, tmp_path / "old.emu.xclbin")
    with pytest.raises(UserError, match="connects bw_memcpy_1.in to HBM\\[0\\] only.*rebuild"):
        old.alloc("bw_memcpy", 0, "in", 4096, pc=5)


def test_a_launchs_buffers_are_freed_with_its_runs(memcpy_session):
    """The emulator keeps a launch's runs only weakly (to share PCs among them), so the next target's
    buffers find their PCs empty, as on the card once the host drops its buffers."""
    import gc
    s = memcpy_session
    bufs = [(s.alloc("bw_memcpy", cu, "in", 1 << 20, pc=cu), s.alloc("bw_memcpy", cu, "out", 64)) for cu in range(2)]
    runs = [s.run("bw_memcpy", cu, [a, b, (1 << 20) // 64, 1, 0, 0, 0, 0, 0]) for cu, (a, b) in enumerate(bufs)]
    s.launch(runs, 10_000, "two CUs")
    del runs, bufs
    gc.collect()
    assert not any(s.rt.device._bank_used.values())


# ---------------------------------------------------------------- the bench
def test_other_group_is_slower_than_local_in_the_emulator_and_the_model(runs_dir, only_run, capsys):
    assert _run(runs_dir, "--direction", "read,copy", "--pcs", "1,2,32", "--kernel-reps", "256",
                "--target-pc", "local,same-group,other-group") == 0
    run = load_run(only_run(runs_dir))
    s = run.summary
    assert s["verified"].all() and run.context["target_pc"] == ["local", "same-group", "other-group"]
    s = s.assign(target=[model.switch_target(PLAT, int(p), int(t)) for p, t in zip(s["port_pc"], s["target_pc"])])
    fig = s.set_index(["direction", "pcs", "target"])["bandwidth_GBps_best"]
    for d, pcs in (("read", 1), ("copy", 2), ("copy", 32)):
        assert fig[(d, pcs, "same-group")] == pytest.approx(fig[(d, pcs, "local")], rel=1e-6)
        # the lateral cap binds: half of local (16 MiB per port: the launch overhead takes a little of both)
        assert fig[(d, pcs, "other-group")] == pytest.approx(0.5 * fig[(d, pcs, "local")], rel=0.03)
    # the model's figure for the same point, beside it in the table, agrees with the emulator's
    out = capsys.readouterr().out
    assert "model GB/s" in out and "other-group (HBM[7])" in out and "same-group (HBM[3])" in out
    dispatch = model.dispatch_overhead(PLAT).value
    for _, row in s.iterrows():
        assert mc.modeled_GBps(row, dispatch) == pytest.approx(row["bandwidth_GBps_best"], rel=1e-6)
    # columns: bw_memcpy_1's `in` port is next to PC 0; its buffer lay where the target says
    assert set(zip(s["port_pc"], s["target_pc"])) == {(0, 0), (0, 3), (0, 7)}


def test_cus_sharing_an_explicit_pc_share_it_in_the_emulator_as_in_the_model(runs_dir, only_run):
    assert _run(runs_dir, "--direction", "read", "--pcs", "1,8", "--kernel-reps", "256", "--target-pc", "12") == 0
    s = load_run(only_run(runs_dir)).summary.set_index("pcs")
    assert (s["target_pc"] == 12).all()
    assert s.loc[8, "bandwidth_GBps_best"] == pytest.approx(s.loc[1, "bandwidth_GBps_best"], rel=0.02)
    dispatch = model.dispatch_overhead(PLAT).value
    for pcs in (1, 8):
        assert mc.modeled_GBps(s.loc[pcs], dispatch) == pytest.approx(s.loc[pcs, "bandwidth_GBps_best"], rel=1e-6)


def test_a_kernel_using_its_own_pc_instead_of_the_target_fails_verification(runs_dir, only_run, monkeypatch):
    monkeypatch.setenv("HARNESS_EMU_FAULT", "own_pc")
    assert _run(runs_dir, "--pcs", "1,2,16", "--target-pc", "local,same-group,other-group,9") == 0
    run = load_run(only_run(runs_dir), require_verified=False)
    s = run.summary
    local = s["port_pc"] == s["target_pc"]
    assert s[local]["verified"].all()                     # nothing to get wrong on its own PCs
    assert len(s[~local]) == 24 and not s[~local]["verified"].any()
    assert s[~local]["errors"].str.contains("differs from the reference").all()


@pytest.mark.parametrize("args,needle", [
    (["--target-pc", "far"], "--target-pc 'far': use local, same-group, other-group or a PC number 0 to 31"),
    (["--target-pc", "32"], "0 to 31"),
    (["--target-pc", "-1"], "0 to 31"),
    (["--target-pc", "local,,other-group"], "--target-pc"),
    (["--target-pc", ""], "--target-pc"),
    (["--target-pc", "3", "--pcs", "16", "--sizes", "32M"], "HBM[3] would hold"),
    (["--target-pc", "other-group", "--pcs", "16", "--sizes", "256M"], "more than its 268435456"),
])
def test_bad_target_is_one_line_exit_2_and_leaves_no_run(runs_dir, capsys, args, needle):
    with pytest.raises(SystemExit) as exc_info:
        rc = main(SMALL + ["--out", str(runs_dir), "--direction", "read", *([] if "--pcs" in args else ["--pcs", "1"]),
                           *args])
        raise SystemExit(rc)
    assert exc_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err and "Traceback" not in err
    assert not any(runs_dir.iterdir())


# ---------------------------------------------------------------- the heat map
def test_plot_draws_a_port_by_target_heat_map_beside_the_model(runs_dir, only_run, tmp_path, capsys):
    from harness.results.plots import is_cross_switch, switch_heatmap
    assert _run(runs_dir, "--direction", "read,copy", "--pcs", "2,16", "--kernel-reps", "256",
                "--target-pc", "local,same-group,other-group,9") == 0
    run_dir = only_run(runs_dir)
    run = load_run(run_dir)
    assert is_cross_switch(run)
    fig = switch_heatmap(run)
    fig.canvas.draw()
    axes = [a for a in fig.axes if a.get_label() != "<colorbar>"]
    heat = [a for a in axes if a.get_images()]
    assert len(heat) == 8                     # (read 2 CUs, read 16, copy 1, copy 8) x (emulated, model)
    titles = [a.get_title() for a in heat]
    assert sum(t.startswith("model:") for t in titles) == 4
    assert all("target PC" in a.get_xlabel() and "port PC" in a.get_ylabel() for a in heat)
    r = fig.canvas.get_renderer()
    for a in heat:
        # cells: the measured (emulated) figure per CU, and the model's; labels readable, none overlapping
        assert [t.get_text() for t in a.get_xticklabels()] == ["0", "3", "7", "9"]
        texts = [t for t in a.texts if t.get_text()]
        assert texts and all(t.get_fontsize() >= 6.5 for t in texts)
        boxes = [t.get_window_extent(r) for t in texts + a.get_xticklabels() + a.get_yticklabels()]
        for i, b in enumerate(boxes):
            assert not any(b.overlaps(o) for o in boxes[i + 1:])
    boxes = [a.get_tightbbox(r) for a in fig.axes]     # panels and colour bars apart
    for i, b in enumerate(boxes):
        assert not any(b.overlaps(o) for o in boxes[i + 1:])
    # the other-group cell of the one-CU read is half the local one, in both panels
    read = [a for a in heat if "read, 2 CUs" in a.get_title()]
    for a in read:
        cells = {t.get_position(): float(t.get_text()) for t in a.texts}
        assert cells[(2, 0)] == pytest.approx(0.5 * cells[(0, 0)], rel=0.03)
    # and through the command: a second file for the run
    assert main(["plot", str(run_dir), "--out", str(tmp_path / "plots")]) == 0
    assert {p.name for p in (tmp_path / "plots").iterdir()} >= {f"{run.run_id}.png", f"{run.run_id}-switch.png"}


def test_a_sweep_over_every_pc_stays_readable(runs_dir, only_run):
    from harness.results.plots import switch_heatmap
    assert _run(runs_dir, "--direction", "read", "--pcs", "1", "--target-pc", ",".join(map(str, range(32)))) == 0
    fig = switch_heatmap(load_run(only_run(runs_dir)))
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    for a in (a for a in fig.axes if a.get_images()):
        assert len(a.texts) == 32
        boxes = [t.get_window_extent(r) for t in list(a.texts) + a.get_xticklabels()]
        for i, b in enumerate(boxes):
            assert not any(b.overlaps(o) for o in boxes[i + 1:])


def test_a_run_without_target_gets_no_heat_map(runs_dir, only_run):
    from harness.results.plots import is_cross_switch
    assert _run(runs_dir, "--direction", "read", "--pcs", "1") == 0
    run = load_run(only_run(runs_dir))
    assert not is_cross_switch(run) and (run.summary["port_pc"] == run.summary["target_pc"]).all()
    assert np.array_equal(run.summary["port_pc"], [0])


def test_patterns_and_targets_together_get_a_panel_per_access(runs_dir, only_run):
    """A random point never shares a heat-map cell with a sequential one; the lateral latency lengthens
    small random transactions' round trips, the lateral cap binds large ones."""
    from harness.results.plots import switch_heatmap
    assert _run(runs_dir, "--direction", "read", "--pcs", "1", "--pattern", "seq,random", "--txn-bytes", "64,1K",
                "--sizes", "1M", "--kernel-reps", "64",
                "--target-pc", "local,other-group") == 0
    run = load_run(only_run(runs_dir))
    assert run.summary["verified"].all()
    fig = switch_heatmap(run)
    titles = [a.get_title() for a in fig.axes if a.get_images()]
    assert len(titles) == 6 and sum("random 64 B" in t for t in titles) == 2
    s = run.summary.set_index(["pattern", "txn_bytes", "target_pc"], drop=False)["bandwidth_GBps_best"]
    small = s[("random", 64, 7)] / s[("random", 64, 0)]
    large = s[("random", 1024, 7)] / s[("random", 1024, 0)]
    assert 0.55 < small < 0.95 and large == pytest.approx(0.5, rel=0.03)


# ---------------------------------------------------------------- --port-pc: the port PC x target PC matrix
def _boxes_apart(boxes) -> bool:
    return not any(b.overlaps(o) for i, b in enumerate(boxes) for o in boxes[i + 1:])


def test_port_pc_drives_one_cu_per_row_and_target_all_every_pc(runs_dir, only_run, capsys):
    assert _run(runs_dir, "--direction", "read,copy", "--port-pc", "0,6,20", "--target-pc", "all",
                "--kernel-reps", "256") == 0
    run = load_run(only_run(runs_dir))
    s = run.summary
    assert s["verified"].all() and len(s) == 2 * 3 * 32 and (s["cus"] == 1).all()
    assert run.context["port_pc"] == [0, 6, 20] and run.context["target_pc"] == [str(p) for p in range(32)]
    for d in ("read", "copy"):
        g = s[s["direction"] == d]
        assert set(g["port_pc"]) == {0, 6, 20} and all(set(g[g["port_pc"] == p]["target_pc"]) == set(range(32))
                                                       for p in (0, 6, 20))
    # each cell beside the model, at the relation of its own port: PC 6's group is 4-7
    dispatch = model.dispatch_overhead(PLAT).value
    for _, row in s.iterrows():
        assert mc.modeled_GBps(row, dispatch) == pytest.approx(row["bandwidth_GBps_best"], rel=1e-6)
    fig = s[s["direction"] == "read"].set_index(["port_pc", "target_pc"])["bandwidth_GBps_best"]
    assert fig[(6, 4)] == pytest.approx(fig[(6, 6)], rel=1e-6)            # same group: no lateral cost
    assert fig[(6, 3)] == pytest.approx(0.5 * fig[(6, 6)], rel=0.05)      # other group: the lateral cap
    out = capsys.readouterr().out
    assert "port PC x target PC" in out and "other-group" in out and "-switch.png" in out


def test_port_pc_all_takes_each_directions_own_ports(runs_dir, only_run):
    assert _run(runs_dir, "--direction", "read,write", "--port-pc", "all", "--target-pc", "local") == 0
    s = load_run(only_run(runs_dir)).summary
    assert sorted(s[s["direction"] == "read"]["port_pc"]) == list(range(0, 32, 2))
    assert sorted(s[s["direction"] == "write"]["port_pc"]) == list(range(1, 32, 2))
    assert (s["port_pc"] == s["target_pc"]).all() and s["verified"].all()


def test_a_port_pc_only_some_directions_have_runs_those_with_a_note(runs_dir, only_run, capsys):
    assert _run(runs_dir, "--direction", "read,write", "--port-pc", "3", "--target-pc", "9") == 0
    run = load_run(only_run(runs_dir))
    assert list(run.summary["direction"]) == ["write"] and list(run.summary["port_pc"]) == [3]
    assert any("read not run from port PC 3" in n for n in run.context["notes"])


def test_with_port_pc_a_kernel_using_its_own_pc_fails_verification(runs_dir, only_run, monkeypatch):
    monkeypatch.setenv("HARNESS_EMU_FAULT", "own_pc")
    assert _run(runs_dir, "--direction", "read,write,copy", "--port-pc", "6,7", "--target-pc", "local,9,30") == 0
    s = load_run(only_run(runs_dir), require_verified=False).summary
    local = s["port_pc"] == s["target_pc"]
    assert s[local]["verified"].all() and len(s[~local]) == 6 and not s[~local]["verified"].any()



def test_a_failed_cell_stays_in_the_heat_map_as_failed(runs_dir, only_run, monkeypatch):
    """A target whose point failed verification keeps its column, marked x, with no figure (it used to
    drop out of the matrix silently, since only verified points were drawn)."""
    from harness.results.plots import switch_heatmap
    monkeypatch.setenv("HARNESS_EMU_FAULT", "own_pc")
    assert _run(runs_dir, "--direction", "read", "--port-pc", "0", "--target-pc", "local,9") == 0
    fig = switch_heatmap(load_run(only_run(runs_dir), require_verified=False))
    measured_ax, model_ax = [a for a in fig.axes if a.get_images()]
    assert [t.get_text() for t in measured_ax.get_xticklabels()] == ["0", "9"]
    grid = measured_ax.get_images()[0].get_array()
    assert grid[0, 0] > 0 and (np.ma.is_masked(grid[0, 1]) or np.isnan(grid[0, 1]))
    assert "x" in [t.get_text() for t in measured_ax.texts] and "failed verification" in measured_ax.get_xlabel()
    assert "x" not in [t.get_text() for t in model_ax.texts]       # the model still has its figure there

@pytest.mark.parametrize("args,needle", [
    (["--direction", "read", "--port-pc", "3"], "--port-pc 3: no read port of bw_memcpy is next to PC 3; "
                                                "read drives in ports next to PCs 0, 2, ..., 30"),
    (["--direction", "write", "--port-pc", "32"], "--port-pc '32': use PC numbers 0 to 31"),
    (["--direction", "read", "--port-pc", "0,,2"], "--port-pc"),
    (["--direction", "read", "--port-pc", "evens"], "--port-pc 'evens'"),
    (["--direction", "read", "--port-pc", "0", "--pcs", "1"], "--port-pc drives one CU at a time"),
    (["--direction", "read", "--port-pc", "0", "--target-pc", "all,far"], "--target-pc 'far'"),
])
def test_bad_port_pc_is_one_line_exit_2_and_leaves_no_run(runs_dir, capsys, args, needle):
    with pytest.raises(SystemExit) as exc_info:
        raise SystemExit(main(SMALL + ["--out", str(runs_dir), *args]))
    assert exc_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err and "Traceback" not in err
    assert not any(runs_dir.iterdir())


def test_the_heat_map_of_a_port_sweep_is_the_whole_matrix_readable(runs_dir, only_run):
    from harness.results.plots import switch_heatmap
    assert _run(runs_dir, "--direction", "read", "--port-pc", "all", "--target-pc", "all") == 0
    run = load_run(only_run(runs_dir))
    fig = switch_heatmap(run)
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    heat = [a for a in fig.axes if a.get_images()]
    assert [a.get_title().split(":")[0] for a in heat] == ["emulated (model)", "model"]
    for a in heat:
        grid = a.get_images()[0].get_array()
        assert grid.shape == (16, 32) and not np.isnan(grid).any()
        # labels at each switch group's first PC; a line between groups (7 across, 7 down)
        assert [t.get_text() for t in a.get_xticklabels()] == [str(p) for p in range(0, 32, 4)]
        assert [t.get_text() for t in a.get_yticklabels()] == [str(p) for p in range(0, 32, 2)]
        assert len(a.lines) == 14
        assert _boxes_apart([t.get_window_extent(r) for t in a.get_xticklabels() + a.get_yticklabels()])
    bars = [a for a in fig.axes if a.get_label() == "<colorbar>"]
    assert len(bars) == 2 and all("GB/s" in b.get_ylabel() for b in bars)
    assert _boxes_apart([a.get_tightbbox(r) for a in fig.axes])
    # the measured (here: emulated) and modeled panels agree cell by cell in emu
    assert np.allclose(heat[0].get_images()[0].get_array(), heat[1].get_images()[0].get_array(), rtol=1e-6)
    # the run's own figure draws a series per switch relation, not one per cell
    from harness.results.plots import draw
    fig = draw(run)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert len(labels) == 6 and sum("other-group (median of its cells)" in t for t in labels) == 2


def test_a_32_by_32_matrix_panel_stays_readable():
    """32 port PCs x 32 target PCs (a card's full switch), drawn by the heat map's own panel."""
    from harness.results.plots import _plt, matrix_panel
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(2 * (2.6 + 32 * 0.22), 1.9 + 32 * 0.22))
    grid = np.fromfunction(lambda i, j: np.where(i // 4 == j // 4, 12.6, 6.4), (32, 32))
    for ax in axes:
        im = matrix_panel(ax, grid, list(range(32)), list(range(32)), 12.6, 4, text=False)
        fig.colorbar(im, ax=ax, label="GB/s per CU")
    fig.tight_layout()
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    for ax in axes:
        labels = ax.get_xticklabels() + ax.get_yticklabels()
        assert [t.get_text() for t in ax.get_xticklabels()] == [str(p) for p in range(0, 32, 4)]
        assert len(ax.lines) == 14 and _boxes_apart([t.get_window_extent(r) for t in labels])
    assert _boxes_apart([a.get_tightbbox(r) for a in fig.axes])
    plt.close(fig)


@pytest.mark.parametrize("mode", [["--mode", "emu"], []])
def test_a_default_sized_matrix_runs_small_when_emulated(runs_dir, only_run, mode):
    """--port-pc without --sizes: 16 KiB per cell in the emulator (asked for, or mode auto without a
    card), 256 KiB on a card."""
    assert main(["bench", "memcpy", *mode, "--warmup", "0", "--repeats", "1", "--direction", "read",
                 "--port-pc", "0", "--target-pc", "9", "--out", str(runs_dir)]) == 0
    run = load_run(only_run(runs_dir))
    if run.context["mode"] != "emu":
        pytest.skip("mode auto found a card")
    assert list(run.summary["bytes_per_pc"]) == [16 << 10]
    assert (not mode) == any("the --port-pc matrix at 16K" in n for n in run.context["notes"])
    assert mc.PORT_SWEEP_SIZES == "256K"
