"""The codes kernels take in scalar arguments (epilogue, memcpy mode), read from the design files.

They are written once, in [codes.*] tables of kernels/designs/*.toml; the kernels get them as -D
flags, and the benches, the numpy references and the emulator's timing read them from here.
"""
from __future__ import annotations

import functools

from harness.designs.files import design_codes


@functools.lru_cache(maxsize=None)
def epilogue_codes() -> dict[str, int]:
    """{'none': 0, 'bias': 1, 'bias_gelu': 2}: gemm's and bias_gelu's `epilogue` argument."""
    return dict(design_codes("gemm", "epilogue"))


@functools.lru_cache(maxsize=None)
def memcpy_modes() -> dict[str, int]:
    """{'read': 0, 'write': 1, 'copy': 2}: bw_memcpy's `mode` argument."""
    return dict(design_codes("memcpy", "mode"))


@functools.lru_cache(maxsize=None)
def memcpy_patterns() -> dict[str, int]:
    """{'seq': 0, 'stride': 1, 'random': 2}: bw_memcpy's `pattern` argument."""
    return dict(design_codes("memcpy", "pattern"))
