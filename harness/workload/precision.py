"""Element types the workload can be counted in, their widths, and the byte convention.

The names are the ones the GEMM kernels are built with (kernels/designs/gemm.toml
variants, context.json `dtype`), so a workload precision can be compared with the
precision of the kernel whose measurements are used.

One byte convention (`ByteConvention`) is used by the workload, the roofline, fusion and
latency code alike: the GEMM kernel's real types (kernels/gemm/gemm_types.h). Operands
(A, B) and parameter vectors (bias, gamma) are `elem_t` (the element type); what a GEMM
writes (C) is `out_t`, 32 bits for every element type; elementwise ops read and write
activations as `out_t`, as the design's elementwise kernel (bias_gelu) does. At fp32 both
widths are 4 B. The seed analysis counted every element at 2 B: `ByteConvention.uniform`.
"""
from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class ByteConvention:
    """How many bytes an element of each role takes: operands/parameters and activations written."""
    name: str              # the element type (fp32, fp16, ...) or a label such as "16-bit (seed)"
    operand_bytes: int     # A, B, bias and norm parameters: elem_t
    output_bytes: int      # C of a GEMM-kind op; activations elementwise ops read and write: out_t

    @classmethod
    def of(cls, precision: "str | ByteConvention") -> "ByteConvention":
        """The GEMM kernel's convention for an element type (a ByteConvention passes through)."""
        if isinstance(precision, ByteConvention):
            return precision
        return cls(precision, element_bytes(precision), output_bytes(precision))

    @classmethod
    def uniform(cls, nbytes: int, name: str) -> "ByteConvention":
        """Every element at one width (the seed analysis' 2 B)."""
        return cls(name, nbytes, nbytes)

    def describe(self) -> str:
        if self.operand_bytes == self.output_bytes:
            return f"{self.name}: {self.operand_bytes} B per element"
        return (f"{self.name}: operands and parameters {self.operand_bytes} B, outputs and elementwise "
                f"activations {self.output_bytes} B (the kernel's out_t)")
