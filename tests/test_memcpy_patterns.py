"""`harness bench memcpy --pattern stride|random`: one xclbin, verified stride and random transactions,
every point beside the model (issue 16, "Patterns from one xclbin")."""
from __future__ import annotations

import numpy as np
import pytest

from harness.cli import main
from harness.errors import UserError
from harness.results.reader import load_run

SMALL = ["bench", "memcpy", "--mode", "emu", "--warmup", "0", "--repeats", "2", "--kernel-reps", "3"]


def _run(runs_dir, *extra):
    return main(SMALL + ["--out", str(runs_dir)] + list(extra))


def test_a_pattern_sweep_is_verified_and_shown_beside_the_model(only_run, runs_dir, capsys):
    assert _run(runs_dir, "--pattern", "stride,random", "--txn-bytes", "64,128,...,4K", "--stride", "8K",
                "--sizes", "64K") == 0
    run = load_run(only_run(runs_dir))
    s, m = run.summary, run.samples
    # 2 patterns x 7 transaction sizes x 3 directions (copy on 2 PCs, read/write on 1), all verified
    assert len(s) == 2 * 7 * 3 and s["verified"].all() and m["verified"].all()
    assert set(s["pattern"]) == {"stride", "random"}
    assert sorted(s["txn_bytes"].unique()) == [64 << i for i in range(7)]
    assert (s.loc[s["pattern"] == "stride", "stride_bytes"] == 8192).all()
    assert s.loc[s["pattern"] == "random", "stride_bytes"].isna().all()
    assert set(zip(s["direction"], s["pcs"])) == {("read", 1), ("write", 1), ("copy", 2)}
    assert run.context["pattern_seed"] == 1
    out = capsys.readouterr().out
    table = out[out.index("access patterns"):]
    assert "MODELED" in table and "emulated/model" in table and "model GB/s" in table
    assert len([ln for ln in table.splitlines() if ln.strip().startswith(("stride", "random"))]) == len(s)
    assert "memcpy bandwidth, decimal GB/s" not in out          # no seq point: no seq table
    assert "run directory:" in out


def test_emulated_pattern_time_is_the_models_prediction(only_run, runs_dir):
    """The emulator times a stride/random launch with harness.model given the same pattern."""
    from harness import model
    assert _run(runs_dir, "--pattern", "random", "--txn-bytes", "128", "--sizes", "1M", "--direction", "read") == 0
    run = load_run(only_run(runs_dir))
    plat = model.load_platform("u280")
    pred = model.predict_memcpy(plat, memory="hbm", ports=1, direction="read", width_bits=512, clock_mhz=300,
                                burst=16, outstanding=16, bytes=(1 << 20) * 3, pattern="random", txn_bytes=128)
    assert run.summary["time_s_median"].iloc[0] == pytest.approx(pred.time_s + model.dispatch_overhead(plat).value,
                                                                 rel=1e-6)
    assert run.summary["model_time_s"].iloc[0] == pytest.approx(pred.time_s, rel=1e-12)
    seq = model.predict_memcpy(plat, memory="hbm", ports=1, direction="read", width_bits=512, clock_mhz=300,
                               burst=16, outstanding=16, bytes=(1 << 20) * 3)
    assert pred.time_s > 1.5 * seq.time_s                # 128 B transactions: not the sequential figure


def test_without_pattern_the_sweep_is_todays(only_run, runs_dir, monkeypatch):
    import harness.bench.memcpy as mc
    calls = []
    real = mc.kernel_args
    monkeypatch.setattr(mc, "kernel_args", lambda pt, seed: calls.append(real(pt, seed)) or real(pt, seed))
    assert _run(runs_dir, "--sizes", "4K", "--direction", "read", "--pcs", "1") == 0
    run = load_run(only_run(runs_dir))
    assert (run.samples["pattern"] == "seq").all() and run.samples["txn_bytes"].isna().all()
    assert calls and all(c[3] == mc.PATTERNS["seq"] for c in calls)
    assert "pattern_seed" not in run.context


# The host's check against a kernel that gets the pattern wrong: the real (emulated) kernel is given
# other scalars than the bench verifies against.
@pytest.mark.parametrize("mistake", ["ignores the seed", "swaps stride and txn", "one rep too few"])
def test_a_kernel_that_gets_the_pattern_wrong_fails_verification(only_run, runs_dir, monkeypatch, mistake):
    import harness.bench.memcpy as mc
    real = mc.kernel_args

    def wrong(pt, seed):
        a = real(pt, seed)            # n_words, reps, mode, pattern, txn_words, stride_words, seed
        if mistake == "ignores the seed":
            a[6] = 0
        elif mistake == "swaps stride and txn":
            a[4], a[5] = a[5], a[4]
        else:
            a[1] -= 1
        return a
    monkeypatch.setattr(mc, "kernel_args", wrong)
    pattern = "stride" if mistake == "swaps stride and txn" else "random"
    assert _run(runs_dir, "--pattern", pattern, "--txn-bytes", "128", "--stride", "1K", "--sizes", "16K") == 0 \
        if pattern == "stride" else _run(runs_dir, "--pattern", pattern, "--txn-bytes", "128", "--sizes", "16K") == 0
    run = load_run(only_run(runs_dir), require_verified=False)
    assert not run.samples["verified"].any(), run.summary[["direction", "verified"]]
    assert run.samples["bandwidth_GBps"].isna().all() and run.verified_summary().empty


@pytest.mark.parametrize("fault", ["skip_word", "stale_rep", "wrong_index"])
def test_every_kernel_fault_fails_every_pattern_point(only_run, runs_dir, monkeypatch, capsys, fault):
    monkeypatch.setenv("HARNESS_EMU_FAULT", fault)
    # 16 KiB with 4 KiB transactions every 8 KiB: each rep writes the same two transactions twice
    assert _run(runs_dir, "--pattern", "stride,random", "--txn-bytes", "64,4K", "--stride", "8K",
                "--sizes", "16K") == 0
    run = load_run(only_run(runs_dir), require_verified=False)
    assert len(run.summary) == 2 * 2 * 3
    assert not run.summary["verified"].any()
    out = capsys.readouterr().out
    assert "12 of 12 point(s) failed verification" in out and out.count("FAILED verification") == 12


def test_the_sizes_list_with_an_ellipsis():
    from harness.commands.bench_memcpy import parse_size_list
    assert parse_size_list("64,128,...,4K", "--txn-bytes") == [64, 128, 256, 512, 1024, 2048, 4096]
    assert parse_size_list("64..4K", "--txn-bytes") == [64, 128, 256, 512, 1024, 2048, 4096]
    assert parse_size_list("64,256,...,4K", "--txn-bytes") == [64, 256, 1024, 4096]
    with pytest.raises(UserError, match="two rising sizes"):
        parse_size_list("64,...,4K", "--txn-bytes")


@pytest.mark.parametrize("args,needle", [
    (["--pattern", "zigzag"], "invalid choice 'zigzag'"),
    (["--pattern", ","], "--pattern is empty"),
    (["--txn-bytes", "256"], "add --pattern"),
    (["--pattern", "random", "--stride", "1K"], "--stride applies to --pattern stride"),
    (["--pattern", "random", "--txn-bytes", "96"], "power of two from 64 to 4096"),
    (["--pattern", "random", "--txn-bytes", "32"], "power of two from 64 to 4096"),
    (["--pattern", "random", "--txn-bytes", "8K"], "power of two from 64 to 4096"),
    (["--pattern", "random", "--txn-bytes", "64,...,4K"], "two rising sizes"),
    (["--pattern", "stride", "--txn-bytes", "256", "--stride", "100"], "multiple of 64"),
    (["--pattern", "stride", "--txn-bytes", "256", "--stride", "128"], "at least the transaction size"),
    (["--pattern", "random", "--sizes", "192K"], "power of two"),
    (["--pattern", "random", "--txn-bytes", "4K", "--sizes", "1K"], "at least 4096"),
    (["--pattern", "random", "--seed", "-1"], "0 to 4294967295"),
    (["--pattern", "random", "--seed", "x"], "0 to 4294967295"),
    (["--seed", "5"], "add --pattern"),
])
def test_bad_pattern_input_is_one_line_exit_2_and_leaves_no_run(runs_dir, capsys, args, needle):
    with pytest.raises(SystemExit) as exc_info:
        raise SystemExit(_run(runs_dir, "--direction", "read", "--pcs", "1", *args))
    assert exc_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err and "Traceback" not in err, err
    assert not any(runs_dir.iterdir())


def test_plot_draws_bandwidth_against_transaction_size_beside_the_model(only_run, runs_dir, tmp_path, capsys):
    import matplotlib.pyplot as plt
    from test_roofline import label_problems
    from harness.results.plots import draw
    assert _run(runs_dir, "--pattern", "stride,random", "--txn-bytes", "64..1K", "--sizes", "64K") == 0
    run = load_run(only_run(runs_dir))
    fig = draw(run)
    try:
        axes = [ax for ax in fig.axes if ax.get_visible()]
        assert [ax.get_title().split(":")[0] for ax in axes] == ["stride access", "random access"]
        for ax in axes:
            assert ax.get_xscale() == "log" and "transaction size" in ax.get_xlabel()
            labels = ax.get_legend_handles_labels()[1]
            # per direction one emulated line and one model line, the model dashed
            assert len(labels) == 6 and sum(lb.endswith(": model") for lb in labels) == 3
            model_lines = [ln for ln in ax.lines if ln.get_label().endswith(": model")]
            assert all(ln.get_linestyle() == "--" for ln in model_lines)
            # side by side: at every transaction size the two markers are apart
            run_lines = [ln for ln in ax.lines if not ln.get_label().endswith(": model")]
            for a, b in zip(run_lines, model_lines):
                assert (np.asarray(a.get_xdata()) < np.asarray(b.get_xdata())).all()
        assert label_problems(fig) == []
    finally:
        plt.close(fig)
    assert main(["plot", str(only_run(runs_dir)), "--out", str(tmp_path / "plot")]) == 0
    assert list((tmp_path / "plot").glob("*.png"))


def test_a_plot_of_a_seq_and_random_run_has_both_rows(only_run, runs_dir):
    import matplotlib.pyplot as plt
    from harness.results.plots import draw
    assert _run(runs_dir, "--pattern", "seq,random", "--txn-bytes", "64,4K", "--sizes", "16K,64K",
                "--direction", "read") == 0
    fig = draw(load_run(only_run(runs_dir)))
    try:
        visible = [ax for ax in fig.axes if ax.get_visible()]
        assert len(visible) == 3 and visible[2].get_title().startswith("random access")
    finally:
        plt.close(fig)


# ---------------------------------------------------------------- the model for stride
def test_the_model_charges_row_activations_when_the_stride_leaves_the_row():
    from harness import model
    from harness.model import data
    row = data.params()["memory"]["hbm"]["row_bytes"].value

    def pred(stride):
        return model.predict_memcpy("u280", pattern="stride", txn_bytes=64, stride_bytes=stride, burst=16,
                                    outstanding=256, bytes=1 << 24)
    inside, outside = pred(128), pred(int(4 * row))
    assert outside.limit == "strided row activations"
    assert outside.bandwidth_GBps == pytest.approx(64 / 13.4, rel=0.02)      # one activation per 64 B
    assert inside.bandwidth_GBps > 1.5 * outside.bandwidth_GBps
    with pytest.raises(UserError, match="--stride"):
        model.predict_memcpy("u280", pattern="stride", txn_bytes=64)
    with pytest.raises(UserError, match="stride only"):
        model.predict_memcpy("u280", pattern="random", txn_bytes=64, stride_bytes=128)


def test_predict_cli_takes_a_stride(capsys):
    assert main(["predict", "memcpy", "--pattern", "stride", "--txn-bytes", "64", "--stride", "4K",
                 "--outstanding", "256"]) == 0
    out = capsys.readouterr().out
    assert "every 4096 B" in out and "strided row activations" in out


def test_roofline_ceilings_come_from_seq_points_only(only_run, runs_dir, monkeypatch):
    """A stride/random point never becomes a memory ceiling, even where its figure is the higher one."""
    from harness.roofline import ceilings
    assert _run(runs_dir, "--pattern", "seq,random", "--txn-bytes", "4K", "--sizes", "64K", "--direction", "read",
                "--pcs", "1") == 0
    run = load_run(only_run(runs_dir))
    s = run.verified_summary().copy()
    seq_bw = float(s.loc[s["pattern"] == "seq", "bandwidth_GBps_best"].iloc[0])
    s.loc[s["pattern"] == "random", "bandwidth_GBps_best"] = 3 * seq_bw       # the higher figure
    monkeypatch.setattr(type(run), "verified_summary", lambda self: s)
    assert ceilings.per_pc([run], "read").value == pytest.approx(seq_bw)
    assert ceilings.measured_memcpy([run]).figure.value == pytest.approx(seq_bw)


@pytest.mark.parametrize("edit,needle", [
    (lambda s: s.__setitem__("pattern", "zigzag"), "pattern 'zigzag'"),
    (lambda s: s.__setitem__("txn_bytes", "256"), "a seq point with txn_bytes"),
    (lambda s: (s.__setitem__("pattern", "random"), s.__setitem__("txn_bytes", "96")), "txn_bytes 96"),
    (lambda s: (s.__setitem__("pattern", "stride"), s.__setitem__("txn_bytes", "256"),
                s.__setitem__("stride_bytes", "128")), "stride_bytes 128"),
])
def test_the_reader_refuses_impossible_pattern_columns(tmp_path, edit, needle):
    import shutil
    from test_readers import FIX, _edit_samples, refused
    run = tmp_path / "run"
    shutil.copytree(FIX / "20250101T000000Z-hw-memcpy", run)
    _edit_samples(run, edit)
    assert needle in refused(run)
