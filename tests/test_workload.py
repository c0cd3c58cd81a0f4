"""The smolVLA workload model against figures hand-computed from harness/docs/smolvla.md."""
from __future__ import annotations

import argparse
import json

import pytest
from hypothesis import given, settings, strategies as st

from harness.errors import UserError
from harness.workload.precision import ELEMENT_BYTES, element_bytes
from harness.workload.smolvla import SmolVLAConfig, build_smolvla, build_workload


def gemm(m, k, n):
    return 2 * m * k * n


def vision_layer_flop():
    # SigLIP base/16 at 512: 1024 tokens, hidden 768, 12 heads x 64, MLP 3072
    T = 1024
    proj = 4 * gemm(T, 768, 768)                          # q, k, v, o
    mlp = gemm(T, 768, 3072) + gemm(T, 3072, 768)
    attn = 12 * (gemm(T, 64, T) + gemm(T, T, 64))         # per head: scores, values
    return proj + mlp + attn


def prefix_layer_flop(P):
    # SmolLM2 layer: q 960->960, k/v 960->320, o 960->960, SwiGLU 960->2560->960, 15 query heads
    proj = gemm(P, 960, 960) * 2 + gemm(P, 960, 320) * 2
    mlp = gemm(P, 960, 2560) * 2 + gemm(P, 2560, 960)
    attn = 15 * (gemm(P, 64, P) + gemm(P, P, 64))
    return proj + mlp + attn


def expert_layer_flop(P, self_attn):
    # action expert: hidden 720, q 720->960, o 960->720, MLP 720->2048->720, 50 action tokens
    A = 50
    common = gemm(A, 720, 960) + gemm(A, 960, 720) + 2 * gemm(A, 720, 2048) + gemm(A, 2048, 720)
    if self_attn:   # k, v 720->320 from the action tokens; context P + 50
        kv = 2 * gemm(A, 720, 320)
        attn = 15 * (gemm(A, 64, P + A) + gemm(A, P + A, 64))
    else:           # k, v 320->320 on the P cached prefix keys/values; context P
        kv = 2 * gemm(P, 320, 320)
        attn = 15 * (gemm(A, 64, P) + gemm(A, P, 64))
    return common + kv + attn


def expert_step_outer_flop():
    A = 50
    return gemm(A, 32, 720) + gemm(A, 1440, 720) + gemm(A, 720, 720) + gemm(A, 720, 32)


def test_defaults_follow_the_reference():
    c = SmolVLAConfig()
    assert c.prefix_tokens == 3 * 64 + 48 + 1 == 241
    assert c.expert_hidden == 720
    assert c.expert_mlp == 2048
    assert (c.self_attn_layers, c.cross_attn_layers) == (8, 8)
    assert c.kv_dim == 320 and c.q_dim == 960
    wl = build_smolvla()
    assert wl.op("vision.mlp.fc1").count == 12 * 3
    assert wl.op("prefix.mlp.gate").count == 16
    assert wl.op("expert.mlp.gate").count == 16 * 10
    assert wl.op("expert.self.k").count == 8 * 10
    assert wl.op("expert.cross.k").count == 8 * 10
    assert wl.op("vision.attn.scores").count == 12 * 12 * 3   # heads x layers x cameras


@pytest.mark.parametrize("cameras,layers", [(1, 2), (2, 3)])
def test_gemm_flops_per_stage_hand_computed(cameras, layers):
    cfg = SmolVLAConfig(cameras=cameras, vision_layers=layers, vlm_layers=layers, expert_layers=layers)
    t = build_smolvla(cfg).totals("fp32")
    P = cameras * 64 + 48 + 1
    vision = cameras * (gemm(1024, 768, 768) + layers * vision_layer_flop() + gemm(64, 12288, 960))
    prefix = gemm(1, 32, 960) + layers * prefix_layer_flop(P)
    n_self = len(range(0, layers, 2))
    expert = 10 * (expert_step_outer_flop() + n_self * expert_layer_flop(P, True)
                   + (layers - n_self) * expert_layer_flop(P, False))
    assert t["vision"]["gemm_gflop"] * 1e9 == pytest.approx(vision, rel=1e-12)
    assert t["prefix"]["gemm_gflop"] * 1e9 == pytest.approx(prefix, rel=1e-12)
    assert t["expert"]["gemm_gflop"] * 1e9 == pytest.approx(expert, rel=1e-12)
    assert t["overall"]["gflop"] == pytest.approx(sum(t[s]["gflop"] for s in ("vision", "prefix", "expert")))


def test_default_totals_hand_computed():
    t = build_smolvla().totals("fp32")
    vision = 3 * (gemm(1024, 768, 768) + 12 * vision_layer_flop() + gemm(64, 12288, 960))
    assert t["vision"]["gemm_gflop"] * 1e9 == pytest.approx(vision, rel=1e-12)
    prefix = gemm(1, 32, 960) + 16 * prefix_layer_flop(241)
    assert t["prefix"]["gemm_gflop"] * 1e9 == pytest.approx(prefix, rel=1e-12)


def test_gemm_bytes_are_operands_at_the_element_type_and_c_at_the_kernels_output_type():
    op = build_smolvla().op("vision.mlp.fc1")
    operands, c = 768 * 3072 + 1024 * 768, 1024 * 3072
    assert op.bytes("fp32") == (operands + c) * 4
    # every GEMM kernel writes a 32-bit C (gemm_types.h out_t): only the operands shrink
    assert op.bytes("fp16") == operands * 2 + c * 4
    assert op.bytes("int8") == operands * 1 + c * 4
    assert op.streams("fp16") == {"A": 1024 * 768 * 2, "B": 768 * 3072 * 2, "C": c * 4}
    scores = build_smolvla().op("prefix.attn.scores")      # Q (P x 64) + K (P x 64) in, P x P out
    assert scores.bytes("fp32") == (241 * 64 * 2 + 241 * 241) * 4
    assert scores.bytes("fx16") == 241 * 64 * 2 * 2 + 241 * 241 * 4


def test_one_convention_for_every_op():
    from harness.workload.precision import ByteConvention
    wl = build_smolvla()
    seed = ByteConvention.uniform(2, "16-bit (seed)")
    for o in wl.ops:
        b1 = o.bytes(ByteConvention.uniform(1, "1 B"))
        assert o.bytes(seed) == 2 * b1 and o.bytes("fp32") == 4 * b1     # uniform widths scale exactly
        w, i, y = o.role_bytes("fp16")
        assert w + i + y == o.bytes("fp16") == sum(o.streams("fp16").values())
        assert o.bytes("fp16") == o.bytes("bf16") == o.bytes("fx16")
        assert o.bytes("int8") <= o.bytes("fp16") <= o.bytes("fp32")
    # elementwise activations are the kernel's 32-bit out_t, parameters the element type
    bias = wl.op("vision.mlp.fc1.bias")
    assert bias.bytes("fp16") == 2 * 1024 * 3072 * 4 + 3072 * 2


def test_elementwise_ops_are_ops():
    wl = build_smolvla()
    kinds = {o.ew for o in wl.ops if o.kind == "elementwise"}
    assert {"bias", "gelu", "silu", "layernorm", "rmsnorm", "softmax"} <= kinds
    gelu = wl.op("vision.mlp.fc1.gelu")
    assert (gelu.M, gelu.N, gelu.count) == (1024, 3072, 36)
    assert gelu.bytes("fp32") == 2 * 1024 * 3072 * 4              # read C', write out


def test_precisions_and_widths():
    assert ELEMENT_BYTES == {"fp32": 4, "fp16": 2, "bf16": 2, "fx16": 2, "int8": 1}
    with pytest.raises(UserError):
        element_bytes("fp8")


def test_bad_config_and_workload_rejected():
    with pytest.raises(UserError):
        build_workload("llama")
    with pytest.raises(UserError):
        SmolVLAConfig(chunk_size=0)


@settings(max_examples=25, deadline=None)
@given(cameras=st.integers(1, 4), lang=st.integers(0, 96))
def test_vision_scales_with_cameras_and_oi_halves_from_2_to_4_bytes(cameras, lang):
    from harness.workload.precision import ByteConvention
    two = ByteConvention.uniform(2, "2 B")
    one = build_smolvla(SmolVLAConfig(cameras=1, lang_tokens=lang)).totals("fp16")["vision"]["gflop"]
    wl = build_smolvla(SmolVLAConfig(cameras=cameras, lang_tokens=lang))
    assert wl.totals("fp16")["vision"]["gflop"] == pytest.approx(cameras * one)
    assert wl.config.prefix_tokens == cameras * 64 + lang + 1
    for o in wl.ops:
        assert o.oi(two) == pytest.approx(2 * o.oi("fp32"), rel=1e-15)


def _parser():
    from harness.commands import workload
    p = argparse.ArgumentParser()
    workload.register(p.add_subparsers())
    return p


def test_cli_json_totals(capsys):
    p = _parser()
    a = p.parse_args(["workload", "smolvla", "--cameras", "2", "--lang-tokens", "30", "--json",
                      "--precision", "fp16"])
    assert a.func(a) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["precision"] == "fp16"
    assert data["prefix_tokens"] == 2 * 64 + 30 + 1
    t = data["totals"]
    assert set(t) >= {"vision", "prefix", "expert", "overall"}
    assert all("gflop" in t[s] for s in t)
    assert t["overall"]["gflop"] == pytest.approx(sum(t[s]["gflop"] for s in ("vision", "prefix", "expert")))
    assert len(data["ops"]) > 50 and {"stage", "name", "M", "K", "N", "count", "flop", "bytes"} <= set(data["ops"][0])


def test_cli_table(capsys):
    p = _parser()
    a = p.parse_args(["workload", "smolvla"])
    assert a.func(a) == 0
    out = capsys.readouterr().out
    assert "vision.mlp.fc1" in out and "overall" in out and "oi_FLOPpB" in out


def test_cli_bad_input(capsys):
    p = _parser()
    for argv in (["workload", "gpt2"], ["workload", "smolvla", "--precision", "fp64"]):
        a = p.parse_args(argv)
        with pytest.raises(UserError):
            a.func(a)


def test_harness_main_exit_code_2(capsys):
    from harness.cli import main
    assert main(["workload", "nosuchmodel"]) == 2
    assert "error:" in capsys.readouterr().err
    assert main(["workload", "smolvla", "--json"]) == 0
