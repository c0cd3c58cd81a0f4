"""Your kernels on the roofline: `harness roofline` places the ops a `bench kernel` run covers at
their achieved GFLOP/s, uses their times in the achieved latency, lists them against their
roofline times, and names the kernel in ops.csv `kernel_source`."""
from __future__ import annotations

import csv
import pytest

from harness.cli import main
from harness.roofline import analyze
from harness.results.reader import load_run
from test_kernel_bench import gemm_spec
from test_kernel_spec import EXAMPLE, write_spec

OPS_GEMM = ["expert.action_out_proj", "expert.action_in_proj"]      # 50x720x32, 50x32x720
OPS_BIAS = ["expert.action_out_proj.bias"]                          # 50x32


@pytest.fixture(autouse=True)
def _private_build_dir(tmp_path, monkeypatch):
    from harness.designs import native
    monkeypatch.setattr(native, "BUILD_DIR", tmp_path / "emu")


@pytest.fixture()
def kernel_runs(tmp_path):
    """A gemm and an add_bias run of the example kernels on three smolVLA ops."""
    out = tmp_path / "runs"
    gdir = tmp_path / "g"
    gdir.mkdir()
    g = gemm_spec(gdir, shapes="ops = " + str(OPS_GEMM).replace("'", '"'),
                  kernel=f'name = "gemm"\nsource = "{EXAMPLE / "gemm.cpp"}"\nflags = ["-DMAX_K=1024", "-DMAX_N=1024"]')
    bdir = tmp_path / "b"
    bdir.mkdir()
    b = write_spec(bdir, shapes="ops = " + str(OPS_BIAS).replace("'", '"'))
    for spec in (g, b):
        assert main(["bench", "kernel", "--spec", str(spec), "--mode", "emu", "--warmup", "0", "--repeats", "2",
                     "--out", str(out)]) == 0
    runs = sorted(p for p in out.iterdir() if (p / "context.json").is_file())
    return [load_run(p) for p in runs]


def test_your_kernels_time_the_ops_they_cover(kernel_runs):
    from harness import model
    a = analyze(kernel_runs, "smolvla")
    disp = model.dispatch_overhead(model.load_platform("u280")).value
    ach = {r["name"]: r for r in a.rows if r["ceiling_set"] == "achieved"}
    by_run = {r.context["kernel"]["kernel"]: r for r in kernel_runs}
    gsum = by_run["gemm"].summary.set_index("ops")
    for name in OPS_GEMM:
        row = ach[name]
        assert row["kernel_source"] == "gemm" and row["run_id"] == by_run["gemm"].run_id
        assert row["time_s"] == pytest.approx(gsum.loc[name, "time_s_median"] - disp)   # launch cost out
        assert row["attained_GFLOPps"] == pytest.approx(row["flop"] / row["time_s"] / 1e9)
        assert row["time_source"] == "emulated (model)"
    assert ach["expert.action_out_proj.bias"]["kernel_source"] == "add_bias"
    # every row of a covered op names the kernel; no other op does
    for r in a.rows:
        assert r["kernel_source"] == {"expert.action_out_proj": "gemm", "expert.action_in_proj": "gemm",
                                      "expert.action_out_proj.bias": "add_bias"}.get(r["name"], "")
    # the comparison: your time against the roofline time of the same op, and the ratio
    mine = {x["name"]: x for x in a.your_kernels}
    assert set(mine) == set(OPS_GEMM) | set(OPS_BIAS)
    roof = {r["name"]: r for r in a.rows if r["ceiling_set"] == mine[OPS_GEMM[0]]["ceiling_set"]}
    spec = {r["name"]: r for r in a.rows if r["ceiling_set"] == "spec"}
    for name, x in mine.items():
        assert x["roofline_time_s"] == roof[name]["time_s"]
        assert x["ratio"] == pytest.approx(x["time_s"] / x["roofline_time_s"])
        assert x["spec_ratio"] == pytest.approx(x["time_s"] / spec[name]["time_s"])
    y = a.summary["your_kernels"]
    assert y["ops"] == 3 and y["kernels"] == ["add_bias", "gemm"]


def test_the_achieved_latency_uses_your_kernels(kernel_runs):
    with_yours = analyze(kernel_runs, "smolvla", precision="fp32")
    without = analyze([], "smolvla", precision="fp32")
    ops = {o.name: o for o in with_yours.workload.ops}
    a_ach = {r["name"]: r for r in with_yours.rows if r["ceiling_set"] == "achieved"}
    b_ach = {r["name"]: r for r in without.rows if r["ceiling_set"] == "achieved"}
    delta = sum(ops[n].count * (a_ach[n]["time_s"] - b_ach[n]["time_s"]) for n in OPS_GEMM + OPS_BIAS)
    assert with_yours.latency["latency_achieved_s"] - without.latency["latency_achieved_s"] == pytest.approx(delta)
    g = with_yours.latency["gap"]
    assert g["other"]["your_kernels_s"] == pytest.approx(sum(
        x["count"] * (x["time_s"] - x["roofline_time_s"]) for x in with_yours.your_kernels))


def test_roofline_outputs_name_your_kernels(kernel_runs, tmp_path, capsys):
    out = tmp_path / "roof"
    assert main(["roofline", "--results", *[str(r.path) for r in kernel_runs], "--workload", "smolvla",
                 "--out", str(out)]) == 0
    assert "Your kernels (add_bias, gemm" in capsys.readouterr().out
    with open(out / "ops.csv") as f:
        rows = list(csv.DictReader(f))
    assert rows and "kernel_source" in rows[0]
    assert {r["kernel_source"] for r in rows if r["name"] == "expert.action_in_proj"} == {"gemm"}
    assert {r["kernel_source"] for r in rows if r["name"] == "expert.mlp.up"} == {""}
    md = (out / "report.md").read_text()
    section = md.split("## Your kernels", 1)[1].split("\n## ", 1)[0]
    assert "expert.action_in_proj | gemm | 50x32x720" in section and "ratio to spec" in section
    from harness.roofline.plot import panels, your_rows
    a = analyze(kernel_runs, "smolvla")
    assert {r["name"] for p in panels(a) for r in your_rows(p)} == set(OPS_GEMM) | set(OPS_BIAS)


def test_an_op_run_at_another_shape_is_not_used(kernel_runs):
    from harness.workload.smolvla import SmolVLAConfig, build_smolvla
    wl = build_smolvla(SmolVLAConfig(chunk_size=40))         # M = 40 action tokens, the runs had 50
    a = analyze(kernel_runs, wl)
    assert not a.your_kernels
    assert all(r["kernel_source"] == "" for r in a.rows)
    assert any("ran expert.action_out_proj as M=50 K=720 N=32, but this workload has it as M=40" in n
               for n in a.notices)
