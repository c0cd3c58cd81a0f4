"""Kernel spec files: the expression evaluator, the csynth.rpt reader, and every check a spec must
pass before anything runs (each fed the mistake it exists for)."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from harness.designs import native
from harness.designs.expr import Expr
from harness.designs.hlsreport import loop_figures, parse_report, read_report
from harness.designs.spec import call_reference, load_spec
from harness.errors import UserError
from harness.runtime import costs

@pytest.fixture(autouse=True)
def _private_build_dir(tmp_path, monkeypatch):
    """Specs written into tmp_path build into it too, not into build/emu/."""
    from harness.designs import native as _native
    monkeypatch.setattr(_native, "BUILD_DIR", tmp_path / "emu")


ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "unfused-fp32"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "hls"


# ---------------------------------------------------------------- expressions
@pytest.mark.parametrize("text,names,value", [
    ("M*K", {"M": 3, "K": 4}, 12),
    ("2*M*K*N", {"M": 2, "K": 3, "N": 5}, 60),
    ("ceil(N/16)", {"N": 17}, 2),
    ("N // 16 + N % 16", {"N": 35}, 5),
    ("min(M, 4) + max(K, 9)", {"M": 7, "K": 2}, 13),
    ("2**10 - -1", {}, 1025),
    ("(K - 1) * 7 + 89", {"K": 768}, 5458),
    (" M ", {"M": 1}, 1),
    (64, {}, 64),
])
def test_expressions_evaluate(text, names, value):
    assert Expr(text)(names) == value


@pytest.mark.parametrize("text", [
    "__import__('os').system('true')", "M.bit_length()", "[M for M in range(3)]", "lambda: 1",
    "M if K else N", "M < K", "abs(M)", "open('x')", "'text'", "True", "M and K", "x[0]", "ceil",
    "ceil(M, N)", "min()",
])
def test_expressions_refuse_anything_but_arithmetic(text):
    with pytest.raises(UserError) as e:
        Expr(text, "size")
    assert "size" in str(e.value)


def test_expression_errors_name_what_to_fix():
    with pytest.raises(UserError, match="K is not bound"):
        Expr("M*K", "size")({"M": 2, "N": 3})
    with pytest.raises(UserError, match="divides by zero with M=1, N=0"):
        Expr("M/N")({"M": 1, "N": 0})
    with pytest.raises(UserError, match="not a whole number"):
        Expr("M/3").integer({"M": 10})
    with pytest.raises(UserError, match="at least 1"):
        Expr("M-10").integer({"M": 3}, minimum=1)
    with pytest.raises(UserError, match="exponent"):
        Expr("2**10**10")({})
    with pytest.raises(UserError, match="not an arithmetic expression"):
        Expr("M*(K")
    assert Expr("M/2").integer({"M": 10}) == 5 and Expr("M*K").names == {"M", "K"}


# ---------------------------------------------------------------- csynth.rpt
def test_the_summary_report_loop_rows_are_read():
    loops, figs = read_report(FIXTURES / "gemm_summary_csynth.rpt")
    by = {lp.name: lp for lp in loops}
    assert set(by) == {"load_a", "zero", "mac", "store", "rows", "ks", "VITIS_LOOP_40_1"}   # modules skipped
    assert by["mac"].ii == 1 and by["mac"].depth == 84 and by["mac"].pipelined and by["mac"].trip is None
    assert by["rows"].ii is None and not by["rows"].pipelined              # '-' and '?' are unknown
    assert by["VITIS_LOOP_40_1"].trip == 16 and by["VITIS_LOOP_40_1"].latency == 64
    assert figs["mac_depth"] == 84 and figs["load_a_depth"] == 72 and "rows_ii" not in figs


def test_the_detail_report_loop_table_is_read():
    loops, figs = read_report(FIXTURES / "gemm_detail_csynth.rpt")
    by = {lp.name: lp for lp in loops}
    assert by["mac"].ii == 1 and by["mac"].depth == 84 and by["mac"].indent > by["ks"].indent
    assert by["Loop_2"].latency == 1056 and by["Loop_2"].trip == 16      # max of min/max; 'Loop 2' named
    # both report forms give the same figures for the loops they share
    assert {k: v for k, v in figs.items() if not k.startswith("Loop_2")} == \
        {k: v for k, v in read_report(FIXTURES / "gemm_summary_csynth.rpt")[1].items()
         if not k.startswith("VITIS")}


def test_a_report_without_a_loop_table_is_refused(tmp_path):
    with pytest.raises(UserError, match="no loop table"):
        parse_report("== Vitis HLS Report\n+----+\n| a  |\n+----+\n| 1  |\n+----+\n", "x.rpt")
    with pytest.raises(UserError, match="cannot read"):
        read_report(tmp_path / "missing.rpt")


def test_a_loop_name_seen_twice_keeps_both():
    text = (FIXTURES / "gemm_detail_csynth.rpt").read_text().replace("| + store   ", "| + mac     ")
    figs = loop_figures(parse_report(text))
    assert figs["mac_depth"] == 84 and figs["mac_2_depth"] == 3


# ---------------------------------------------------------------- specs
def spec_text(**over) -> str:
    """A small spec for the example's add_bias kernel, with sections replaced by `over`."""
    parts = {
        "kernel": f'name = "add_bias"\nsource = "{EXAMPLE / "add_bias.cpp"}"\nflags = ["-DMAX_N=256"]',
        "constants": "AXI_LAT = 78",
        "args": ('[[args]]\nname = "X"\ntype = "float32"\nsize = "M*N"\nbank = "HBM[3]"\ndirection = "in"\n'
                 '[[args]]\nname = "bias"\ntype = "float32"\nsize = "N"\nbank = "HBM[4]"\ndirection = "in"\n'
                 '[[args]]\nname = "Y"\ntype = "float32"\nsize = "M*N"\nbank = "HBM[5]"\ndirection = "out"\n'
                 '[[args]]\nname = "M"\nvalue = "M"\n[[args]]\nname = "N"\nvalue = "N"'),
        "shapes": "dims = [{ M = 3, N = 5 }, { M = 17, N = 33 }]",
        "counts": 'flop = "M*N"',
        "reference": f'function = "reference:add_bias"',
        "timing": 'cycles = "N + AXI_LAT + M * (N + 86)"',
    }
    parts.update(over)
    out = []
    for k, v in parts.items():
        if v is None:
            continue
        out.append(v if k == "args" else f"[{k}]\n{v}")
    return "\n\n".join(out) + "\n"


def write_spec(tmp_path, name="spec.toml", **over) -> Path:
    if not (tmp_path / "reference.py").exists():
        (tmp_path / "reference.py").write_text((EXAMPLE / "reference.py").read_text())
    p = tmp_path / name
    p.write_text(spec_text(**over))
    return p


def test_the_example_specs_load_and_bind_smolvla_ops():
    specs = {p.stem: load_spec(p) for p in sorted(EXAMPLE.glob("*.toml"))}
    assert set(specs) == {"gemm", "add_bias", "gelu"}
    g = specs["gemm"]
    fc1 = next(p for p in g.points if "vision.mlp.fc1" in p.ops)
    assert fc1.dims == {"M": 1024, "K": 768, "N": 3072}
    assert g.flop_of(fc1) == 2 * 1024 * 768 * 3072 and g.counts_source["flop_source"].startswith("default")
    assert g.bytes_of(fc1) == 4 * (1024 * 768 + 768 * 3072 + 1024 * 3072)
    q = next(p for p in g.points if "vision.attn.q" in p.ops)
    assert set(q.ops) == {"vision.attn.q", "vision.attn.k", "vision.attn.v", "vision.attn.o"}   # one shape
    b = specs["add_bias"]
    assert next(p for p in b.points if "vision.mlp.fc1.bias" in p.ops).dims == {"M": 1024, "N": 3072}
    assert specs["gelu"].scalar_values(specs["gelu"].points[0]) == {"n": 1024 * 3072}
    assert all(s.precision == "fp32" and s.timing is not None and s.reference is not None for s in specs.values())


def test_the_emulator_and_the_bench_count_the_same_cycles():
    """The emulator sees only scalar arguments; the bench sees dims: the cycle model agrees."""
    for path in EXAMPLE.glob("*.toml"):
        spec = load_spec(path)
        kdesc = spec.design().kernels[spec.name]
        for p in spec.points:
            scalars = {**spec.scalar_values(p), **{b.name: None for b in spec.buffers}}
            assert costs.spec_cycles(kdesc.timing, scalars, spec.freq_mhz) == spec.cycles_of(p)


def test_a_spec_becomes_a_design(tmp_path):
    spec = load_spec(write_spec(tmp_path))
    d = spec.design()
    k = d.kernels["add_bias"]
    assert [(a.name, a.kind, a.bank) for a in k.args] == [
        ("X", "ptr", "HBM[3]"), ("bias", "ptr", "HBM[4]"), ("Y", "ptr", "HBM[5]"), ("M", "u32", None),
        ("N", "u32", None)]
    assert "sp=add_bias_1.Y:HBM[5]" in d.cfg_text() and k.model == "cycles"
    assert d.cflags == ["-DMAX_N=256"] and k.timing["dims"] == {"M": "M", "N": "N"}
    assert d.to_context()["kernels"]["add_bias"]["source"].endswith("examples/unfused-fp32/add_bias.cpp")


def test_a_spec_design_builds_natively_with_its_cycle_model(tmp_path):
    spec = load_spec(write_spec(tmp_path))
    xclbin = native.ensure_built(spec.design(), quiet=True)
    desc = json.loads(xclbin.read_text())
    assert desc["kernels"][0]["timing"]["cycles"] == "N + AXI_LAT + M * (N + 86)"
    assert desc["design_file"] == str(tmp_path / "spec.toml")
    # the build follows the spec: another flag, another library
    spec2 = load_spec(write_spec(tmp_path, kernel=spec_text().split("\n\n")[0][9:].replace("256", "512")))
    assert native.build_hash(spec2.design()) != desc["build_hash"]


@pytest.mark.parametrize("over,message", [
    ({"shapes": 'ops = ["vision.mlp.fc3.bias"]'}, "unknown op name 'vision.mlp.fc3.bias' (did you mean"),
    ({"shapes": 'ops = ["vision.mlp.fc1.bias"]', "args": spec_text().split("\n\n")[2].replace('"N"\nbank', '"K"\nbank')},
     "does not evaluate: K is not bound"),
    ({"args": spec_text().split("\n\n")[2].replace("HBM[5]", "HBM[40]")}, "HBM[40], which the platform does not have"),
    ({"args": spec_text().split("\n\n")[2].replace('size = "N"', 'size = "N-40"')}, "must be at least 1"),
    ({"args": spec_text().split("\n\n")[2].replace('value = "M"', 'value = "M - 20"'), "timing": None},
     "does not fit an unsigned"),
    ({"args": spec_text().split("\n\n")[2].replace('value = "M"', 'value = "M // 2"')},
     "cycles uses M, which is both a dimension and a scalar argument"),
    ({"args": spec_text().split("\n\n")[2].replace('direction = "out"', 'direction = "in"')}, "no output buffer"),
    ({"args": spec_text().split("\n\n")[2].replace('bank = "HBM[3]"', 'bnk = "HBM[3]"')}, "no key 'bnk'"),
    ({"args": spec_text().split("\n\n")[2].replace('type = "float32"', 'type = "bfloat16"', 1)}, "type 'bfloat16'"),
    ({"kernel": 'name = "add_bias"\nflags = ["-O3"]'}, "is not -DNAME"),
    ({"kernel": 'name = "add bias"'}, "is not a name"),
    ({"counts": None}, "[counts] flop is needed"),
    ({"counts": 'flop = "M*N"\nbytes = "M*Q"'}, "Q is not bound"),
    ({"timing": 'cycles = "K * N"'}, "uses K, which is not passed to the kernel"),
    ({"timing": 'cycles = "mac_ii * N"'}, "uses mac_ii, which is a report figure"),
    ({"timing": 'report = "x.rpt"'}, "[timing] needs cycles"),
    ({"reference": 'function = "nosuchmodule:f"'}, "cannot import nosuchmodule"),
    ({"reference": 'function = "reference:nothing"'}, "has no function nothing"),
    ({"reference": 'function = "reference"'}, "\"module:function\""),
    ({"shapes": "dims = []"}, "gives no shape"),
    ({"shapes": "dims = [{ M = 0, N = 4 }]"}, "must be a whole number >= 1"),
    ({"shapes": 'ops = ["vision.mlp.fc1.bias"]\nparams = { cams = 2 }'}, "'cams' is not a smolVLA parameter"),
    ({"constants": "M = 4"}, "both a dimension and a constant"),
    ({"extra": "x = 1"}, "the spec has no key 'extra'"),
])
def test_a_bad_spec_is_refused_with_what_to_fix(tmp_path, over, message):
    extra = over.pop("extra", None)
    p = write_spec(tmp_path, **over)
    if extra:
        p.write_text(p.read_text() + f"\n[extra]\n{extra}\n")
    with pytest.raises(UserError) as e:
        load_spec(p)
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_a_reference_taking_an_unknown_name_is_refused(tmp_path):
    (tmp_path / "ref2.py").write_text("def f(X, bias, Z):\n    return X\n")
    with pytest.raises(UserError, match="takes Z, which is neither"):
        load_spec(write_spec(tmp_path, reference='function = "ref2:f"'))


def test_the_cycle_model_may_use_report_figures(tmp_path):
    rpt = tmp_path / "csynth.rpt"
    rpt.write_text((FIXTURES / "gemm_summary_csynth.rpt").read_text())
    spec = load_spec(write_spec(tmp_path, timing='report = "csynth.rpt"\ncycles = "M * ((N - 1) * mac_ii + mac_depth)"'))
    p = spec.points[1]
    assert spec.cycles_of(p) == 17 * (32 * 1 + 84)
    assert spec.timing.figures["mac_depth"] == 84
    assert str(rpt) in spec.design().extra_inputs


def test_a_reference_that_raises_or_misses_an_output_is_refused(tmp_path):
    (tmp_path / "ref3.py").write_text("def boom(X, bias, M, N):\n    raise ValueError('shape mismatch')\n"
                                      "def short(X, bias, M, N):\n    return X[:3]\n"
                                      "def named(X, bias, M, N):\n    return {'Z': X}\n")
    inputs = {"X": np.zeros(15, np.float32), "bias": np.zeros(5, np.float32)}
    for fn, msg in (("boom", "raised ValueError: shape mismatch"), ("short", "returned 3 elements for Y"),
                    ("named", "returned no 'Y'")):
        spec = load_spec(write_spec(tmp_path, reference=f'function = "ref3:{fn}"'))
        with pytest.raises(UserError, match=msg):
            call_reference(spec, spec.points[0], inputs)


def test_the_example_gelu_tolerance_catches_a_wrong_precision():
    """The gelu reference's tolerance is tight: fp16 arithmetic or the erf form of GELU fail it."""
    import importlib.util
    from harness.bench.kernel import compare_within as compare
    mod_spec = importlib.util.spec_from_file_location("ex_ref", EXAMPLE / "reference.py")
    ref = importlib.util.module_from_spec(mod_spec)
    mod_spec.loader.exec_module(ref)
    x = np.random.default_rng(1).uniform(-6, 6, 20000).astype(np.float32)
    exp, tol = ref.gelu(x, x.size)
    # the same arithmetic with a tanh a few ULP off passes: what hls::tanh may do on the card
    t = np.tanh(np.float32(0.7978845608) * (x + np.float32(0.044715) * x * x * x))
    t4 = np.nextafter(np.nextafter(np.nextafter(np.nextafter(t, np.float32(2)), np.float32(2)),
                                   np.float32(2)), np.float32(2))
    ok, _ = compare(np.float32(0.5) * x * (np.float32(1) + t4), exp, tol)
    assert ok
    x16 = x.astype(np.float16)
    fp16 = (np.float16(0.5) * x16 * (np.float16(1) + np.tanh(np.float16(0.7978845608) *
                                                             (x16 + np.float16(0.044715) * x16 ** 3))))
    assert not compare(fp16.astype(np.float32), exp, tol)[0]
    erf = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x.astype(np.float64)], np.float32)
    assert not compare(erf, exp, tol)[0]


def test_the_example_gemm_reference_replays_fp32_order_exactly():
    """Exact: a float64 product rounded once to fp32 differs from the sequential fp32 sums."""
    import importlib.util
    mod_spec = importlib.util.spec_from_file_location("ex_ref2", EXAMPLE / "reference.py")
    ref = importlib.util.module_from_spec(mod_spec)
    mod_spec.loader.exec_module(ref)
    rng = np.random.default_rng(3)
    M, K, N = 7, 300, 9
    A = rng.uniform(-1, 1, M * K).astype(np.float32)
    B = rng.uniform(-1, 1, K * N).astype(np.float32)
    C = ref.gemm(A, B, M, K, N)
    seq = np.zeros((M, N), np.float32)
    a, b = A.reshape(M, K), B.reshape(K, N)
    for i in range(M):
        for j in range(N):
            acc = np.float32(0)
            for k in range(K):
                acc = np.float32(acc + np.float32(a[i, k] * b[k, j]))
            seq[i, j] = acc
    assert np.array_equal(C, seq)
    assert not np.array_equal(C, (a.astype(np.float64) @ b.astype(np.float64)).astype(np.float32))


def test_a_spec_with_several_cus_names_each_cus_banks(tmp_path):
    args = spec_text().split("\n\n")[2].replace("HBM[3]", "HBM[{3*cu}]").replace("HBM[4]", "HBM[{3*cu+1}]") \
        .replace("HBM[5]", "HBM[{3*cu+2}]")
    spec = load_spec(write_spec(tmp_path, kernel=f'name = "add_bias"\ncus = 2\nsource = "{EXAMPLE / "add_bias.cpp"}"',
                                args=args))
    cfg = spec.design().cfg_text()
    assert "nk=add_bias:2:add_bias_1.add_bias_2" in cfg
    assert "sp=add_bias_1.X:HBM[0]" in cfg and "sp=add_bias_2.Y:HBM[5]" in cfg
