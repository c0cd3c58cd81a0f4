"""`harness bench latency`: statistics on fixed samples, the emulated run end to end, bad input."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harness import model
from harness.bench import gemm as gb
from harness.bench import latency as lb
from harness.results.reader import load_run
from harness.results.stats import summarize, time_stats
from harness.cli import main

SMALL = ["bench", "latency", "--mode", "emu", "--warmup", "1", "--repeats", "3"]


def _run(runs_dir, *extra):
    return main(SMALL + ["--out", str(runs_dir), *extra])


# ---------------------------------------------------------------- statistics on fixed samples
def test_time_stats_on_known_samples():
    # sorted 1, 2, 3, 4, 10: median 3; p99 at rank 0.99*4 = 3.96 -> 4 + 0.96*(10-4) = 9.76;
    # quartiles at ranks 1 and 3 -> 2 and 4, IQR 2; mean 4, sample variance 50/4 -> cv sqrt(12.5)/4
    st = time_stats(np.array([3.0, 1.0, 2.0, 10.0, 4.0]))
    assert st["time_s_min"] == 1.0 and st["time_s_max"] == 10.0
    assert st["time_s_median"] == 3.0
    assert st["time_s_p99"] == pytest.approx(9.76)
    assert st["time_s_iqr"] == pytest.approx(2.0)
    assert st["time_s_cv"] == pytest.approx(np.sqrt(12.5) / 4)


def test_time_stats_of_1000_dispatch_samples():
    # 1..1000 us: median 500.5 us; p99 at rank 0.99*999 = 989.01 -> 990.01 us; IQR 750.25 - 250.75 = 499.5 us
    t = np.arange(1, 1001) * 1e-6
    st = time_stats(np.random.default_rng(0).permutation(t))
    assert st["time_s_min"] == pytest.approx(1e-6)
    assert st["time_s_median"] == pytest.approx(500.5e-6)
    assert st["time_s_p99"] == pytest.approx(990.01e-6)
    assert st["time_s_iqr"] == pytest.approx(499.5e-6)
    assert time_stats(np.array([]))["time_s_median"] != time_stats(np.array([]))["time_s_median"]   # NaN


def _row(point, phase, t, verified=True, **kw):
    return {"point": point, "phase": phase, "repetition": 0, "time_s": t, "verified": verified,
            "error": "" if verified else "differs", "timing_source": "measured", **kw}


def test_summarize_uses_measured_verified_rows_only():
    d = dict(kind="dispatch", dtype="fp32", M=None, K=None, N=None, epilogue=None)
    g = dict(kind="gemm", dtype="fp32", M=50, K=720, N=960, epilogue="none")
    rows = ([_row(0, "warmup", 1.0, **d)] + [_row(0, "measure", t, **d) for t in (4e-5, 5e-5, 6e-5, 5e-5)]
            + [_row(1, "measure", t, **g) for t in (2e-4, 3e-4)] + [_row(1, "measure", 9.0, False, **g)])
    s = summarize(rows, lb.SUMMARY_KEYS).set_index("kind")
    assert s.loc["dispatch", "n"] == 4 and s.loc["dispatch", "verified"]             # warm-up left out
    assert s.loc["dispatch", "time_s_min"] == 4e-5 and s.loc["dispatch", "time_s_median"] == pytest.approx(5e-5)
    assert s.loc["dispatch", "time_s_p99"] == pytest.approx(5e-5 + 0.97 * 1e-5)     # rank 2.97 of 4
    assert s.loc["gemm", "n"] == 3 and s.loc["gemm", "n_verified"] == 2 and not s.loc["gemm", "verified"]
    assert s.loc["gemm", "time_s_max"] == 3e-4                                        # the failed 9 s is out
    assert s.loc["gemm", "errors"] == "differs"


def test_summary_carries_the_model_prediction():
    plat = model.load_platform("u280")
    design = gb.load_gemm_design("fp16")
    d = dict(kind="dispatch", dtype="fp16", M=None, K=None, N=None, epilogue=None)
    g = dict(kind="gemm", dtype="fp16", M=50, K=720, N=960, epilogue="bias")
    rows = [_row(0, "measure", 5e-5, **d), _row(1, "measure", 3e-4, **g)]
    s = lb.summarize_latency(rows, plat, design, 5e-5).set_index("kind")
    pred = model.predict_gemm(plat, dtype="fp16", M=50, K=720, N=960, epilogue="bias",
                              params=design.all_params(), cus=design.kernels["gemm"].cus,
                              clock_mhz=design.freq_mhz)
    assert s.loc["gemm", "predicted_time_s"] == pytest.approx(pred.time_s)
    assert s.loc["gemm", "pipeline_fill_s"] == pytest.approx(pred.pipeline_fill_s)
    assert s.loc["gemm", "pipeline_depth_s"] == pytest.approx(pred.pipeline_depth_s)
    assert s.loc["gemm", "M"] == 50 and pd.isna(s.loc["dispatch", "M"])
    assert np.isnan(s.loc["dispatch", "predicted_time_s"]) and s.loc["dispatch", "predicted_dispatch_s"] == 5e-5


# ---------------------------------------------------------------- the emulated run
def test_emulated_run_end_to_end(only_run, runs_dir, capsys):
    assert _run(runs_dir, "--launches", "50", "--shapes", "1x1x1,7x13x5,65x67x129", "--dtype", "int8",
                "--epilogue", "bias_gelu") == 0
    run = load_run(only_run(runs_dir))
    ctx = run.context
    assert ctx["bench"] == "latency" and ctx["dtype"] == "int8" and ctx["status"] == "complete"
    assert ctx["latency"]["dispatch_launches"] == 50
    s = run.samples
    assert list(s.columns) == lb.SAMPLE_COLUMNS
    disp = s[s["kind"] == "dispatch"]
    assert len(disp) == 1 + 50 and (disp["phase"] == "measure").sum() == 50
    assert disp[["M", "K", "N"]].isna().all().all()
    gem = s[s["kind"] == "gemm"]
    assert len(gem) == 3 * (1 + 3) and gem["verified"].all() and set(gem["epilogue"]) == {"bias_gelu"}
    summ = run.summary.set_index("kind")
    plat = model.load_platform("u280")
    dispatch = model.dispatch_overhead(plat).value
    # emulation: every launch's time is the model's (dispatch, plus the GEMM model for gemm)
    assert summ.loc["dispatch", "time_s_median"] == pytest.approx(dispatch)
    assert summ.loc["dispatch", "n"] == 50
    g = run.summary[run.summary["kind"] == "gemm"]
    assert len(g) == 3 and g["verified"].all()
    assert np.allclose(g["time_s_median"], g["predicted_time_s"] + g["predicted_dispatch_s"])
    assert (g["pipeline_fill_s"] > 0).all()
    from harness.roofline.ceilings import measured_dispatch      # what the roofline takes from it
    assert measured_dispatch([run]).value == pytest.approx(dispatch)
    out = capsys.readouterr().out
    assert "dispatch overhead" in out and "MODELED" in out and "run directory:" in out


def test_default_shapes_are_the_smolvla_workload(only_run, runs_dir):
    # without cameras or layers the workload keeps only its small projections: quick to run
    assert _run(runs_dir, "--launches", "5", "--warmup", "0", "--repeats", "1", "--cameras", "0",
                "--vlm-layers", "0", "--lang-tokens", "0", "--steps", "1", "--expert-layers", "0") == 0
    run = load_run(only_run(runs_dir))
    from harness.workload.smolvla import SmolVLAConfig
    want = gb.smolvla_shapes(SmolVLAConfig(cameras=0, vlm_layers=0, lang_tokens=0, num_steps=1, expert_layers=0))
    g = run.summary[run.summary["kind"] == "gemm"]
    assert [tuple(map(int, r)) for r in g[["M", "K", "N"]].to_numpy()] == list(want)
    assert g["verified"].all() and run.context["latency"]["workload"] == "smolvla"


@pytest.mark.parametrize("args,needle", [
    (["--launches", "0"], "at least 1"),
    (["--launches", "10", "--mode", "hw"], "at least 1000 on hardware"),
    (["--shapes", "0x1x1"], "at least 1"),
    (["--shapes", "1x1x1", "--dtype", "fp8"], "built: fp32"),
    (["--shapes", "100000x100000x1"], "use a smaller shape"),
])
def test_bad_input_is_one_line_exit_2_and_leaves_no_run(runs_dir, capsys, args, needle):
    with pytest.raises(SystemExit) as exc_info:
        raise SystemExit(_run(runs_dir, "--launches", "5", *args))
    assert exc_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err and "Traceback" not in err, err
    assert list(runs_dir.iterdir()) == []
