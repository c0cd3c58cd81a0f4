"""A number that carries its source. Every ceiling and prediction is one of these.

Provenance is data, never parsed back out of text: `source` says what kind of figure it is,
`run_id` which run it was taken from, `emulated` whether that run's times were modeled by the
emulator, `document` which data sheet a spec figure comes from. Labels and ceiling-set keys are
derived from these fields.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

SOURCES = ("spec", "measured", "model", "assumption")


@dataclass(frozen=True)
class Figure:
    name: str      # e.g. "HBM aggregate bandwidth"
    value: float
    unit: str      # "GB/s" (decimal, 1e9 B/s), "GFLOP/s", "s", "MHz", ...
    source: str    # one of SOURCES
    detail: str    # human-readable: how it was obtained (never read back by the code)
    run_id: str | None = None       # the run it was taken from (measured, or emulated model)
    emulated: bool = False          # that run was emulated: its times are modeled
    document: str | None = None     # spec: the document it comes from

    def __post_init__(self):
        if self.source not in SOURCES:
            raise ValueError(f"figure source must be one of {SOURCES}, got {self.source!r}")
        if self.source == "measured" and (self.run_id is None or self.emulated):
            raise ValueError(f"{self.name}: a measured figure needs the id of a run on a card")
        if self.emulated and (self.source != "model" or self.run_id is None):
            raise ValueError(f"{self.name}: an emulated figure is a model figure taken from a run")

    @property
    def tag(self) -> str:
        """How the source is shown: figures from emulated runs read 'emulated (model)'."""
        return "emulated (model)" if self.emulated else self.source

    @property
    def origin(self) -> str:
        """'measured' or 'emulated' for a figure taken from a run; else its source."""
        if self.run_id is not None:
            return "emulated" if self.emulated else "measured"
        return self.source

    def label(self) -> str:
        """Short label for plots and tables: '421.3 GB/s (measured: run 2026...)'."""
        v = self.value
        txt = f"{v:,.1f}" if abs(v) >= 10 else f"{v:.3g}"
        return f"{txt} {self.unit} ({self.tag}: {self.detail})"

    def derived(self, name: str, value: float, detail: str, unit: str | None = None) -> "Figure":
        """A figure computed from this one: same provenance, new name, value and detail."""
        return Figure(name, value, self.unit if unit is None else unit, self.source, detail, self.run_id,
                      self.emulated, self.document)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Figure":
        keys = ("name", "value", "unit", "source", "detail", "run_id", "emulated", "document")
        return cls(**{k: d[k] for k in keys if k in d})


def tag_of(d) -> str:
    """The shown source of a Figure or of a dict with its fields (source, emulated)."""
    if isinstance(d, Figure):
        return d.tag
    return "emulated (model)" if d.get("emulated") else str(d["source"])
