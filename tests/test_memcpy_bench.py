"""`harness bench memcpy` end to end on the emulator: verification, schema, errors."""
from __future__ import annotations

import json

import numpy as np
import pytest

from harness.results.reader import load_run
from harness.cli import main
from harness.errors import UserError

SMALL = ["bench", "memcpy", "--mode", "emu", "--warmup", "1", "--repeats", "2", "--kernel-reps", "2"]


def _run(runs_dir, *extra):
    out = [] if "--out" in extra else ["--out", str(runs_dir)]
    return main(SMALL + out + list(extra))


def test_sweep_writes_a_complete_verified_run(only_run, runs_dir, capsys):
    assert _run(runs_dir, "--sizes", "4K,192K", "--direction", "copy", "--direction", "read", "--pcs", "2") == 0
    run = load_run(only_run(runs_dir))
    ctx = run.context
    assert ctx["status"] == "complete" and ctx["bench"] == "memcpy" and ctx["timing_source"] == "model"
    assert ctx["design"]["kernels"]["bw_memcpy"]["cus"] == 16
    assert ctx["emulator"]["build_hash"] and "dirty" in ctx["git"]
    # every repetition kept: 2 directions x 2 sizes x (1 warm-up + 2 measured)
    assert len(run.samples) == 2 * 2 * 3
    assert set(run.samples["phase"]) == {"warmup", "measure"}
    assert run.samples["verified"].all()
    assert (run.samples["timing_source"] == "model").all()
    s = run.summary
    assert len(s) == 4 and s["verified"].all() and (s["n"] == 2).all()
    # decimal GB/s from the bytes and times recorded, and never above the 2 PCs' physical peak
    m = run.samples[run.samples["phase"] == "measure"]
    assert np.allclose(m["bandwidth_GBps"], m["bytes"] / m["time_s"] / 1e9)
    assert (s["bandwidth_GBps_best"] <= 2 * 14.375).all()
    copy = m[m["direction"] == "copy"]
    assert (copy["bytes"] == 2 * copy["bytes_per_pc"] * copy["kernel_reps"]).all()   # 1 CU, read + write
    out = capsys.readouterr().out
    assert "MODELED" in out and "run directory:" in out


def test_failed_verification_is_recorded_and_never_used(only_run, runs_dir, monkeypatch):
    import harness.bench.memcpy as mc
    monkeypatch.setattr(mc, "write_expectation", lambda n, reps=1: (np.zeros(n * 8, np.uint64), 0))
    assert _run(runs_dir, "--sizes", "4K", "--direction", "write", "--pcs", "1") == 0
    run = load_run(only_run(runs_dir), require_verified=False)
    assert not run.samples["verified"].any()
    assert run.samples["bandwidth_GBps"].isna().all()
    assert not run.summary["verified"].any() and np.isnan(run.summary["bandwidth_GBps_best"]).all()
    assert "differs" in run.summary["errors"].iloc[0]
    assert run.verified_summary().empty


@pytest.mark.parametrize("args,needle", [
    (["--sizes", "0"], "positive"),
    (["--sizes", "100"], "multiple of 64"),
    (["--sizes", "512M"], "larger than one PC"),
    (["--pcs", "33"], "1 to 32"),
    (["--pcs", "3", "--direction", "copy"], "even"),
    (["--pcs", "32", "--direction", "read"], "at most 16"),
    (["--pcs", "17", "--direction", "read", "--direction", "copy"], "at most 16"),
    (["--sizes", "4x"], "suffix"),
    (["--mode", "bogus"], "invalid choice"),
    (["--xclbin", "/nonexistent.xclbin"], "not found"),
    (["--repeats", "0"], "at least 1"),
    (["--device", "3"], "--device 0"),
    (["--out", "/proc/no-such-dir"], "writable"),
])
def test_bad_input_is_one_line_exit_2_and_leaves_no_run(runs_dir, capsys, args, needle):
    with pytest.raises(SystemExit) as exc_info:
        defaults = [] if "--direction" in args else ["--direction", "read"]
        defaults += [] if "--pcs" in args else ["--pcs", "1"]
        rc = _run(runs_dir, "--sizes", "4K", *defaults, *args)
        raise SystemExit(rc)
    assert exc_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err and "Traceback" not in err
    assert not any(runs_dir.iterdir())


def test_hw_mode_without_pyxrt_says_what_to_do(runs_dir, capsys, monkeypatch):
    import harness.runtime as rtmod
    monkeypatch.setattr(rtmod, "_import_pyxrt", lambda: None)
    assert _run(runs_dir, "--mode", "hw", "--sizes", "4K") == 2
    err = capsys.readouterr().err
    assert "setup.sh" in err and len(err.strip().splitlines()) == 1
    assert not any(runs_dir.iterdir())


def test_auto_mode_falls_back_to_emu_and_says_so(runs_dir, capsys, monkeypatch):
    import harness.runtime as rtmod
    monkeypatch.setattr(rtmod, "_import_pyxrt", lambda: None)
    args = [a for a in SMALL if a not in ("--mode", "emu")]
    assert main(args + ["--out", str(runs_dir), "--sizes", "4K", "--pcs", "1", "--direction", "read"]) == 0
    assert "mode: emu" in capsys.readouterr().out


def test_device_failure_leaves_the_run_marked_incomplete(only_run, runs_dir, capsys, monkeypatch):
    monkeypatch.setenv("HARNESS_EMU_FAULT", "timeout")
    assert _run(runs_dir, "--sizes", "4K", "--pcs", "1", "--direction", "read", "--timeout", "50") == 1
    run_dir = only_run(runs_dir)
    ctx = json.loads((run_dir / "context.json").read_text())
    assert ctx["status"] == "incomplete" and "TIMEOUT" in ctx["error"]
    assert "raise --timeout" in capsys.readouterr().err
    with pytest.raises(UserError, match="incomplete"):
        load_run(run_dir)


def test_a_malformed_fault_spec_is_a_user_error(runs_dir, capsys, monkeypatch):
    monkeypatch.setenv("HARNESS_EMU_FAULT", "bogus")
    assert _run(runs_dir, "--sizes", "4K", "--pcs", "1", "--direction", "read") == 2
    assert "HARNESS_EMU_FAULT" in capsys.readouterr().err
    assert not any(runs_dir.iterdir())


@pytest.mark.parametrize("direction,pcs", [("read", 1), ("copy", 2), ("write", 16)])
def test_emulated_bandwidth_is_what_harness_predict_says(only_run, runs_dir, direction, pcs):
    """--mode emu and `harness predict` are the same model: launch time = dispatch + transfer time."""
    from harness import model
    size, reps = 1 << 20, 2
    assert _run(runs_dir, "--sizes", "1M", "--pcs", str(pcs), "--direction", direction) == 0
    run = load_run(only_run(runs_dir))
    plat = model.load_platform("u280")
    pred = model.predict_memcpy(plat, memory="hbm", ports=2 if direction == "copy" else 1, direction=direction,
                                width_bits=512, clock_mhz=300, burst=64, outstanding=32, bytes=size * reps)
    expected = pred.time_s + model.dispatch_overhead(plat).value
    assert run.summary["time_s_median"].iloc[0] == pytest.approx(expected, rel=1e-6)


# ---------------------------------------------------------------- options, notes, progress (issue 14)
@pytest.mark.parametrize("n_words,reps", [(1, 1), (3, 2), (1000, 7), (4096, 1024)])
def test_the_write_expectation_is_the_write_pattern(n_words, reps):
    from harness.bench import memcpy as mc
    words, key = mc.write_expectation(n_words, reps)
    assert np.array_equal(words.array() ^ np.uint64(key), mc.write_pattern(n_words, reps))


def test_direction_takes_a_comma_list_like_pcs(only_run, runs_dir):
    assert _run(runs_dir, "--sizes", "4K", "--direction", "read,copy", "--pcs", "2") == 0
    run = load_run(only_run(runs_dir))
    assert list(dict.fromkeys(run.summary["direction"])) == ["read", "copy"]


@pytest.mark.parametrize("value", ["read,bogus", ",", "read;copy"])
def test_a_bad_direction_list_is_one_line(runs_dir, capsys, value):
    assert _run(runs_dir, "--sizes", "4K", "--pcs", "2", "--direction", value) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--direction" in err and "read,copy" in err
    assert not any(runs_dir.iterdir())


def test_a_combination_that_cannot_run_is_said_not_dropped(only_run, runs_dir, capsys):
    assert _run(runs_dir, "--sizes", "4K", "--direction", "read,copy", "--pcs", "1,2") == 0
    err = capsys.readouterr().err
    assert "note: copy not run on 1 PC: each CU drives 2 PCs" in err
    run = load_run(only_run(runs_dir))
    assert any("copy not run on 1 PC" in n for n in run.context["notes"])
    got = {(d, p) for d, p in zip(run.summary["direction"], run.summary["pcs"])}
    assert got == {("read", 1), ("read", 2), ("copy", 2)}


def test_emulated_default_sizes_stop_where_the_model_stops_changing(only_run, runs_dir, capsys):
    from harness.bench import memcpy as mc
    assert main(["bench", "memcpy", "--mode", "emu", "--warmup", "0", "--repeats", "1", "--direction", "copy",
                 "--pcs", "2", "--out", str(runs_dir)]) == 0
    err = capsys.readouterr().err
    assert "default sizes stop at" in err and "--sizes 4K..256M runs them all" in err
    run = load_run(only_run(runs_dir))
    sizes = sorted(run.summary["bytes_per_pc"])
    assert sizes[0] == 4096 and sizes[-1] < 256 << 20
    assert any("default sizes stop at" in n for n in run.context["notes"])
    # the claim holds: no size above the last one run moves the modeled figure by the tolerance
    d, k, plat, _, _ = mc.memcpy_design()
    params = d.all_params(mc.KERNEL)
    last = mc.modeled_bandwidth_GBps(plat, k, params, 300, mc.MemcpyPoint("copy", 2, sizes[-1], 1024))
    s = sizes[-1]
    while s <= 256 << 20:
        bw = mc.modeled_bandwidth_GBps(plat, k, params, 300, mc.MemcpyPoint("copy", 2, s, mc.auto_kernel_reps(s)))
        assert abs(bw - last) <= mc.EMU_STABLE_REL * last
        s *= 2


def test_explicit_sizes_still_reach_256m_in_emulation():
    from harness.cli import build_parser
    from harness.commands.bench_memcpy import plan_from_args
    args = build_parser().parse_args(["bench", "memcpy", "--mode", "emu", "--sizes", "128M..256M",
                                      "--direction", "read", "--pcs", "1"])
    plan = plan_from_args(args)
    assert not plan.default_sizes and max(p.bytes_per_pc for p in plan.points) == 256 << 20


def test_a_launch_that_does_nothing_cannot_pass(only_run, runs_dir, monkeypatch):
    """The outputs are poisoned before every launch: a kernel that writes nothing fails every repetition,
    even after a repetition that left correct data behind."""
    from harness.runtime.session import Session
    real = Session.launch
    calls = {"n": 0}

    def lazy(self, runs, tmo, what):
        calls["n"] += 1
        if calls["n"] == 1:
            return real(self, runs, tmo, what)       # the warm-up really runs
        return 1e-3, 1e-3                           # later launches do nothing
    monkeypatch.setattr(Session, "launch", lazy)
    assert _run(runs_dir, "--sizes", "64K", "--direction", "copy", "--pcs", "4") == 0
    run = load_run(only_run(runs_dir), require_verified=False)
    s = run.samples
    assert s["verified"].tolist() == [True, False, False]
    assert "differs from the reference in 8192 of 8192 64-bit words (first at word 0)" in s["error"].iloc[1]


def test_progress_off_a_terminal_is_one_line_per_point_and_a_total(runs_dir, capsys):
    assert _run(runs_dir, "--sizes", "4K,64K", "--direction", "read", "--pcs", "1,2") == 0
    cap = capsys.readouterr()
    out = cap.out.splitlines()
    lines = [ln for ln in out if ln.startswith("memcpy (emu): read")]
    assert len(lines) == 4
    assert "read 2 PCs 64K: " in lines[-1] and "GB/s, 2/2 verified" in lines[-1] and "elapsed" in lines[-1]
    total = [ln for ln in out if ln.startswith("memcpy (emu): 4 points in ")]
    assert len(total) == 1 and total[0].endswith("total")
    assert out.index(total[0]) > out.index(lines[-1])
    assert "memcpy (emu)" not in cap.err                 # stderr keeps notes and errors only


def _screen(text: str) -> list[str]:
    """What a terminal shows after `text`: \r returns to the start of the line, \n starts a new one."""
    lines = [""]
    col = 0
    for ch in text:
        if ch == "\n":
            lines.append("")
            col = 0
        elif ch == "\r":
            col = 0
        else:
            cur = lines[-1]
            lines[-1] = cur[:col] + ch + cur[col + 1:]
            col += 1
    return [ln.rstrip() for ln in lines]


def test_progress_is_weighted_by_work_and_names_the_point():
    import io
    from harness.bench.common import Progress
    out = io.StringIO()
    bar = Progress(100.0, "bench", stream=out, tty=True, lines=io.StringIO())
    bar.REDRAW_S = 0.0
    bar.point("copy 16 PCs 64M")
    bar.update(90.0)                       # one heavy repetition: 90% done, not 1 of 2 launches
    screen = _screen(out.getvalue())
    assert " 90%" in screen[-1] and screen[-1].endswith("copy 16 PCs 64M")
    bar.write("warning: something")        # never glued onto the bar
    screen = _screen(out.getvalue())
    assert screen[-2] == "warning: something" and "copy 16 PCs 64M" in screen[-1]
    bar.close()                            # the bar goes; the total stays
    screen = _screen(out.getvalue())
    assert screen[-3] == "warning: something" and screen[-2].startswith("bench: ") and screen[-2].endswith(
        "total") and screen[-1] == ""


def test_an_error_never_lands_on_the_bar(runs_dir, capsys, monkeypatch):
    from harness.bench.common import Progress
    seen = []
    real_init = Progress.__init__

    def tty_init(self, *a, **k):
        k["tty"] = True
        real_init(self, *a, **k)
        seen.append(self)
    monkeypatch.setattr(Progress, "__init__", tty_init)
    monkeypatch.setenv("HARNESS_EMU_FAULT", "error")
    assert _run(runs_dir, "--sizes", "4K", "--pcs", "1", "--direction", "read") == 1
    screen = _screen(capsys.readouterr().err)
    err = [ln for ln in screen if ln.startswith("error:")]
    assert len(err) == 1 and seen and not any("[" in ln and "%" in ln for ln in screen if ln)


def _summary(n, emulated=False):
    import pandas as pd
    from harness.bench.common import BenchResult
    rows = [{"direction": "read", "pcs": 1, "bytes_per_pc": 4096 * (i + 1), "verified": True, "n_verified": 1,
             "time_s_cv": 0.5} for i in range(n)]
    return BenchResult("/tmp/x", "id", pd.DataFrame(rows), "model" if emulated else "measured",
                       "emu" if emulated else "hw")


def test_stability_warnings_are_counted_in_full_and_worded_for_one_repetition(capsys):
    from harness.commands.report import print_closing
    print_closing(_summary(19), lambda r: f"{r['direction']} {r['bytes_per_pc']}")
    out = capsys.readouterr().out.splitlines()
    warns = [ln for ln in out if ln.startswith("warning:")]
    assert len(warns) == 6 and warns[-1] == "warning: and 33 more (every point's spread is in summary.csv)"
    assert any("only 1 verified repetition;" in w for w in warns)
    assert not any("repetitions;" in w for w in warns if "only 1 " in w)


def test_no_stability_warning_where_times_are_deterministic(capsys):
    from harness.commands.report import print_closing
    print_closing(_summary(19, emulated=True), lambda r: "p")
    assert "warning" not in capsys.readouterr().out
