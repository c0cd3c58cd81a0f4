"""`harness bench kernel --spec` end to end on the emulator (and the hw branch with a pyxrt
stand-in): verified launches, time only from the cycle model, functional-only runs, failed checks
recorded, and every bad input refused with one line and nothing left looking complete."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import harness.runtime as rtmod
from harness import model
from harness.bench import kernel as kb
from harness.cli import main
from harness.designs import native
from harness.designs.spec import load_spec
from harness.results.reader import load_run
from harness.runtime import emulator
from test_kernel_spec import EXAMPLE, spec_text, write_spec

@pytest.fixture(autouse=True)
def _private_build_dir(tmp_path, monkeypatch):
    """Specs written into tmp_path build into it too, not into build/emu/."""
    from harness.designs import native as _native
    monkeypatch.setattr(_native, "BUILD_DIR", tmp_path / "emu")


SMALL = ["bench", "kernel", "--mode", "emu", "--warmup", "1", "--repeats", "2"]
GEMM_ARGS = ('[[args]]\nname = "A"\ntype = "float32"\nsize = "M*K"\nbank = "HBM[0]"\ndirection = "in"\n'
             '[[args]]\nname = "B"\ntype = "float32"\nsize = "K*N"\nbank = "HBM[1]"\ndirection = "in"\n'
             '[[args]]\nname = "C"\ntype = "float32"\nsize = "M*N"\nbank = "HBM[2]"\ndirection = "out"\n'
             '[[args]]\nname = "M"\nvalue = "M"\n[[args]]\nname = "K"\nvalue = "K"\n[[args]]\nname = "N"\nvalue = "N"')


def gemm_spec(tmp_path, **over) -> Path:
    parts = dict(kernel=f'name = "gemm"\nsource = "{EXAMPLE / "gemm.cpp"}"\nflags = ["-DMAX_K=512", "-DMAX_N=512"]',
                 constants="AXI_LAT = 78\nMAC_DEPTH = 89", args=GEMM_ARGS,
                 shapes="dims = [{ M = 1, K = 1, N = 1 }, { M = 7, K = 13, N = 5 }, { M = 33, K = 65, N = 17 }]",
                 counts=None, reference='function = "reference:gemm"',
                 timing='cycles = "M * (K + AXI_LAT + 2 * N + K * (N - 1 + MAC_DEPTH))"')
    parts.update(over)
    return write_spec(tmp_path, "gemm.toml", **parts)


def run_cli(runs_dir, spec, *extra):
    return main(SMALL + ["--spec", str(spec), "--out", str(runs_dir), *extra])


# ---------------------------------------------------------------- verified, timed by the cycle model
def test_a_spec_kernel_runs_verified_and_timed_by_its_cycle_model(tmp_path, runs_dir, only_run, capsys):
    spec_path = gemm_spec(tmp_path)
    assert run_cli(runs_dir, spec_path) == 0
    run = load_run(only_run(runs_dir))
    ctx = run.context
    assert ctx["bench"] == "kernel" and ctx["status"] == "complete" and run.timing_source == "model"
    assert ctx["kernel"]["kernel"] == "gemm" and "cycle model" in ctx["kernel"]["timing"]
    assert ctx["dtype"] == "fp32" and ctx["design"]["kernels"]["gemm"]["args"]["C"] == ["HBM[2]"]
    s = run.samples
    assert list(s.columns) == kb.SAMPLE_COLUMNS and len(s) == 3 * 3 and s["verified"].all()
    # time = the modeled dispatch + the spec's cycles at the spec's clock, nothing else
    disp = model.dispatch_overhead(model.load_platform("u280")).value
    M, K, N = s["M"], s["K"], s["N"]
    cycles = M * (K + 78 + 2 * N + K * (N - 1 + 89))
    assert np.allclose(s["cycles"], cycles) and np.allclose(s["predicted_time_s"], cycles / 300e6)
    assert np.allclose(s["time_s"], disp + cycles / 300e6, rtol=1e-9)
    assert (s["flop"] == 2 * M * K * N).all() and (s["bytes"] == 4 * (M * K + K * N + M * N)).all()
    assert np.allclose(s["throughput_GFLOPps"], s["flop"] / s["time_s"] / 1e9)
    summ = run.summary
    assert len(summ) == 3 and summ["verified"].all() and summ["time_s_median"].notna().all()
    # the spec as it was read, and the files it names, travel with the run
    assert (run.path / "spec.toml").read_text() == spec_path.read_text()
    assert {p.name for p in (run.path / "spec_files").iterdir()} == {"gemm.cpp", "reference.py"}
    out = capsys.readouterr().out
    assert "MODELED" in out and "cycle model us" in out and "run directory:" in out


def test_ops_names_travel_with_their_points(tmp_path, runs_dir, only_run):
    spec = write_spec(tmp_path, shapes='ops = ["expert.action_out_proj.bias", "expert.action_in_proj.bias", '
                                       '"expert.time_mlp_out.bias"]',
                      kernel=f'name = "add_bias"\nsource = "{EXAMPLE / "add_bias.cpp"}"\nflags = ["-DMAX_N=1024"]')
    assert run_cli(runs_dir, spec, "--repeats", "1", "--warmup", "0") == 0
    s = load_run(only_run(runs_dir)).summary.set_index("dims")
    assert s.loc["M=50 N=720", "ops"] == "expert.action_in_proj.bias;expert.time_mlp_out.bias"
    assert s.loc["M=50 N=32", "ops"] == "expert.action_out_proj.bias"
    assert s["verified"].all()


def test_emulated_results_are_the_native_kernel_against_the_reference(tmp_path):
    """The run is checked against the spec's reference: an output off by one ulp fails."""
    spec = load_spec(gemm_spec(tmp_path))
    from harness.runtime import open_runtime
    from harness.runtime.session import Session
    sess = Session(open_runtime("emu"), spec.design(), native.ensure_built(spec.design(), quiet=True))
    case = kb.KernelCase(sess, spec, spec.points[2], "cycles", kb.RunOptions(), spec.freq_mhz)
    r = case.launch()
    assert r["verified"], r["error"]
    out = case._view("C")
    out[5] = np.nextafter(out[5], np.float32(9))
    ok, msg = case.verify()
    assert not ok and "C differs from the reference reference:gemm" in msg and "1 of 561" in msg


# ---------------------------------------------------------------- no cycle model, no reference
def test_without_a_cycle_model_the_run_is_functional_only(tmp_path, runs_dir, only_run, capsys):
    assert run_cli(runs_dir, gemm_spec(tmp_path, timing=None)) == 0
    run = load_run(only_run(runs_dir))
    assert run.timing_source == "none" and not run.timed
    assert run.context["kernel"]["timing"].startswith("functional only: no time")
    s = run.samples
    assert s["verified"].all() and s["time_s"].isna().all() and (s["timing_source"] == "none").all()
    assert s["throughput_GFLOPps"].isna().all() and s["bandwidth_GBps"].isna().all()
    assert s["cycles"].isna().all() and s["predicted_time_s"].isna().all()
    summ = run.summary
    assert summ["verified"].all()
    for col in ("time_s_median", "time_s_cv", "throughput_GFLOPps_best", "bandwidth_GBps_median"):
        assert summ[col].isna().all(), col
    out = capsys.readouterr().out
    assert "FUNCTIONAL ONLY: NO TIME" in out and "median us" not in out


def test_without_a_reference_nothing_is_verified_and_no_figure_is_written(tmp_path, runs_dir, only_run, capsys):
    assert run_cli(runs_dir, gemm_spec(tmp_path, reference=None)) == 0
    run = load_run(only_run(runs_dir), require_verified=False)
    assert not run.samples["verified"].any() and run.samples["throughput_GFLOPps"].isna().all()
    assert run.verified_summary().empty and "no [reference]" in run.summary["errors"].iloc[0]
    assert "no launch could be verified" in capsys.readouterr().out


def test_a_failed_check_is_recorded_and_never_used(tmp_path, runs_dir, only_run):
    """A reference that sums in float64 differs from the kernel's fp32 order: recorded, not used."""
    (tmp_path / "ref64.py").write_text(
        "import numpy as np\n"
        "def gemm(A, B, M, K, N):\n"
        "    return (A.reshape(M, K).astype(np.float64) @ B.reshape(K, N)).astype(np.float32)\n")
    spec = gemm_spec(tmp_path, reference='function = "ref64:gemm"',
                     shapes="dims = [{ M = 33, K = 65, N = 17 }]")
    assert run_cli(runs_dir, spec) == 0
    run = load_run(only_run(runs_dir), require_verified=False)
    assert not run.samples["verified"].any()
    assert run.samples["throughput_GFLOPps"].isna().all() and run.summary["time_s_median"].isna().all()
    assert "C differs from the reference ref64:gemm" in run.summary["errors"].iloc[0]


# ---------------------------------------------------------------- bad input: one line, exit 2
def _one_line(capsys) -> str:
    """The error line (a progress line about a native build may precede it)."""
    lines = [ln for ln in capsys.readouterr().err.strip().splitlines() if not ln.startswith("building ")]
    assert len(lines) == 1, lines
    return lines[0]


@pytest.mark.parametrize("over,message", [
    ({"shapes": 'ops = ["vision.mlp.fc9"]'}, "unknown op name 'vision.mlp.fc9'"),
    ({"shapes": 'ops = ["vision.mlp.fc1.gelu"]', "counts": 'flop = "M*N"'},   # elementwise: binds M and N only
     "size 'M*K' does not evaluate: K is not bound"),
    ({"args": GEMM_ARGS.replace("HBM[2]", "DDR[7]")}, "DDR[7], which the platform does not have"),
    ({"args": GEMM_ARGS.replace('size = "K*N"', 'size = "K*N/3"')}, "not a whole number"),
    ({"reference": 'function = "nowhere:gemm"'}, "cannot import nowhere"),
])
def test_a_bad_spec_is_refused_before_anything_exists(tmp_path, runs_dir, capsys, over, message):
    assert run_cli(runs_dir, gemm_spec(tmp_path, **over)) == 2
    err = _one_line(capsys)
    assert err.startswith("error: ") and message in err
    assert not any(runs_dir.iterdir())


def test_a_missing_spec_file_says_what_to_give(runs_dir, capsys):
    assert main(SMALL + ["--spec", str(runs_dir / "nope.toml"), "--out", str(runs_dir)]) == 2
    assert "does not exist" in _one_line(capsys)


def test_a_bank_the_xclbin_lacks_is_refused_before_anything_exists(tmp_path, runs_dir, capsys):
    """The xclbin was linked with C on HBM[2]; a spec that says HBM[9] is refused, and one whose
    bank the xclbin has no memory for at all as well."""
    built = native.ensure_built(load_spec(gemm_spec(tmp_path)).design(), quiet=True)
    other = tmp_path / "other"
    other.mkdir()
    moved = gemm_spec(other, args=GEMM_ARGS.replace("HBM[2]", "HBM[9]"))
    assert run_cli(runs_dir, moved, "--xclbin", str(built)) == 2
    err = _one_line(capsys)
    assert "C is in HBM[9], but" in err and "connects gemm_1.C to HBM[2]" in err
    assert not any(runs_dir.iterdir())


def test_a_reference_that_raises_is_refused_and_never_leaves_a_complete_run(tmp_path, runs_dir, capsys):
    # on the first shape: refused before the run directory exists
    (tmp_path / "bad.py").write_text("def gemm(A, B, M, K, N):\n    raise RuntimeError('oops')\n"
                                     "def late(A, B, M, K, N):\n"
                                     "    if M > 1:\n        raise RuntimeError('only M=1')\n"
                                     "    return A.reshape(M, K) @ B.reshape(K, N)\n")
    assert run_cli(runs_dir, gemm_spec(tmp_path, reference='function = "bad:gemm"')) == 2
    assert "reference bad:gemm raised RuntimeError: oops for M=1 K=1 N=1" in _one_line(capsys)
    assert not any(runs_dir.iterdir())
    # on a later shape: the run directory stays marked incomplete, with the reason
    assert run_cli(runs_dir, gemm_spec(tmp_path, reference='function = "bad:late"')) == 2
    assert "raised RuntimeError: only M=1 for M=7 K=13 N=5" in _one_line(capsys)
    (run_dir,) = list(runs_dir.iterdir())
    ctx = json.loads((run_dir / "context.json").read_text())
    assert ctx["status"] == "incomplete" and "only M=1" in ctx["error"]
    from harness.errors import UserError
    with pytest.raises(UserError, match="incomplete run"):
        load_run(run_dir)


def test_emulation_needs_a_source_and_its_clock_comes_from_the_spec(tmp_path, runs_dir, capsys):
    assert run_cli(runs_dir, gemm_spec(tmp_path, kernel='name = "gemm"')) == 2
    assert "gives no source" in _one_line(capsys)
    assert run_cli(runs_dir, gemm_spec(tmp_path), "--clock-mhz", "250") == 2
    assert "freq_mhz" in _one_line(capsys)
    assert not any(runs_dir.iterdir())


def test_a_kernel_that_fails_to_compile_says_so(tmp_path, runs_dir, capsys):
    (tmp_path / "broken.cpp").write_text('extern "C" void gemm(float* A) { this is not C++ }\n')
    assert run_cli(runs_dir, gemm_spec(tmp_path, kernel='name = "gemm"\nsource = "broken.cpp"')) == 2
    assert "native build of spec_gemm" in _one_line(capsys)


# ---------------------------------------------------------------- the hardware branch
@pytest.fixture()
def fake_pyxrt(monkeypatch):
    monkeypatch.setattr(rtmod, "_import_pyxrt", lambda: emulator)
    for var in ("XCL_EMULATION_MODE", "EMCONFIG_PATH"):
        monkeypatch.setenv(var, "")
        monkeypatch.delenv(var)
    return emulator


def test_hw_mode_measures_and_needs_the_xclbin(fake_pyxrt, tmp_path, runs_dir, only_run, capsys):
    spec_path = gemm_spec(tmp_path)
    base = ["bench", "kernel", "--spec", str(spec_path), "--mode", "hw", "--warmup", "0", "--repeats", "2",
            "--out", str(runs_dir)]
    assert main(base) == 2
    assert "needs the xclbin holding gemm: pass --xclbin PATH" in _one_line(capsys)
    built = native.ensure_built(load_spec(spec_path).design(), quiet=True)
    assert main(base + ["--xclbin", str(built)]) == 0
    from test_hw_path import read_raw, refused_as_measured
    run = read_raw(only_run(runs_dir))
    assert run.timing_source == "measured" and run.context["kernel"]["timing"].startswith("measured")
    s = run.samples
    assert s["verified"].all() and (s["timing_source"] == "measured").all()
    assert (abs(s["time_s"] - s["wall_time_s"]) < 0.05).all()        # host clock around start()..wait()
    assert s["predicted_time_s"].notna().all()                         # the cycle model beside it
    # the stand-in pyxrt is the emulator: the run says so, and is refused as a measurement
    refused_as_measured(only_run(runs_dir))


def test_hw_emu_is_recorded_as_emulation_and_never_used(fake_pyxrt, tmp_path, runs_dir, only_run, monkeypatch,
                                                        capsys):
    emdir = tmp_path / "em"
    emdir.mkdir()
    (emdir / "emconfig.json").write_text("{}")
    monkeypatch.setenv("EMCONFIG_PATH", str(emdir))
    spec_path = gemm_spec(tmp_path)
    built = native.ensure_built(load_spec(spec_path).design(), quiet=True)
    assert main(["bench", "kernel", "--spec", str(spec_path), "--mode", "hw_emu", "--xclbin", str(built),
                 "--warmup", "0", "--repeats", "1", "--out", str(runs_dir)]) == 0
    run = load_run(only_run(runs_dir))
    assert run.timing_source == "emulation" and run.context["kernel"]["timing"].startswith("emulation: hw_emu")
    assert run.samples["verified"].all() and "absent" in run.context["device_profile"]
    from harness.errors import UserError
    from harness.results.reader import load_runs
    with pytest.raises(UserError, match="XRT emulation run"):
        load_runs([run.path])


def test_the_roofline_refuses_a_functional_only_run(tmp_path, runs_dir, only_run, capsys):
    assert run_cli(runs_dir, gemm_spec(tmp_path, timing=None)) == 0
    run_dir = only_run(runs_dir)
    capsys.readouterr()
    assert main(["roofline", "--results", str(run_dir), "--out", str(tmp_path / "roof")]) == 2
    err = _one_line(capsys)
    assert "functional only: no time" in err and "add [timing] cycles" in err
    assert not (tmp_path / "roof").exists()


def test_an_inout_buffer_is_restored_before_every_launch(tmp_path, runs_dir, only_run):
    """An in-place kernel reads what it wrote last time unless the input is put back: with three
    launches every one must still see the original input."""
    (tmp_path / "scale.cpp").write_text(
        'extern "C" void scale(int* X, unsigned int n, unsigned int k) {\n'
        "  for (unsigned int i = 0; i < n; ++i) X[i] = X[i] * (int)k;\n}\n")
    (tmp_path / "ref_scale.py").write_text("def scale(X, N):\n    return X * 3\n")
    spec = tmp_path / "scale.toml"
    spec.write_text('[kernel]\nname = "scale"\nsource = "scale.cpp"\n\n'
                    '[[args]]\nname = "X"\ntype = "int32"\nsize = "N"\nbank = "DDR[0]"\ndirection = "inout"\n'
                    'range = [-1000, 1000]\n'
                    '[[args]]\nname = "n"\nvalue = "N"\n[[args]]\nname = "k"\nvalue = "3"\n\n'
                    '[shapes]\ndims = [{ N = 100 }, { N = 4097 }]\n\n[counts]\nflop = "N"\n\n'
                    '[reference]\nfunction = "ref_scale:scale"\n\n[timing]\ncycles = "n + 40"\n')
    assert run_cli(runs_dir, spec) == 0
    run = load_run(only_run(runs_dir))
    s = run.samples
    assert len(s) == 2 * 3 and s["verified"].all()
    assert (s["bytes"] == 2 * 4 * s["N"]).all()                 # read and written: counted twice
    assert run.context["dtype"] is None                          # int32: no workload precision of its own
    assert run.context["design"]["kernels"]["scale"]["args"]["X"] == ["DDR[0]"]
