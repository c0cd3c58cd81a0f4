"""Element types the workload can be counted in, and their widths.

The names are the ones the GEMM kernels are built with (kernels/designs/gemm.toml
variants, context.json `dtype`), so a workload precision can be compared with the
precision of the kernel whose measurements are used.
"""
from __future__ import annotations

from harness.errors import UserError
from harness.model.platform import DTYPES, dtype_figure

# element type -> bytes per element (harness/docs/smolvla.md "Counting conventions"), from the model data
# (harness/data/model_params.toml [dtypes.*]), the one place element widths are written.
ELEMENT_BYTES: dict[str, int] = {d: int(dtype_figure(d, "elem_bytes").value) for d in DTYPES}
PRECISIONS = tuple(ELEMENT_BYTES)


def element_bytes(precision: str) -> int:
    """Width of one element of `precision` in bytes; UserError for an unknown name."""
    try:
        return ELEMENT_BYTES[precision]
    except KeyError:
        raise UserError(
            f"unknown precision {precision!r}: use one of {', '.join(PRECISIONS)}"
        ) from None


def output_bytes(precision: str) -> int:
    """Width of one C element the GEMM kernel writes for `precision` (fp32, or 32-bit accumulators)."""
    element_bytes(precision)
    return int(dtype_figure(precision, "out_bytes").value)


def check_precision(precision: str) -> str:
    element_bytes(precision)
    return precision
