"""Writing a run directory (schema: harness.results.schema): the context, samples as they come,
the summary and the final status."""
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
from importlib import metadata
from pathlib import Path

import pandas as pd

from harness import REPO_ROOT, __version__
from harness.errors import UserError
from harness.results.schema import RUNS_DIR, SCHEMA_VERSION


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
        self.on_sample = None            # called with each row once it is written
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
        if self.on_sample is not None:
            self.on_sample(row)

    def rewrite_samples(self) -> None:
        """Write samples.csv again from self.rows (after a column was filled in, e.g. device_time_s)."""
        self._samples_file.close()
        tmp = self.path / "samples.csv.tmp"
        with open(tmp, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=self._columns, extrasaction="raise")
            w.writeheader()
            w.writerows(self.rows)
        os.replace(tmp, self.path / "samples.csv")
        self._samples_file = open(self.path / "samples.csv", "a", newline="")
        self._writer = csv.DictWriter(self._samples_file, fieldnames=self._columns, extrasaction="raise")

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
