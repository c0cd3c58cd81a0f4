"""The readers' checks, each fed the mistake it exists for (tests/test_reliability.py runs the
same checks through the CLI; here they are pinned one by one)."""
from __future__ import annotations

import hashlib
import json
import pathlib
import shutil

import pandas as pd
import pytest

from harness.errors import UserError
from harness.results import bounds, schema
from harness.results.reader import load_run

FIX = pathlib.Path(__file__).parent / "fixtures" / "runs"
HW_MEMCPY = "20250101T000000Z-hw-memcpy"
HW_GEMM = "20250101T020000Z-hw-gemm"
EMU_GEMM = "20250101T070000Z-emu-gemm"


@pytest.fixture()
def copy(tmp_path):
    def make(name):
        dst = tmp_path / name
        shutil.copytree(FIX / name, dst)
        return dst
    return make


def edit_context(run, fn):
    ctx = json.loads((run / "context.json").read_text())
    fn(ctx)
    (run / "context.json").write_text(json.dumps(ctx))


def refused(run) -> str:
    with pytest.raises(UserError) as e:
        load_run(run)
    return str(e.value)


def test_the_writer_records_both_files_sha256_at_finish(runs_dir, only_run, memcpy_xclbin):
    from harness.cli import main
    assert main(["bench", "memcpy", "--mode", "emu", "--sizes", "4K", "--pcs", "1", "--direction", "read",
                 "--repeats", "1", "--warmup", "0", "--kernel-reps", "1", "--out", str(runs_dir)]) == 0
    run = only_run(runs_dir)
    ctx = json.loads((run / "context.json").read_text())
    assert ctx["status"] == "complete"
    for name in ("samples.csv", "summary.csv"):
        assert ctx["sha256"][name] == hashlib.sha256((run / name).read_bytes()).hexdigest()
    # one dtype key (issue 9): at the top, not also in the design block
    assert "dtype" in ctx and "dtype" not in ctx["design"] and ctx["dtype"] is None
    # the emulator marks its device, its xclbin and its runtime, whatever the timing source says
    assert ctx["device"]["name"] == schema.EMULATED_DEVICE_NAME
    assert ctx["xclbin"]["format"] == schema.EMU_XCLBIN_FORMAT
    assert ctx["runtime"]["module"] == "harness.runtime.emulator" and ctx["emulator"]["library"]
    assert load_run(run).run_id == ctx["run_id"]


def test_gemm_run_records_dtype_once_and_samples_agree(runs_dir, only_run):
    from harness.cli import main
    assert main(["bench", "gemm", "--mode", "emu", "--shapes", "8x8x8", "--dtype", "int8", "--repeats", "1",
                 "--warmup", "0", "--out", str(runs_dir)]) == 0
    run = load_run(only_run(runs_dir))
    assert run.context["dtype"] == "int8" and "dtype" not in run.context["design"]
    assert set(run.samples["dtype"]) == {"int8"}


def test_a_summary_that_is_not_the_samples_summary_is_refused(copy):
    # e.g. a summary whose "best" column holds the median: recomputing from the samples catches it
    run = copy(HW_MEMCPY)
    s = pd.read_csv(run / "summary.csv")
    s["bandwidth_GBps_best"] = s["bandwidth_GBps_median"]
    s.to_csv(run / "summary.csv", index=False)
    edit_context(run, lambda c: c["sha256"].update(
        {"summary.csv": hashlib.sha256((run / "summary.csv").read_bytes()).hexdigest()}))
    assert "bandwidth_GBps_best" in refused(run) and "does not match the samples" in refused(run)


@pytest.mark.parametrize("direction,pcs,ok,bad", [
    ("read", 1, 14.375, 14.4),            # one PC: its spec peak
    ("write", 16, 230.0, 230.1),          # 16 x 14.375
    ("copy", 2, 28.75, 28.8),             # copy counts read + written bytes over its 2 PCs
    ("copy", 32, 460.0, 460.1),           # all 32 PCs: the aggregate peak
])
def test_memcpy_bound_is_per_pc_peak_times_pcs(direction, pcs, ok, bad):
    ctx = json.loads((FIX / HW_MEMCPY / "context.json").read_text())
    b = bounds.memcpy_bound(ctx, pcs)
    assert b.value == pytest.approx(ok) and ok <= b.value < bad
    assert "UG1393" in b.source and "14.375" in b.source


def test_gemm_bound_is_the_designs_mac_peak_at_the_runs_clock():
    ctx = json.loads((FIX / HW_GEMM / "context.json").read_text())
    b = bounds.gemm_bound(ctx, "fp32", 300.0)
    # fp32 design: GEMM_ROWS 8 x GEMM_COLS 64 MACs per CU x 3 CUs x 2 FLOP x 300 MHz
    assert b.value == pytest.approx(8 * 64 * 3 * 2 * 0.3)
    assert "GEMM_ROWS=8 x GEMM_COLS=64" in b.source and "3 CU(s) of gemm" in b.source and "300 MHz" in b.source
    assert bounds.gemm_bound(ctx, "fp32", 150.0).value == pytest.approx(8 * 64 * 3 * 2 * 0.15)
    # one CU's own rate: its array alone
    assert bounds.gemm_bound(ctx, "fp32", 300.0, per_cu=True).value == pytest.approx(8 * 64 * 2 * 0.3)
    # an edited array size cannot lift the bound past what the platform's DSPs can do for fp32
    ctx["design"]["params"]["GEMM_ROWS"] = 10 ** 6
    big = bounds.gemm_bound(ctx, "fp32", 300.0)
    assert big.value == pytest.approx(8490 * 0.2 * 2 * 0.3) and "DSPs" in big.source


def test_latency_floor_is_the_mac_loop_at_peak():
    ctx = json.loads((FIX / HW_GEMM / "context.json").read_text())
    f = bounds.gemm_floor_s(ctx, "fp32", 300.0, 50, 720, 2048)
    assert f.value == pytest.approx(50 * 720 * 2048 / (8 * 64 * 3) / 300e6)


def test_flops_bound_is_the_lanes_of_every_cu():
    from harness.designs import load_design
    ctx = {"bench": "flops", "platform": "u280", "design": load_design("flops", dtype="fp32").to_context()}
    b = bounds.gemm_bound(ctx, "fp32", 300.0)
    assert b.value == pytest.approx(512 * 3 * 2 * 0.3) and "FLOPS_LANES=512" in b.source


def _edit_samples(run, fn):
    s = pd.read_csv(run / "samples.csv", dtype=str, keep_default_na=False)
    fn(s)
    s.to_csv(run / "samples.csv", index=False)
    edit_context(run, lambda c: c.update(sha256={**c["sha256"], "samples.csv": hashlib.sha256(
        (run / "samples.csv").read_bytes()).hexdigest()}))


def test_per_cu_columns_are_checked(copy):
    """gemm's per-CU columns: the CUs' columns add up to N, a CU's rate is its work over its time,
    and no CU's rate passes one CU's MAC peak."""
    run = copy(HW_GEMM)
    _edit_samples(run, lambda s: s.__setitem__("cu0_N", (s["cu0_N"].astype(int) + 64).astype(str)))
    assert "do not add up to N" in refused(run)
    shutil.rmtree(run)
    run = copy(HW_GEMM)
    _edit_samples(run, lambda s: s.__setitem__(
        "cu1_throughput_GFLOPps", s["cu1_throughput_GFLOPps"].map(lambda v: str(float(v) * 1.5) if v else v)))
    assert "cu1_throughput_GFLOPps" in refused(run) and "is not 2 x M x K x cu1_N" in refused(run)
    shutil.rmtree(run)
    # a CU whose time and rate agree but pass its array's peak (307.2 GFLOP/s for fp32 at 300 MHz)

    def fast_cu(s):
        ok = s["verified"] == "True"
        t = s["cu0_time_s"].astype(float) / 20
        s.loc[ok, "cu0_time_s"] = t[ok].map(repr)
        rate = 2 * s["M"].astype(float) * s["K"].astype(float) * s["cu0_N"].astype(float) / t / 1e9
        s.loc[ok, "cu0_throughput_GFLOPps"] = rate[ok].map(repr)
    run = copy(HW_GEMM)
    _edit_samples(run, fast_cu)
    _resummarize(run)
    msg = refused(run)
    assert "cu0_throughput_GFLOPps" in msg and "above one CU's peak 307.20 GFLOP/s" in msg, msg
    assert "GEMM_ROWS=8 x GEMM_COLS=64 MACs/cycle per CU" in msg


def _resummarize(run):
    """summary.csv recomputed from the (edited) samples, as a consistent forger would."""
    from harness.results.reader import _typed
    from harness.results.stats import summarize_samples
    raw = pd.read_csv(run / "samples.csv", dtype=str, keep_default_na=False)
    rows = _typed(run / "samples.csv", raw).to_dict("records")
    summarize_samples("gemm", rows, 3).to_csv(run / "summary.csv", index=False)
    edit_context(run, lambda c: c.update(sha256={**c["sha256"], "summary.csv": hashlib.sha256(
        (run / "summary.csv").read_bytes()).hexdigest()}))


def test_no_single_field_edit_makes_an_emulated_run_measured(copy):
    """An emulated run relabelled hw/measured carries several marks; fixing all but one still fails."""
    fixes = {
        "device": lambda c: c["device"].update(name="xilinx_u280_gen3x16_xdma_base_1", bdf="0000:3b:00.1"),
        "xclbin": lambda c: c["xclbin"].update(format="xclbin2", xsa_name="xilinx_u280",
                                               uuid="5e7a3c1d-2b4f-4e6a-9c8d-0f1e2d3c4b5a"),
        "runtime": lambda c: c["runtime"].update(module="pyxrt"),
        "emulator": lambda c: c.pop("emulator"),
    }

    def relabel(run):
        ctx = json.loads((run / "context.json").read_text())
        new_id = ctx["run_id"].replace("-emu-", "-hw-")
        s = pd.read_csv(run / "samples.csv", dtype=str, keep_default_na=False)
        s["run_id"], s["timing_source"] = new_id, "measured"
        s.to_csv(run / "samples.csv", index=False)
        sm = pd.read_csv(run / "summary.csv", dtype=str, keep_default_na=False)
        sm["timing_source"] = "measured"
        sm.to_csv(run / "summary.csv", index=False)
        edit_context(run, lambda c: c.update(
            mode="hw", timing_source="measured", run_id=new_id,
            sha256={n: hashlib.sha256((run / n).read_bytes()).hexdigest() for n in ("samples.csv", "summary.csv")}))

    for left_out in fixes:
        run = copy(EMU_GEMM)
        relabel(run)
        for name, fix in fixes.items():
            if name != left_out:
                edit_context(run, fix)
        assert "refused as a measured ceiling" in refused(run), left_out
        shutil.rmtree(run)
    # with every mark changed the forgery would have to be complete: the reader cannot tell any more,
    # which is why each mark is written by a different part of the emulator
    run = copy(EMU_GEMM)
    relabel(run)
    for fix in fixes.values():
        edit_context(run, fix)
    assert load_run(run).timing_source == "measured"


def test_a_hw_fixture_is_a_measurement():
    run = load_run(FIX / HW_MEMCPY)
    assert run.timing_source == "measured" and not run.emulated


def test_every_fixture_was_written_by_the_current_writer():
    for d in FIX.iterdir():
        if (d / "context.json").exists():
            ctx = json.loads((d / "context.json").read_text())
            assert ctx["schema_version"] == schema.SCHEMA_VERSION, f"run tests/fixtures/regenerate.py ({d.name})"
