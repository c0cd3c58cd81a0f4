"""Run directories: context.json + samples.csv (every repetition) + summary.csv.

A run directory is marked `status: incomplete` from the moment it exists and
becomes `complete` only after the last point is written, so an interrupted or
failed run can never be mistaken for a finished one (load_run refuses it).
"""
from __future__ import annotations

import csv
import datetime as dt
import getpass
import json
import os
import platform as pyplatform
import socket
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pandas as pd

from harness import REPO_ROOT, __version__
from harness.errors import UserError

SCHEMA_VERSION = 1
RUNS_DIR = REPO_ROOT / "results" / "runs"
BENCHES = ("memcpy", "gemm", "latency")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _git() -> dict:
    def git(*args):
        return subprocess.run(["git", "-C", str(REPO_ROOT), *args], capture_output=True, text=True, timeout=10)
    try:
        commit = git("rev-parse", "HEAD")
        if commit.returncode != 0:
            return {"commit": None, "dirty": None}
        dirty = bool(git("status", "--porcelain", "--untracked-files=no").stdout.strip())
        return {"commit": commit.stdout.strip(), "dirty": dirty}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def _packages() -> dict:
    out = {}
    for name in ("numpy", "pandas", "matplotlib", "hls4ml", "tqdm"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def base_context(bench: str, mode: str, timing_source: str) -> dict:
    return {
        "schema_version": SCHEMA_VERSION,
        "harness_version": __version__,
        "bench": bench,
        "status": "incomplete",
        "mode": mode,
        "timing_source": timing_source,
        "git": _git(),
        "host": {"hostname": socket.gethostname(), "user": getpass.getuser(), "os": pyplatform.platform(),
                 "cpu": pyplatform.processor() or pyplatform.machine(), "cpus": os.cpu_count()},
        "python": sys.version.split()[0],
        "packages": _packages(),
        "command": sys.argv,
        "units": {"time_s": "seconds", "bandwidth_GBps": "1e9 bytes/s (decimal)",
                  "throughput_GFLOPps": "1e9 FLOP/s", "bytes": "bytes"},
    }


class RunWriter:
    """Creates the run directory and writes samples as they come."""

    def __init__(self, bench: str, mode: str, context: dict, out: str | Path | None = None,
                 sample_columns: list[str] | None = None):
        started = utc_now()
        stamp = started.strftime("%Y%m%dT%H%M%SZ")
        root = Path(out) if out else RUNS_DIR
        run_id = f"{stamp}-{mode}-{bench}"
        path = root / run_id
        n = 1
        while path.exists():
            n += 1
            run_id = f"{stamp}-{mode}-{bench}-{n}"
            path = root / run_id
        try:
            path.mkdir(parents=True)
        except OSError as exc:
            raise UserError(f"cannot create the run directory under {root} ({exc.strerror}); "
                            "pass --out a writable directory") from exc
        self.path, self.run_id = path, run_id
        self.context = {**context, "run_id": run_id, "started_utc": started.isoformat(), "ended_utc": None}
        self._columns = list(sample_columns or [])
        self._samples_file = open(path / "samples.csv", "w", newline="")
        self._writer = csv.DictWriter(self._samples_file, fieldnames=self._columns, extrasaction="raise")
        self._writer.writeheader()
        self.rows: list[dict] = []
        self._write_context()

    def _write_context(self) -> None:
        tmp = self.path / "context.json.tmp"
        tmp.write_text(json.dumps(self.context, indent=2, default=str))
        os.replace(tmp, self.path / "context.json")

    def add_sample(self, row: dict) -> None:
        row = {"run_id": self.run_id, **row}
        self._writer.writerow(row)
        self._samples_file.flush()
        self.rows.append(row)

    def fail(self, message: str) -> None:
        """Leave the run marked incomplete, with the reason."""
        self._samples_file.close()
        self.context["ended_utc"] = utc_now().isoformat()
        self.context["error"] = message
        self._write_context()

    def finish(self, summary: pd.DataFrame) -> None:
        self._samples_file.close()
        summary.to_csv(self.path / "summary.csv", index=False)
        self.context["ended_utc"] = utc_now().isoformat()
        self.context["status"] = "complete"
        self._write_context()


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

    def source_and_detail(self) -> tuple[str, str]:
        """Source of a figure taken from this run: 'measured' only for timed hardware."""
        if self.timing_source == "measured":
            return "measured", f"run {self.run_id}"
        return "model", f"run {self.run_id}, emulated"

    def verified_summary(self) -> pd.DataFrame:
        """Points whose figures may be used: every measured repetition verified."""
        s = self.summary
        if "verified" not in s.columns:
            return s.iloc[0:0]
        return s[s["verified"].astype(str).str.strip().str.lower().isin(("true", "1"))]


def load_run(path: str | Path) -> Run:
    """Read a run directory; refuse anything that is not a complete run."""
    p = Path(path)
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
    if context.get("timing_source") not in ("measured", "model"):
        raise UserError(f"{p}: timing_source {context.get('timing_source')!r} is neither 'measured' nor "
                        "'model'; rerun the bench")
    if context.get("bench") not in BENCHES:
        raise UserError(f"{p}: unknown bench {context.get('bench')!r} in context.json")
    if context.get("status") != "complete":
        why = f" ({context['error']})" if context.get("error") else ""
        raise UserError(f"{p} is an incomplete run{why}; its numbers cannot be used, rerun the bench")
    for name in ("samples.csv", "summary.csv"):
        if not (p / name).is_file():
            raise UserError(f"{p} has no {name}; the run is damaged, rerun the bench")
    return Run(p, context, pd.read_csv(p / "samples.csv"), pd.read_csv(p / "summary.csv"))
