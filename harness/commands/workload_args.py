"""Command-line parameters of the workload model, shared by `harness workload` and `harness roofline`."""
from __future__ import annotations

import argparse

from harness.workload.smolvla import SmolVLAConfig

# (flag, config field, help)
_PARAMS = [
    ("--cameras", "cameras", "camera images per inference"),
    ("--lang-tokens", "lang_tokens", "language tokens in the prefix"),
    ("--chunk-size", "chunk_size", "action tokens per denoising step"),
    ("--steps", "num_steps", "flow-matching denoising steps"),
    ("--vision-layers", "vision_layers", "vision encoder layers"),
    ("--vlm-layers", "vlm_layers", "text-model layers kept"),
    ("--expert-layers", "expert_layers", "action-expert layers (-1: same as --vlm-layers)"),
]


def add_workload_args(parser: argparse.ArgumentParser) -> None:
    d = SmolVLAConfig()
    g = parser.add_argument_group("workload parameters (smolVLA defaults: harness/docs/smolvla.md)")
    for flag, fieldname, text in _PARAMS:
        g.add_argument(flag, type=int, default=None, dest=f"wl_{fieldname}",
                       help=f"{text} (default {getattr(d, fieldname)})")


def config_from_args(args: argparse.Namespace) -> SmolVLAConfig:
    kw = {f: getattr(args, f"wl_{f}") for _, f, _ in _PARAMS
          if getattr(args, f"wl_{f}", None) is not None}
    return SmolVLAConfig(**kw)
