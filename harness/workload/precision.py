"""Element types the workload can be counted in, and their widths.

The names are the ones the GEMM kernels are built with (kernels/designs/gemm.toml
variants, context.json `dtype`), so a workload precision can be compared with the
precision of the kernel whose measurements are used.
"""
from __future__ import annotations

from harness.errors import UserError

# element type -> bytes per element (smolvla.md "Counting conventions")
ELEMENT_BYTES: dict[str, int] = {
    "fp32": 4,
    "fp16": 2,
    "bf16": 2,
    "fx16": 2,   # 16-bit fixed point (ap_fixed<16, ...>)
    "int8": 1,
}
PRECISIONS = tuple(ELEMENT_BYTES)


def element_bytes(precision: str) -> int:
    """Width of one element of `precision` in bytes; UserError for an unknown name."""
    try:
        return ELEMENT_BYTES[precision]
    except KeyError:
        raise UserError(
            f"unknown precision {precision!r}: use one of {', '.join(PRECISIONS)}"
        ) from None


def check_precision(precision: str) -> str:
    element_bytes(precision)
    return precision
