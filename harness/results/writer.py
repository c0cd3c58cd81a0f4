"""Writing a run directory (schema: harness.results.schema): the context, samples as they come,
the summary and the final status."""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import getpass
import json
import os
import platform as pyplatform
import socket
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from harness import REPO_ROOT, __version__
from harness.errors import UserError
from harness.results.schema import HASHED_FILES, RUNS_DIR, SCHEMA_VERSION

if TYPE_CHECKING:          # pandas costs a quarter of a second to import: only where a frame is made
    import pandas as pd


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
    for name in ("numpy", "pandas", "matplotlib", "hls4ml"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _model_params() -> dict:
    """The timing model's parameter file (--params, or the defaults) and its SHA-256: what the
    emulator's modeled times and the model_time_s column were computed with."""
    from harness.model import data
    return data.params_file()


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
        "model_params": _model_params(),
        "units": {"time_s": "seconds", "bandwidth_GBps": "1e9 bytes/s (decimal)",
                  "throughput_GFLOPps": "1e9 FLOP/s", "bytes": "bytes"},
    }


def disk_error(what: str, where, exc: OSError) -> UserError:
    """A write that the disk refused, as one line saying what to do."""
    reason = exc.strerror or type(exc).__name__
    return UserError(f"cannot write {what} in {where} ({reason}); free some space or pass --out a writable "
                     "directory, then rerun")


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def run_context(bench: str, mode: str, timing_source: str, *, design: dict, dtype: str | None, clock_mhz: float,
                clock_source: str, device: dict, xclbin: dict, runtime: dict, notes: list[str],
                emulator: dict | None = None, platform: str = "u280") -> dict:
    """Everything a run records about where its numbers come from (schema: harness.results.schema).

    `dtype` is written once, at the top level (the design block does not repeat it); `emulator`
    is present whenever the xclbin was an emulated one, whatever the mode."""
    ctx = base_context(bench, mode, timing_source)
    ctx.update({
        "platform": platform,
        "design": {k: v for k, v in design.items() if k != "dtype"},
        "dtype": dtype,
        "clock_mhz": clock_mhz,
        "clock_source": clock_source,
        "device": device,
        "xclbin": xclbin,
        "runtime": runtime,
        "notes": list(notes),
    })
    if emulator is not None:
        ctx["emulator"] = emulator
    return ctx


class RunWriter:
    """Creates the run directory and writes samples as they come.

    The disk may refuse any write (full, read-only, quota): that becomes a UserError saying so,
    no temporary file is left behind, and the reason is recorded in context.json when the disk
    still takes that much. The run stays `incomplete` unless `finish` completed."""

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
        self.rows: list[dict] = []
        self.on_sample = None            # called with each row once it is written
        self._samples_file = None
        try:
            self._samples_file = open(path / "samples.csv", "w", newline="")
            self._writer = csv.DictWriter(self._samples_file, fieldnames=self._columns, extrasaction="raise")
            self._writer.writeheader()
            self._samples_file.flush()
            self._write_context()
        except (OSError, UserError) as exc:
            # Nothing was measured yet: leave no directory behind that could pass for a run.
            self._close_samples()
            for name in ("samples.csv", "context.json", "context.json.tmp"):
                try:
                    (path / name).unlink(missing_ok=True)
                except OSError:
                    pass
            try:
                path.rmdir()
            except OSError:
                pass
            if isinstance(exc, UserError):
                raise
            raise disk_error("the run directory", root, exc) from exc

    def _write_context(self) -> None:
        tmp = self.path / "context.json.tmp"
        try:
            tmp.write_text(json.dumps(self.context, indent=2, default=str))
            os.replace(tmp, self.path / "context.json")
        except OSError as exc:
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass
            raise disk_error("context.json", self.path, exc) from exc

    def _close_samples(self) -> None:
        f, self._samples_file = self._samples_file, None
        if f is not None:
            try:
                f.close()
            except OSError:
                pass       # a full disk can refuse the last flush too; the run is failing anyway

    def add_sample(self, row: dict) -> None:
        row = {"run_id": self.run_id, **row}
        try:
            self._writer.writerow(row)
            self._samples_file.flush()
        except OSError as exc:
            raise disk_error("samples.csv", self.path, exc) from exc
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
        """Leave the run marked incomplete, with the reason (if the disk still takes it)."""
        self._close_samples()
        self.context["ended_utc"] = utc_now().isoformat()
        self.context["status"] = "incomplete"
        self.context["error"] = message
        try:
            self._write_context()
        except UserError:
            pass           # the old context.json (status incomplete) stays: the run still reads as incomplete

    def finish(self, summary: pd.DataFrame) -> None:
        """Write the summary, record both files' SHA-256, and only then mark the run complete."""
        if self._samples_file is not None:
            try:
                self._samples_file.close()
            except OSError as exc:
                self._samples_file = None
                raise disk_error("samples.csv", self.path, exc) from exc
            self._samples_file = None
        tmp = self.path / ".summary.csv.tmp"
        try:
            summary.to_csv(tmp, index=False)
            os.replace(tmp, self.path / "summary.csv")
        except OSError as exc:
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass
            raise disk_error("summary.csv", self.path, exc) from exc
        self.context["sha256"] = {name: sha256_of(self.path / name) for name in HASHED_FILES}
        self.context["ended_utc"] = utc_now().isoformat()
        self.context["status"] = "complete"
        self._write_context()
