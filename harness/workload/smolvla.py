"""One smolVLA inference at batch size 1 as a list of ops.

Shapes, sources and counting conventions: harness/docs/smolvla.md (lerobot
SmolVLAConfig defaults, SigLIP base/16 at 512, SmolLM2-360M first 16 layers,
action expert at width 0.75). Every op carries its stage, name, M x K x N, how
many times it runs in one inference, its FLOPs and the elements it reads and
writes; bytes follow from a precision (harness.workload.precision).

Conventions (harness/docs/smolvla.md):
- GEMM FLOPs = 2 M K N; M is the number of tokens. Attention products per head:
  scores M x 64 x ctx, values M x ctx x 64 (counted once per query head).
- Elementwise work (bias, GELU, SiLU, norms, softmax, RoPE, residual adds) is
  its own op with its own bytes; its FLOPs per element are the assumptions in
  ELEMENTWISE_FLOP below.
- Bytes = weights + input activations + output activations, each at its width in
  the GEMM kernel's byte convention (harness.workload.precision.ByteConvention:
  operands and parameters at the element type, GEMM outputs and elementwise
  activations at the kernel's 32-bit out_t), unless a fusion keeps an
  intermediate on chip (harness.roofline.fusion).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from harness.errors import UserError
from harness.workload.precision import ByteConvention

STAGES = ("vision", "prefix", "expert")

# FLOPs per output element of each elementwise op kind (assumption: simple
# operation counts; transcendental functions count as one FLOP).
ELEMENTWISE_FLOP: dict[str, tuple[int, str]] = {
    "bias": (1, "one add"),
    "residual": (1, "one add"),
    "mul": (1, "one multiply (SwiGLU gate x up)"),
    "pos_embed": (1, "one add"),
    "gelu": (8, "tanh approximation: x^3, 4 multiplies, 2 adds, tanh"),
    "silu": (4, "negate, exp, add, divide"),
    "layernorm": (8, "mean, centre, square, variance, rsqrt-scale, gamma, beta"),
    "rmsnorm": (4, "square, sum, rsqrt-scale, gamma"),
    "softmax": (5, "max, subtract, exp, sum, divide (scale folded in)"),
    "rope": (3, "two multiplies, one add"),
    "euler": (2, "x + dt * v"),
}


TEXT_MODEL_LAYERS = 32              # SmolLM2-360M; smolVLA keeps the first num_vlm_layers (harness/docs/smolvla.md)


@dataclass(frozen=True)
class SmolVLAConfig:
    """Workload parameters; defaults from harness/docs/smolvla.md (lerobot/smolvla_base)."""

    cameras: int = 3
    lang_tokens: int = 48            # tokenizer_max_length, pad_language_to = max_length
    state_tokens: int = 1
    chunk_size: int = 50             # action tokens per denoising step
    num_steps: int = 10              # flow-matching denoising steps
    # vision tower (SigLIP base/16 at 512)
    image_size: int = 512
    patch_size: int = 16
    vision_layers: int = 12
    vision_hidden: int = 768
    vision_heads: int = 12
    vision_mlp: int = 3072
    pixel_shuffle: int = 4
    # text model (SmolLM2-360M), first vlm_layers kept
    vlm_layers: int = 16
    text_hidden: int = 960
    heads: int = 15
    kv_heads: int = 5
    head_dim: int = 64
    text_mlp: int = 2560
    # action expert
    expert_layers: int = -1          # -1: same as vlm_layers
    expert_width_multiplier: float = 0.75
    self_attn_every_n_layers: int = 2
    max_state_dim: int = 32
    max_action_dim: int = 32

    def __post_init__(self):
        flag = {"num_steps": "--steps"}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.name == "expert_layers":
                if v != -1 and v < 0:
                    raise UserError("--expert-layers must be >= 0, or -1 for the same as --vlm-layers")
            elif f.name in ("lang_tokens", "state_tokens", "vision_layers", "vlm_layers", "cameras"):
                if v < 0:
                    raise UserError(f"{flag.get(f.name, '--' + f.name.replace('_', '-'))} must be >= 0, got {v}")
            elif v <= 0:
                raise UserError(f"{flag.get(f.name, '--' + f.name.replace('_', '-'))} must be > 0, got {v}")
        if self.vlm_layers > TEXT_MODEL_LAYERS:
            raise UserError(f"--vlm-layers {self.vlm_layers}: the text model has {TEXT_MODEL_LAYERS} layers; "
                            f"use at most {TEXT_MODEL_LAYERS}")
        if self.image_size % self.patch_size:
            raise UserError("image size must be a multiple of the patch size")

    # derived shapes (harness/docs/smolvla.md)
    @property
    def n_expert_layers(self) -> int:
        return self.vlm_layers if self.expert_layers == -1 else self.expert_layers

    @property
    def patches(self) -> int:
        return (self.image_size // self.patch_size) ** 2          # 1024

    @property
    def patch_in(self) -> int:
        return self.patch_size * self.patch_size * 3              # 768

    @property
    def image_tokens(self) -> int:
        return self.patches // (self.pixel_shuffle ** 2)          # 64

    @property
    def prefix_tokens(self) -> int:
        return self.cameras * self.image_tokens + self.lang_tokens + self.state_tokens

    @property
    def kv_dim(self) -> int:
        return self.kv_heads * self.head_dim                      # 320

    @property
    def q_dim(self) -> int:
        return self.heads * self.head_dim                         # 960

    @property
    def expert_hidden(self) -> int:
        return int(self.text_hidden * self.expert_width_multiplier)   # 720

    @property
    def expert_mlp(self) -> int:
        # lerobot get_intermediate_size: int(2h/3) * 4 rounded up to a multiple of 256
        x = int(2 * self.expert_hidden / 3) * 4
        return ((x + 255) // 256) * 256                           # 2048

    @property
    def self_attn_layers(self) -> int:
        n = self.self_attn_every_n_layers
        return sum(1 for i in range(self.n_expert_layers) if i % n == 0)

    @property
    def cross_attn_layers(self) -> int:
        return self.n_expert_layers - self.self_attn_layers


@dataclass(frozen=True)
class Op:
    stage: str            # vision | prefix | expert
    name: str             # e.g. "vision.mlp.fc1"
    kind: str             # gemm | attention | elementwise
    M: int
    K: int                # 0 for elementwise ops (M x N elements)
    N: int
    count: int            # calls in one inference (layers x cameras x steps x heads)
    launches: int         # kernel launches in one inference (attention: one per layer, all heads)
    flop: int             # per call
    weight_elems: int     # per call
    in_elems: int         # per call (activations read)
    out_elems: int        # per call (activations written)
    follows: str = ""     # elementwise op: the op whose output it consumes (fusion chains)
    ew: str = ""          # elementwise kind (key of ELEMENTWISE_FLOP)

    def streams(self, precision) -> dict[str, int]:
        """Bytes of one call per stream, in the byte convention of `precision` (an element type or a
        ByteConvention). GEMM-kind ops: A (M x K), B (K x N) at the operand width, C (M x N) at the
        output width. Elementwise ops: `in` (the first M x N input), `in2` (further inputs), `params`
        (bias, gamma, beta, position table) at the operand width, `out`; activations at the output width."""
        c = ByteConvention.of(precision)
        if self.kind in ("gemm", "attention"):
            return {"A": self.M * self.K * c.operand_bytes, "B": self.K * self.N * c.operand_bytes,
                    "C": self.M * self.N * c.output_bytes}
        first = min(self.in_elems, self.M * self.N)
        return {"in": first * c.output_bytes, "in2": (self.in_elems - first) * c.output_bytes,
                "params": self.weight_elems * c.operand_bytes, "out": self.out_elems * c.output_bytes}

    def role_bytes(self, precision) -> tuple[int, int, int]:
        """(weights or parameters, input activations, output activations) bytes of one call."""
        s = self.streams(precision)
        if self.kind in ("gemm", "attention"):
            w = s["B"] if self.weight_elems else 0
            return w, s["A"] + s["B"] - w, s["C"]
        return s["params"], s["in"] + s["in2"], s["out"]

    def bytes(self, precision) -> int:
        return sum(self.streams(precision).values())

    def oi(self, precision) -> float:
        b = self.bytes(precision)
        return self.flop / b if b else float("inf")

    @property
    def flop_total(self) -> int:
        return self.flop * self.count

    def bytes_total(self, precision) -> int:
        return self.bytes(precision) * self.count


@dataclass
class Workload:
    name: str
    config: SmolVLAConfig
    ops: list[Op] = field(default_factory=list)

    def by_stage(self, stage: str) -> list[Op]:
        return [o for o in self.ops if o.stage == stage]

    def op(self, name: str) -> Op:
        for o in self.ops:
            if o.name == name:
                return o
        raise KeyError(name)

    def rows(self, precision) -> list[dict]:
        """One dict per op; units in the keys. Bytes in the convention of `precision`."""
        out = []
        for o in self.ops:
            w, i, y = o.role_bytes(precision)
            b = w + i + y
            out.append({
                "stage": o.stage, "name": o.name, "kind": o.kind,
                "M": o.M, "K": o.K if o.K else "", "N": o.N,
                "count": o.count, "launches": o.launches,
                "flop": o.flop, "weight_bytes": w,
                "in_bytes": i, "out_bytes": y,
                "bytes": b, "oi_FLOPpB": o.flop / b if b else float("inf"),
                "flop_total": o.flop_total, "bytes_total": b * o.count,
            })
        return out

    def totals(self, precision) -> dict:
        """GFLOP, MB (1e6 B) and operational intensity per stage and overall."""
        def agg(ops):
            flop = sum(o.flop_total for o in ops)
            gemm = sum(o.flop_total for o in ops if o.kind != "elementwise")
            byt = sum(o.bytes_total(precision) for o in ops)
            return {
                "gflop": flop / 1e9,
                "gemm_gflop": gemm / 1e9,
                "elementwise_gflop": (flop - gemm) / 1e9,
                "mb": byt / 1e6,
                "oi_FLOPpB": flop / byt if byt else 0.0,
                "launches": sum(o.launches for o in ops),
            }
        t = {s: agg(self.by_stage(s)) for s in STAGES}
        t["overall"] = agg(self.ops)
        return t


class _Builder:
    def __init__(self):
        self.ops: list[Op] = []

    def gemm(self, stage, name, M, K, N, count, weight=True):
        self.ops.append(Op(stage, name, "gemm", M, K, N, count, count, 2 * M * K * N,
                           K * N if weight else 0, M * K if weight else M * K + K * N, M * N))

    def attention(self, stage, prefix, M, ctx, d, heads, layer_count):
        """Per query head: scores M x d x ctx, softmax M x ctx, values M x ctx x d."""
        n = heads * layer_count
        # scores: Q (M x d) and K (ctx x d) read, S (M x ctx) written
        self.ops.append(Op(stage, f"{prefix}.scores", "attention", M, d, ctx, n, layer_count,
                           2 * M * d * ctx, 0, M * d + ctx * d, M * ctx))
        self.elementwise(stage, f"{prefix}.softmax", "softmax", M, ctx, n, launches=layer_count,
                         follows=f"{prefix}.scores")
        # values: P (M x ctx) and V (ctx x d) read, O (M x d) written
        self.ops.append(Op(stage, f"{prefix}.values", "attention", M, ctx, d, n, layer_count,
                           2 * M * ctx * d, 0, M * ctx + ctx * d, M * d))

    def elementwise(self, stage, name, ew, M, N, count, *, inputs=1, params=0, launches=None,
                    follows=""):
        fpe = ELEMENTWISE_FLOP[ew][0]
        self.ops.append(Op(stage, name, "elementwise", M, 0, N, count,
                           count if launches is None else launches, fpe * M * N,
                           params, inputs * M * N, M * N, follows=follows, ew=ew))

    def linear(self, stage, name, M, K, N, count, *, bias=False, act=None):
        """A linear layer, then its bias and activation as their own ops."""
        self.gemm(stage, name, M, K, N, count)
        last = name
        if bias:
            self.elementwise(stage, f"{name}.bias", "bias", M, N, count, params=N, follows=last)
            last = f"{name}.bias"
        if act:
            self.elementwise(stage, f"{name}.{act}", act, M, N, count, follows=last)


def build_smolvla(config: SmolVLAConfig | None = None) -> Workload:
    c = config or SmolVLAConfig()
    b = _Builder()

    # 1. vision tower + connector, once per camera image
    V, T, F = "vision", c.patches, c.vision_hidden
    cams = c.cameras
    L = c.vision_layers * cams
    if cams:
        b.linear(V, "vision.patch_embed", T, c.patch_in, F, cams, bias=True)
        b.elementwise(V, "vision.pos_embed", "pos_embed", T, F, cams, params=T * F)
    if L:
        b.elementwise(V, "vision.ln1", "layernorm", T, F, L, params=2 * F)
        for p in ("q", "k", "v"):
            b.linear(V, f"vision.attn.{p}", T, F, F, L, bias=True)
        b.attention(V, "vision.attn", T, T, F // c.vision_heads, c.vision_heads, L)
        b.linear(V, "vision.attn.o", T, F, F, L, bias=True)
        b.elementwise(V, "vision.residual1", "residual", T, F, L, inputs=2)
        b.elementwise(V, "vision.ln2", "layernorm", T, F, L, params=2 * F)
        b.linear(V, "vision.mlp.fc1", T, F, c.vision_mlp, L, bias=True, act="gelu")
        b.linear(V, "vision.mlp.fc2", T, c.vision_mlp, F, L, bias=True)
        b.elementwise(V, "vision.residual2", "residual", T, F, L, inputs=2)
    if cams:
        b.elementwise(V, "vision.post_ln", "layernorm", T, F, cams, params=2 * F)
        # pixel shuffle is a re-indexing (no FLOPs): folded into the connector's input read
        b.linear(V, "vision.connector", c.image_tokens, F * c.pixel_shuffle ** 2, c.text_hidden, cams)

    # 2. text layers over the P prefix tokens (fill the K/V cache)
    S, P, H = "prefix", c.prefix_tokens, c.text_hidden
    Lt = c.vlm_layers
    if c.state_tokens:
        b.linear(S, "prefix.state_proj", c.state_tokens, c.max_state_dim, H, 1, bias=True)
    if Lt and P:
        b.elementwise(S, "prefix.input_norm", "rmsnorm", P, H, Lt, params=H)
        b.linear(S, "prefix.attn.q", P, H, c.q_dim, Lt)
        b.linear(S, "prefix.attn.k", P, H, c.kv_dim, Lt)
        b.linear(S, "prefix.attn.v", P, H, c.kv_dim, Lt)
        b.elementwise(S, "prefix.rope_q", "rope", P, c.q_dim, Lt)
        b.elementwise(S, "prefix.rope_k", "rope", P, c.kv_dim, Lt)
        b.attention(S, "prefix.attn", P, P, c.head_dim, c.heads, Lt)
        b.linear(S, "prefix.attn.o", P, c.q_dim, H, Lt)
        b.elementwise(S, "prefix.residual1", "residual", P, H, Lt, inputs=2)
        b.elementwise(S, "prefix.post_norm", "rmsnorm", P, H, Lt, params=H)
        b.linear(S, "prefix.mlp.gate", P, H, c.text_mlp, Lt, act="silu")
        b.linear(S, "prefix.mlp.up", P, H, c.text_mlp, Lt)
        b.elementwise(S, "prefix.mlp.mul", "mul", P, c.text_mlp, Lt, inputs=2)
        b.linear(S, "prefix.mlp.down", P, c.text_mlp, H, Lt)
        b.elementwise(S, "prefix.residual2", "residual", P, H, Lt, inputs=2)

    # 3. denoising steps of the action expert over the chunk's action tokens
    E, A, X = "expert", c.chunk_size, c.expert_hidden
    st = c.num_steps
    b.linear(E, "expert.action_in_proj", A, c.max_action_dim, X, st, bias=True)
    b.linear(E, "expert.time_mlp_in", A, 2 * X, X, st, bias=True, act="silu")
    b.linear(E, "expert.time_mlp_out", A, X, X, st, bias=True)
    Le = c.n_expert_layers * st
    if Le:
        b.elementwise(E, "expert.input_norm", "rmsnorm", A, X, Le, params=X)
        b.linear(E, "expert.attn.q", A, X, c.q_dim, Le)
        b.elementwise(E, "expert.rope_q", "rope", A, c.q_dim, Le)
    Ls = c.self_attn_layers * st
    if Ls:
        b.linear(E, "expert.self.k", A, X, c.kv_dim, Ls)
        b.linear(E, "expert.self.v", A, X, c.kv_dim, Ls)
        b.elementwise(E, "expert.self.rope_k", "rope", A, c.kv_dim, Ls)
        b.attention(E, "expert.self", A, P + A, c.head_dim, c.heads, Ls)
    Lc = c.cross_attn_layers * st
    if Lc and P:
        b.linear(E, "expert.cross.k", P, c.kv_dim, c.kv_dim, Lc)
        b.linear(E, "expert.cross.v", P, c.kv_dim, c.kv_dim, Lc)
        b.attention(E, "expert.cross", A, P, c.head_dim, c.heads, Lc)
    if Le:
        b.linear(E, "expert.attn.o", A, c.q_dim, X, Le)
        b.elementwise(E, "expert.residual1", "residual", A, X, Le, inputs=2)
        b.elementwise(E, "expert.post_norm", "rmsnorm", A, X, Le, params=X)
        b.linear(E, "expert.mlp.gate", A, X, c.expert_mlp, Le, act="silu")
        b.linear(E, "expert.mlp.up", A, X, c.expert_mlp, Le)
        b.elementwise(E, "expert.mlp.mul", "mul", A, c.expert_mlp, Le, inputs=2)
        b.linear(E, "expert.mlp.down", A, c.expert_mlp, X, Le)
        b.elementwise(E, "expert.residual2", "residual", A, X, Le, inputs=2)
    b.elementwise(E, "expert.final_norm", "rmsnorm", A, X, st, params=X)
    b.linear(E, "expert.action_out_proj", A, X, c.max_action_dim, st, bias=True)
    b.elementwise(E, "expert.euler", "euler", A, c.max_action_dim, st, inputs=2)

    return Workload("smolvla", c, b.ops)


WORKLOADS = {"smolvla": build_smolvla}


def build_workload(name: str, config: SmolVLAConfig | None = None) -> Workload:
    try:
        builder = WORKLOADS[name]
    except KeyError:
        raise UserError(f"unknown workload {name!r}: use one of {', '.join(WORKLOADS)}") from None
    return builder(config)
