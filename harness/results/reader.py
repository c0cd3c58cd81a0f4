"""Reading run directories: only complete runs of this schema, and only their verified figures.

`load_run` refuses anything that is not a complete run of a known bench; with
`require_verified` (the default, what every analysis uses) it also refuses a run none of whose
points passed verification, since nothing could be taken from it. Unverified rows are never
used (Run.verified_summary).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harness.errors import UserError
from harness.figures import Figure
from harness.results.schema import BENCHES, CEILING_SOURCES, SCHEMA_VERSION, TIMING_SOURCES

__all__ = ["Run", "load_run", "load_runs", "check_ceiling_source"]


@dataclass
class Run:
    path: Path
    context: dict
    samples: pd.DataFrame
    summary: pd.DataFrame

    @property
    def run_id(self) -> str:
        return self.context["run_id"]

    @property
    def bench(self) -> str:
        return self.context["bench"]

    @property
    def timing_source(self) -> str:
        return str(self.context.get("timing_source", ""))

    @property
    def dtype(self) -> str | None:
        d = self.context.get("dtype")
        return str(d) if d else None

    @property
    def timed(self) -> bool:
        """False for a functional-only run ('functional only: no time'): it has no time to use."""
        return self.timing_source != "none"

    @property
    def emulated(self) -> bool:
        """Times of this run are not a card's: anything but timing_source 'measured'."""
        return self.timing_source != "measured"

    def figure(self, name: str, value: float, unit: str, what: str) -> Figure:
        """A figure taken from this run: 'measured' only for timed hardware, else an emulated model figure."""
        if self.emulated:
            return Figure(name, value, unit, "model", f"run {self.run_id}, emulated; {what}", self.run_id, True)
        return Figure(name, value, unit, "measured", f"run {self.run_id}; {what}", self.run_id)

    def provenance(self) -> dict:
        """The source fields of figures from this run, for tables: source, run_id, emulated."""
        return {"source": "model" if self.emulated else "measured", "run_id": self.run_id,
                "emulated": self.emulated}

    def verified_summary(self) -> pd.DataFrame:
        """Points whose figures may be used: every measured repetition verified."""
        s = self.summary
        if "verified" not in s.columns:
            return s.iloc[0:0]
        return s[s["verified"].astype(str).str.strip().str.lower().isin(("true", "1"))]


def load_run(path: str | Path, require_verified: bool = True) -> Run:
    """Read a run directory; refuse anything that is not a complete run (with a verified point,
    unless require_verified is False)."""
    p = Path(path)
    if not p.exists():
        raise UserError(f"{p} does not exist: give a run directory under results/runs/")
    ctx_file = p / "context.json"
    if not p.is_dir() or not ctx_file.is_file():
        raise UserError(f"{p} is not a run directory (no context.json); pass a directory under results/runs/")
    try:
        context = json.loads(ctx_file.read_text())
    except json.JSONDecodeError as exc:
        raise UserError(f"{ctx_file} is not valid JSON ({exc.msg}); the run is damaged, rerun the bench") from exc
    if context.get("schema_version") != SCHEMA_VERSION:
        raise UserError(f"{p} has schema version {context.get('schema_version')}, this harness reads "
                        f"{SCHEMA_VERSION}; rerun the bench with this version")
    if context.get("timing_source") not in TIMING_SOURCES:
        raise UserError(f"{p}: timing_source {context.get('timing_source')!r} is not one of "
                        f"{', '.join(TIMING_SOURCES)}; rerun the bench")
    if context.get("bench") not in BENCHES:
        raise UserError(f"{p}: unknown bench {context.get('bench')!r} in context.json")
    if context.get("status") != "complete":
        why = f" ({context['error']})" if context.get("error") else ""
        raise UserError(f"{p} is an incomplete run{why}; its numbers cannot be used, rerun the bench")
    for name in ("samples.csv", "summary.csv"):
        if not (p / name).is_file():
            raise UserError(f"{p} has no {name}; the run is damaged, rerun the bench")
    run = Run(p, context, pd.read_csv(p / "samples.csv"), pd.read_csv(p / "summary.csv"))
    if require_verified and run.verified_summary().empty:
        raise UserError(f"run {run.run_id} has no verified point: its figures cannot be used; "
                        "fix the failure recorded in its samples.csv and rerun")
    return run


def check_ceiling_source(run: Run) -> None:
    """Refuse a run whose times may not become a ceiling (XRT emulation: hw_emu, sw_emu)."""
    if run.timing_source == "none":
        raise UserError(f"run {run.run_id} is functional only: no time (its kernel spec has no cycle model): "
                        "it verifies the kernel but gives no time to place on the roofline; add [timing] "
                        "cycles to the spec and rerun, or run it on the card")
    if run.timing_source not in CEILING_SOURCES:
        raise UserError(f"run {run.run_id} is an XRT emulation run ({run.context.get('mode')}, timing source "
                        f"'{run.timing_source}'): its times are the simulator's and never a ceiling; give runs "
                        "of --mode hw (or emu for a modeled preview)")


def load_runs(paths) -> list[Run]:
    """Several runs for one analysis: each complete, with a verified point, given once, and timed
    on the card or by the model (never XRT emulation)."""
    runs = [load_run(p) for p in paths]
    for r in runs:
        check_ceiling_source(r)
    seen = set()
    for r in runs:
        if r.run_id in seen:
            raise UserError(f"run {r.run_id} is given twice: give each run directory once")
        seen.add(r.run_id)
    return runs
