"""Reading run directories for the roofline: the one place that touches them.

Uses harness.bench.rundir.load_run when it exists; until then (or if it is
missing) a small reader of the schema in docs/design.md. Either way the
roofline refuses a directory that is not a run, a run that is not complete, and
a run none of whose points passed verification: unverified rows are never used.
"""
from __future__ import annotations

import json
import pathlib
from dataclasses import dataclass

import pandas as pd

from harness.errors import UserError

BENCHES = ("memcpy", "gemm", "latency")


@dataclass
class Run:
    path: pathlib.Path
    context: dict
    summary: pd.DataFrame
    samples: pd.DataFrame | None = None

    @property
    def run_id(self) -> str:
        return str(self.context.get("run_id") or self.path.name)

    @property
    def bench(self) -> str:
        return str(self.context.get("bench", ""))

    @property
    def timing_source(self) -> str:
        return str(self.context.get("timing_source", ""))

    @property
    def dtype(self) -> str | None:
        d = self.context.get("dtype")
        return str(d) if d else None

    def source_and_detail(self) -> tuple[str, str]:
        """Figure source for a number taken from this run: 'measured' only for timed hardware."""
        if self.timing_source == "measured":
            return "measured", f"run {self.run_id}"
        return "model", f"run {self.run_id}, emulated"

    def verified_summary(self) -> pd.DataFrame:
        """Summary rows whose every repetition verified (the only rows a figure may come from)."""
        s = self.summary
        if "verified" not in s.columns:
            return s.iloc[0:0]
        return s[s["verified"].map(_truthy)]


def _truthy(v) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in ("true", "1", "yes")
    try:
        return bool(v) and not pd.isna(v)
    except TypeError:
        return bool(v)


def _read_local(path: pathlib.Path) -> Run:
    ctx_path = path / "context.json"
    if not path.is_dir() or not ctx_path.is_file():
        raise UserError(f"{path} is not a run directory (no context.json): "
                        "give a directory under results/runs/ written by `harness bench`")
    try:
        context = json.loads(ctx_path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise UserError(f"{ctx_path} is not readable JSON ({exc}): rerun the benchmark") from None
    summ = path / "summary.csv"
    if not summ.is_file():
        raise UserError(f"{path} has no summary.csv: the run did not finish; rerun the benchmark")
    try:
        summary = pd.read_csv(summ)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise UserError(f"{summ} is not a readable CSV ({exc}): rerun the benchmark") from None
    samples = None
    if (path / "samples.csv").is_file():
        try:
            samples = pd.read_csv(path / "samples.csv")
        except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError):
            samples = None
    return Run(path, context, summary, samples)


def _read(path: pathlib.Path) -> Run:
    try:
        from harness.bench.rundir import load_run  # the project's reader, when it exists
    except ImportError:
        return _read_local(path)
    r = load_run(path)
    ctx = getattr(r, "context", None)
    summary = getattr(r, "summary", None)
    if not isinstance(ctx, dict) or summary is None:
        return _read_local(path)
    return Run(path, ctx, summary, getattr(r, "samples", None))


def load_run(path) -> Run:
    """A complete run with at least one verified point, or UserError."""
    path = pathlib.Path(path)
    if not path.exists():
        raise UserError(f"{path} does not exist: give a run directory under results/runs/")
    if not (path / "context.json").is_file():
        raise UserError(f"{path} is not a run directory (no context.json): "
                        "give a directory under results/runs/ written by `harness bench`")
    run = _read(path)
    status = run.context.get("status")
    if status != "complete":
        raise UserError(f"run {run.run_id} has status {status!r}, not 'complete': "
                        "it was interrupted; rerun the benchmark")
    if run.bench not in BENCHES:
        raise UserError(f"run {run.run_id} is a {run.bench!r} run: the roofline reads "
                        f"{', '.join(BENCHES)} runs")
    if run.timing_source not in ("measured", "model"):
        raise UserError(f"run {run.run_id} has timing_source {run.timing_source!r}: "
                        "expected 'measured' or 'model'; rerun the benchmark")
    if run.verified_summary().empty:
        raise UserError(f"run {run.run_id} has no verified point: its figures cannot be used; "
                        "fix the failure recorded in its samples.csv and rerun")
    return run


def load_runs(paths) -> list[Run]:
    runs = [load_run(p) for p in paths]
    seen = {}
    for r in runs:
        if r.run_id in seen:
            raise UserError(f"run {r.run_id} is given twice: give each run directory once")
        seen[r.run_id] = r
    return runs
