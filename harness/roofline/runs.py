"""Run directories as the roofline reads them: complete runs with a verified point.

harness.bench.rundir.load_run refuses anything that is not a complete run; on
top of that a run none of whose points passed verification is refused here,
because the roofline would otherwise have no figure to take from it.
Unverified rows are never used (Run.verified_summary).
"""
from __future__ import annotations

from pathlib import Path

from harness.bench.rundir import Run, load_run as _load_complete_run
from harness.errors import UserError

__all__ = ["Run", "load_run", "load_runs"]


def load_run(path) -> Run:
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path} does not exist: give a run directory under results/runs/")
    run = _load_complete_run(path)
    if run.verified_summary().empty:
        raise UserError(f"run {run.run_id} has no verified point: its figures cannot be used; "
                        "fix the failure recorded in its samples.csv and rerun")
    return run


def load_runs(paths) -> list[Run]:
    runs = [load_run(p) for p in paths]
    seen = set()
    for r in runs:
        if r.run_id in seen:
            raise UserError(f"run {r.run_id} is given twice: give each run directory once")
        seen.add(r.run_id)
    return runs
