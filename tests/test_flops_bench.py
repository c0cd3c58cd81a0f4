"""`harness bench flops` end to end on the emulator: every dtype verified bit for bit, the
issue's summary columns, the model's roofline shape, failed checks recorded, bad input."""
from __future__ import annotations

import numpy as np
import pytest

from harness import model
from harness.bench import flops as fb
from harness.bench import reference
from harness.cli import main
from harness.designs import load_design
from harness.results.reader import load_run

SMALL = ["bench", "flops", "--mode", "emu", "--warmup", "1", "--repeats", "2", "--bytes-per-port", "2K"]


def _run(runs_dir, *extra):
    return main(SMALL + ["--out", str(runs_dir), *extra])


@pytest.mark.parametrize("dtype", ["fp32", "fp16", "fx16", "int8"])
def test_every_dtype_is_verified_and_summarised(only_run, runs_dir, capsys, dtype):
    assert _run(runs_dir, "--dtype", dtype, "--flops-per-element", "1,3,64,4096") == 0
    run = load_run(only_run(runs_dir))
    assert run.context["bench"] == "flops" and run.context["status"] == "complete"
    s, summ = run.samples, run.summary
    assert list(s.columns) == fb.SAMPLE_COLUMNS
    assert s["verified"].all() and len(s) == 4 * 3
    cus = load_design("flops", dtype=dtype).kernels["flops"].cus
    la = 64 // fb.elem_bytes(dtype)
    assert (s["elements"] == cus * 4 * (2048 // 64) * la).all()
    assert (s["flop"] == 2 * s["flops_per_element"] * s["elements"]).all()
    assert np.allclose(s["oi_FLOPpB"], s["flop"] / s["bytes"])
    for col in ("verified", "throughput_GFLOPps_best", "throughput_GFLOPps_median", "bandwidth_GBps_best",
                "flops_per_element", "oi_FLOPpB"):
        assert col in summ.columns
    assert list(summ["flops_per_element"]) == [1, 3, 64, 4096]
    assert summ["throughput_GFLOPps_best"].is_monotonic_increasing      # from the slope toward the roof
    out = capsys.readouterr().out
    assert "compute ceiling" in out and "MODELED" in out


def test_a_wrong_result_is_recorded_and_never_used(only_run, runs_dir, monkeypatch):
    real = reference.flops_expected
    monkeypatch.setattr(reference, "flops_expected",
                        lambda dtype, x, f, params=None: real(dtype, x, f + 1, params))   # one MAC too many
    assert _run(runs_dir, "--flops-per-element", "5") == 0
    import pandas as pd
    d = only_run(runs_dir)
    samples, summary = pd.read_csv(d / "samples.csv"), pd.read_csv(d / "summary.csv")
    assert not samples["verified"].any() and samples["throughput_GFLOPps"].isna().all()
    assert "differ from the replayed order" in samples["error"].iloc[0]
    assert not summary["verified"].any()
    with pytest.raises(Exception, match="no verified point"):     # and a reader never uses it
        load_run(d)


def test_the_model_traces_a_roofline_and_reaches_the_design_peak():
    """Small F: memory-bound (the rate grows with F); large F: at least 90% of the design's DSP peak."""
    plat = model.load_platform("u280")
    for dtype in ("fp32", "fp16", "fx16", "int8"):
        d = load_design("flops", dtype=dtype)
        kw = dict(dtype=dtype, n_words=(16 << 20) // 64, params=d.all_params("flops"), cus=d.kernels["flops"].cus)
        low, high = model.predict_flops(plat, f=1, **kw), model.predict_flops(plat, f=4096, **kw)
        assert low.bound == "memory" and high.bound == "compute"
        assert high.gflops >= 0.9 * high.kernel_peak_GFLOPps
        assert high.dsps >= 0.75 * plat.dsp_available.value
        assert high.oi_FLOPpB == pytest.approx(4096 * low.oi_FLOPpB)


@pytest.mark.parametrize("args,needle", [
    (["--flops-per-element", "0"], "--flops-per-element 0"),
    (["--flops-per-element", "1,x"], "--flops-per-element"),
    (["--bytes-per-port", "100"], "multiple of 64"),
    (["--bytes-per-port", "300M"], "exceed one PC"),
    (["--dtype", "fp64"], "fp64"),
])
def test_bad_input_is_one_line_exit_2_and_leaves_no_run(runs_dir, capsys, args, needle):
    with pytest.raises(SystemExit) as exc_info:
        raise SystemExit(_run(runs_dir, *args))
    assert exc_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err and "Traceback" not in err, err
    assert list(runs_dir.iterdir()) == []


def test_a_flops_run_is_the_compute_ceiling_of_its_precision(only_run, runs_dir, tmp_path, capsys):
    """harness roofline: the best verified GFLOP/s of a flops run is the compute ceiling of that element
    type, with the run as its source."""
    import json
    assert _run(runs_dir, "--flops-per-element", "1,4096") == 0
    run = only_run(runs_dir)
    best = float(load_run(run).summary["throughput_GFLOPps_best"].max())
    out = tmp_path / "roof"
    assert main(["roofline", "--results", str(run), "--out", str(out)]) == 0
    data = json.loads((out / "roofline.json").read_text())
    comp = [c for c in data["ceilings"] if c["kind"] == "compute" and c["run_id"] == run.name]
    assert len(comp) == 1 and comp[0]["dtype"] == "fp32" and comp[0]["name"].startswith("flops fp32")
    assert comp[0]["value"] == pytest.approx(best)


def test_the_readers_check_a_flops_run(only_run, runs_dir):
    """A flops run read back is held to its own columns and bounds: an edited flop, or times that put
    it past the design's FLOPS_LANES x CUs peak (consistently forged), are refused."""
    import hashlib
    import json

    import pandas as pd

    from harness.errors import UserError
    from harness.results.reader import _typed
    from harness.results.stats import summarize_samples
    assert _run(runs_dir, "--flops-per-element", "4096") == 0
    d = only_run(runs_dir)
    load_run(d)

    def rewrite(edit, resummarize=False):
        s = pd.read_csv(d / "samples.csv", dtype=str, keep_default_na=False)
        edit(s)
        s.to_csv(d / "samples.csv", index=False)
        if resummarize:
            rows = _typed(d / "samples.csv", pd.read_csv(d / "samples.csv", dtype=str,
                                                         keep_default_na=False)).to_dict("records")
            summarize_samples("flops", rows).to_csv(d / "summary.csv", index=False)
        ctx = json.loads((d / "context.json").read_text())
        ctx["sha256"] = {n: hashlib.sha256((d / n).read_bytes()).hexdigest() for n in ("samples.csv", "summary.csv")}
        (d / "context.json").write_text(json.dumps(ctx))

    orig = (d / "samples.csv").read_text(), (d / "summary.csv").read_text()
    rewrite(lambda s: s.__setitem__("flop", (s["flop"].astype(int) * 2).astype(str)))
    with pytest.raises(UserError, match="is not 2 x flops_per_element x elements"):
        load_run(d)
    (d / "samples.csv").write_text(orig[0])
    (d / "summary.csv").write_text(orig[1])

    def faster(s):
        t = s["time_s"].astype(float) / 1000
        s["time_s"] = t.map(repr)
        for rate, work in (("throughput_GFLOPps", "flop"), ("bandwidth_GBps", "bytes")):
            s[rate] = (s[work].astype(float) / t / 1e9).map(repr)
    rewrite(faster, resummarize=True)
    with pytest.raises(UserError, match=r"above the design's peak .*FLOPS_LANES=512 MACs/cycle per CU x 3 CU"):
        load_run(d)
