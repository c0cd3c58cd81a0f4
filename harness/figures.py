"""A number that carries its source. Every ceiling and prediction is one of these."""
from __future__ import annotations

from dataclasses import asdict, dataclass

SOURCES = ("spec", "measured", "model", "assumption")


@dataclass(frozen=True)
class Figure:
    name: str      # e.g. "HBM aggregate bandwidth"
    value: float
    unit: str      # "GB/s" (decimal, 1e9 B/s), "GFLOP/s", "s", "MHz", ...
    source: str    # one of SOURCES
    detail: str    # spec: the document; measured: run id; model: model name/version; assumption: the reason

    def __post_init__(self):
        if self.source not in SOURCES:
            raise ValueError(f"figure source must be one of {SOURCES}, got {self.source!r}")

    def label(self) -> str:
        """Short label for plots and tables: '421.3 GB/s (measured, run 2026...)'."""
        v = self.value
        txt = f"{v:,.1f}" if abs(v) >= 10 else f"{v:.3g}"
        return f"{txt} {self.unit} ({self.source}: {self.detail})"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Figure":
        return cls(**{k: d[k] for k in ("name", "value", "unit", "source", "detail")})
