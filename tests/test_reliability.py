"""Reliability: bad inputs and faults against every command, as a user or an attacker would try them.

Each row of CASES runs one command line through the real entry point (harness.cli.main,
in-process) after an optional setup that damages a file, edits a run or injects a fault, and
asserts: the exit code; exactly one line on stderr, no traceback; and what is (and is not) left
on disk: no run directory and no output for bad input, an `incomplete` run with its reason for a
failure during a run, a damaged run directory left exactly as it was. Faults that need a real
process (a broken pipe, Ctrl-C during native code, a file-size limit, a terminal) are at the end,
run as subprocesses.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Callable

import pandas as pd
import pytest

from harness.cli import main
from harness.results import schema

REPO = pathlib.Path(__file__).resolve().parent.parent
FIX = pathlib.Path(__file__).parent / "fixtures" / "runs"
HW_MEMCPY = "20250101T000000Z-hw-memcpy"
EMU_MEMCPY = "20250101T010000Z-emu-memcpy"
HW_GEMM = "20250101T020000Z-hw-gemm"
HW_LATENCY = "20250101T030000Z-hw-latency"
EMU_GEMM = "20250101T070000Z-emu-gemm"
EMU_LATENCY = "20250101T080000Z-emu-latency"


# --------------------------------------------------------------------------- damage helpers
def ctx_edit(**changes):
    """Set (or with None... delete via `_del`) keys of context.json; nested keys as 'a.b'."""
    def apply(run: pathlib.Path, _env):
        ctx = json.loads((run / "context.json").read_text())
        for key, value in changes.items():
            *parents, last = key.replace("__", ".").split(".")
            d = ctx
            for p_ in parents:
                d = d[p_]
            if value is _DELETE:
                d.pop(last, None)
            else:
                d[last] = value
        (run / "context.json").write_text(json.dumps(ctx, indent=2))
    return apply


_DELETE = object()


def write_file(name: str, data: bytes):
    def apply(run: pathlib.Path, _env):
        (run / name).write_bytes(data)
    return apply


def rehash(run: pathlib.Path) -> None:
    """What a careful editor would do: record the edited files' SHA-256 in context.json."""
    ctx = json.loads((run / "context.json").read_text())
    ctx["sha256"] = {n: hashlib.sha256((run / n).read_bytes()).hexdigest() for n in ("samples.csv", "summary.csv")}
    (run / "context.json").write_text(json.dumps(ctx, indent=2))


def resummarize(run: pathlib.Path) -> None:
    """Rewrite summary.csv from samples.csv with the benches' own summarizer, then rehash."""
    from harness.results.reader import _typed
    from harness.results.stats import summarize_samples
    ctx = json.loads((run / "context.json").read_text())
    s = _typed(run / "samples.csv", pd.read_csv(run / "samples.csv", dtype=str, keep_default_na=False))
    rows = s.to_dict("records")
    if ctx["bench"] == "latency":
        from harness import model
        from harness.bench.gemm import load_gemm_design
        from harness.bench.latency import summarize_latency
        plat = model.load_platform("u280")
        summary = summarize_latency(rows, plat, load_gemm_design(ctx["dtype"]),
                                    model.dispatch_overhead(plat).value, ctx["clock_mhz"])
    else:
        summary = summarize_samples(ctx["bench"], rows, schema.cus_of(ctx))
    summary.to_csv(run / "summary.csv", index=False)
    rehash(run)


def faster(factor: float, consistent: bool = True):
    """Every time divided by `factor`, rates recomputed: a consistent forgery (or only the samples)."""
    def apply(run: pathlib.Path, _env):
        s = pd.read_csv(run / "samples.csv", dtype=str, keep_default_na=False)
        t = s["time_s"].astype(float) / factor
        s["time_s"] = [repr(x) for x in t]
        for rate, work in (("bandwidth_GBps", "bytes"), ("throughput_GFLOPps", "flop")):
            if rate in s.columns:
                s[rate] = [repr(float(w) / x / 1e9) if v != "" else "" for w, x, v in zip(s[work], t, s[rate])]
        i = 0
        while f"cu{i}_time_s" in s.columns:          # gemm's per-CU times and rates, likewise
            tc = [float(x) / factor if x != "" else None for x in s[f"cu{i}_time_s"]]
            s[f"cu{i}_time_s"] = [repr(x) if x is not None else "" for x in tc]
            s[f"cu{i}_throughput_GFLOPps"] = [
                repr(2 * float(m) * float(k) * float(n) / x / 1e9) if v != "" else ""
                for m, k, n, x, v in zip(s["M"], s["K"], s[f"cu{i}_N"], tc, s[f"cu{i}_throughput_GFLOPps"])]
            i += 1
        s.to_csv(run / "samples.csv", index=False)
        if consistent:
            resummarize(run)
    return apply


def edit_cell(name: str, row: int, col: str, value: str, then_rehash: bool = True, then_resummarize=False):
    def apply(run: pathlib.Path, _env):
        df = pd.read_csv(run / name, dtype=str, keep_default_na=False)
        df.loc[row, col] = value
        df.to_csv(run / name, index=False)
        if then_resummarize:
            resummarize(run)
        elif then_rehash:
            rehash(run)
    return apply


def truncate(name: str, keep_lines: int):
    def apply(run: pathlib.Path, _env):
        lines = (run / name).read_text().splitlines(keepends=True)
        (run / name).write_text("".join(lines[:keep_lines]))
    return apply


def both(*fns):
    def apply(run, env):
        for f in fns:
            f(run, env)
    return apply


def fail_every_repetition(run: pathlib.Path, _env) -> None:
    """Every repetition recorded as failing verification (its rate empty), then resummarized: a run
    with no verified point, consistent with itself."""
    s = pd.read_csv(run / "samples.csv", dtype=str, keep_default_na=False)
    s["verified"], s["error"] = "False", "word 3: expected 0x3, got 0x0"
    for rate in ("bandwidth_GBps", "throughput_GFLOPps"):
        if rate in s.columns:
            s[rate] = ""
    s.to_csv(run / "samples.csv", index=False)
    resummarize(run)


def params_file(text: str):
    """A --params file at {tmp}/p.toml."""
    def apply(env):
        (env.tmp / "p.toml").write_text(text)
    return apply


# --------------------------------------------------------------------------- fault helpers
def _full_disk_file(real_open, after_bytes: int):
    """open() whose files refuse writes past `after_bytes` with ENOSPC, as a full disk does."""
    def fake_open(path, mode="r", *args, **kwargs):
        f = real_open(path, mode, *args, **kwargs)
        if "w" not in mode:
            return f
        written = [0]
        real_write = f.write

        def write(data):
            written[0] += len(data)
            if written[0] > after_bytes:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return real_write(data)
        f.write = write
        return f
    return fake_open


def disk_full_during_samples(env):
    import builtins

    import harness.results.writer as w
    env.monkeypatch.setattr(w, "open", _full_disk_file(builtins.open, 300), raising=False)


def disk_full_at_summary(env):
    def to_csv(self, path, *a, **k):
        pathlib.Path(path).write_text("dtype,M")          # part of the file, then the disk is full
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
    env.monkeypatch.setattr(pd.DataFrame, "to_csv", to_csv)


def disk_full_at_context(env):
    real = pathlib.Path.write_text

    def write_text(self, data, *a, **k):
        if self.name == "context.json.tmp":
            real(self, data[:10], *a, **k)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return real(self, data, *a, **k)
    env.monkeypatch.setattr(pathlib.Path, "write_text", write_text)


def read_only_out(env):
    real = pathlib.Path.mkdir

    def mkdir(self, *a, **k):
        if str(self).startswith(str(env.tmp)):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))
        return real(self, *a, **k)
    env.monkeypatch.setattr(pathlib.Path, "mkdir", mkdir)


def roofline_disk_full(env):
    real = pathlib.Path.write_bytes
    count = [0]

    def write_bytes(self, data):
        count[0] += 1
        if count[0] > 2:
            real(self, data[:5])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return real(self, data)
    env.monkeypatch.setattr(pathlib.Path, "write_bytes", write_bytes)


def emu_fault(spec: str):
    def apply(env):
        env.monkeypatch.setenv("HARNESS_EMU_FAULT", spec)
    return apply


def interrupt_native_build(env):
    import harness.designs.native as native

    def ensure_built(design, quiet=False):
        raise KeyboardInterrupt
    env.monkeypatch.setattr(native, "ensure_built", ensure_built)


def interrupt_second_launch(env):
    from harness.runtime.session import Session
    real = Session.launch
    calls = [0]

    def launch(self, *a, **k):
        calls[0] += 1
        if calls[0] == 2:
            raise KeyboardInterrupt
        return real(self, *a, **k)
    env.monkeypatch.setattr(Session, "launch", launch)


def pyxrt_raising(exc_text: str):
    def apply(env):
        d = env.tmp / "fakexrt"
        d.mkdir()
        (d / "pyxrt.py").write_text(f"raise {exc_text}\n")
        env.monkeypatch.syspath_prepend(str(d))
        env.monkeypatch.delitem(sys.modules, "pyxrt", raising=False)
    return apply


def no_pyxrt(env):
    import harness.runtime as rtmod
    env.monkeypatch.setattr(rtmod, "_import_pyxrt", lambda: None)


def a_file(env):
    (env.tmp / "afile").write_text("not a directory\n")


def no_emconfig(env):
    env.monkeypatch.setenv("EMCONFIG_PATH", str(env.tmp))


# --------------------------------------------------------------------------- the table
@dataclass
class Case:
    id: str
    argv: list
    says: str                         # in the one stderr line
    code: int = 2
    run: str | None = None            # fixture run copied to {run} and damaged by `damage`
    damage: Callable | None = None
    setup: Callable | None = None     # (env) -> None: monkeypatches, environment
    left: str = "nothing"             # nothing | incomplete | untouched
    needs: tuple = field(default_factory=tuple)   # fixtures (e.g. a native build) to have first


M = ["bench", "memcpy", "--mode", "emu", "--out", "{out}"]
MQ = M + ["--sizes", "4K", "--pcs", "2", "--direction", "copy", "--repeats", "2", "--warmup", "0",
          "--kernel-reps", "1"]
G = ["bench", "gemm", "--mode", "emu", "--out", "{out}"]
L = ["bench", "latency", "--mode", "emu", "--out", "{out}"]
T = ["bench", "transfer", "--mode", "emu", "--out", "{out}", "--repeats", "1", "--warmup", "0"]
R = ["roofline", "--out", "{out}"]
RW = ["roofline", "--results", "{run}", "--workload", "smolvla", "--out", "{out}"]


def memcpy_bad(id_, args, says):
    return Case(f"memcpy-{id_}", M + args, says)


CASES = [
    # ---- bench memcpy: bad input, refused before any directory exists
    memcpy_bad("sizes-empty", ["--sizes", ""], "--sizes is empty"),
    memcpy_bad("sizes-comma", ["--sizes", ","], "--sizes is empty"),
    memcpy_bad("sizes-down", ["--sizes", "4K..2K"], "must go from a positive size up"),
    memcpy_bad("sizes-zero", ["--sizes", "0"], "sizes must be positive"),
    memcpy_bad("sizes-not-word", ["--sizes", "100"], "multiple of 64"),
    memcpy_bad("sizes-over-pc", ["--sizes", "1G"], "larger than one PC"),
    memcpy_bad("sizes-text", ["--sizes", "abc"], "not a whole number"),
    memcpy_bad("sizes-open-range", ["--sizes", "4K.."], "not a whole number"),
    memcpy_bad("pcs-empty", ["--pcs", ""], "--pcs '' names no number"),
    memcpy_bad("pcs-comma", ["--pcs", ","], "--pcs ',' names no number"),
    memcpy_bad("pcs-zero", ["--pcs", "0"], "use 1 to 32"),
    memcpy_bad("pcs-33", ["--pcs", "33"], "use 1 to 32"),
    memcpy_bad("pcs-text", ["--pcs", "a"], "comma-separated list of integers"),
    memcpy_bad("pcs-17-read", ["--pcs", "17", "--direction", "read"], "16 CUs"),
    memcpy_bad("pcs-odd-copy", ["--pcs", "3", "--direction", "copy"], "even number"),
    memcpy_bad("reps-zero", ["--kernel-reps", "0"], "between 1 and 4294967295"),
    memcpy_bad("reps-33bit", ["--kernel-reps", "4294967296"], "between 1 and 4294967295"),
    memcpy_bad("reps-text", ["--kernel-reps", "x"], "positive integer or auto"),
    memcpy_bad("repeats-zero", ["--repeats", "0"], "--repeats must be at least 1"),
    memcpy_bad("warmup-negative", ["--warmup", "-1"], "--warmup must be 0 or more"),
    memcpy_bad("timeout-zero", ["--timeout", "0"], "--timeout is in milliseconds"),
    memcpy_bad("timeout-33bit", ["--timeout", "4294967296"], "--timeout is in milliseconds"),
    memcpy_bad("clock-zero", ["--clock-mhz", "0"], "--clock-mhz 0"),
    memcpy_bad("clock-nan", ["--clock-mhz", "nan"], "--clock-mhz nan"),
    memcpy_bad("clock-inf", ["--clock-mhz", "inf"], "--clock-mhz inf"),
    memcpy_bad("clock-negative", ["--clock-mhz", "-1"], "--clock-mhz -1"),
    memcpy_bad("clock-over-max", ["--clock-mhz", "501"], "at most 500"),
    memcpy_bad("clock-text", ["--clock-mhz", "abc"], "invalid float value"),
    memcpy_bad("mode-unknown", ["--mode", "bogus"], "invalid choice"),
    memcpy_bad("direction-unknown", ["--direction", "sideways"], "invalid choice"),
    Case("memcpy-device-7", MQ + ["--device", "7"], "out of range", needs=("memcpy_xclbin",)),
    Case("memcpy-device-bdf", MQ + ["--device", "abc"], "No devices found", needs=("memcpy_xclbin",)),
    Case("memcpy-xclbin-missing", MQ + ["--xclbin", "{tmp}/none.xclbin"], "xclbin not found"),
    Case("memcpy-xclbin-not-emu", MQ + ["--xclbin", "{tmp}/afile"], "cannot read", setup=a_file),
    Case("memcpy-out-is-file", MQ[:5] + ["{tmp}/afile"] + MQ[6:], "cannot create the run directory",
         setup=a_file, needs=("memcpy_xclbin",)),
    Case("memcpy-fault-spec-bogus", MQ, "HARNESS_EMU_FAULT", setup=emu_fault("bogus")),
    Case("memcpy-hw-no-pyxrt", ["bench", "memcpy", "--mode", "hw", "--out", "{out}", "--sizes", "4K"],
         "needs XRT's Python binding", setup=no_pyxrt),
    Case("memcpy-hw-pyxrt-raises", ["bench", "memcpy", "--mode", "hw", "--out", "{out}", "--sizes", "4K"],
         "importing pyxrt raised RuntimeError", setup=pyxrt_raising("RuntimeError('libxrt_core.so.2: bad ELF')")),
    Case("memcpy-hw-pyxrt-oserror", ["bench", "memcpy", "--mode", "hw", "--out", "{out}", "--sizes", "4K"],
         "importing pyxrt raised OSError", setup=pyxrt_raising("OSError('cannot open shared object')")),
    Case("memcpy-hw-emu-no-emconfig", ["bench", "memcpy", "--mode", "hw_emu", "--out", "{out}", "--sizes", "4K"],
         "make emconfig TARGET=hw_emu", setup=no_emconfig),
    # ---- bench memcpy: faults during the run (exit 1, the run kept and marked incomplete)
    Case("memcpy-fault-timeout", MQ, "TIMEOUT", code=1, setup=emu_fault("timeout"), left="incomplete",
         needs=("memcpy_xclbin",)),
    Case("memcpy-fault-error", MQ, "ERROR", code=1, setup=emu_fault("error"), left="incomplete",
         needs=("memcpy_xclbin",)),
    Case("memcpy-fault-hang", MQ, "no completion within", code=1, setup=emu_fault("hang:bw_memcpy"),
         left="incomplete", needs=("memcpy_xclbin",)),
    Case("memcpy-disk-full-samples", MQ, "No space left on device", setup=disk_full_during_samples,
         left="incomplete", needs=("memcpy_xclbin",)),
    Case("memcpy-disk-full-summary", MQ, "cannot write summary.csv", setup=disk_full_at_summary,
         left="incomplete", needs=("memcpy_xclbin",)),
    Case("memcpy-disk-full-context", MQ, "cannot write context.json", setup=disk_full_at_context,
         needs=("memcpy_xclbin",)),
    Case("memcpy-read-only-out", MQ, "Read-only file system", setup=read_only_out, needs=("memcpy_xclbin",)),
    Case("memcpy-ctrl-c-native-build", MQ, "before any run directory", code=130, setup=interrupt_native_build),
    Case("memcpy-ctrl-c-during-run", MQ, "is left marked incomplete", code=130, setup=interrupt_second_launch,
         left="incomplete", needs=("memcpy_xclbin",)),
    # ---- bench gemm
    Case("gemm-shapes-empty", G + ["--shapes", ""], "give --shapes"),
    Case("gemm-shapes-comma", G + ["--shapes", ","], "--shapes is empty"),
    Case("gemm-shape-zero", G + ["--shapes", "0x1x1"], "at least 1"),
    Case("gemm-shape-2d", G + ["--shapes", "1x2"], "not MxKxN"),
    Case("gemm-shape-text", G + ["--shapes", "axbxc"], "not MxKxN"),
    Case("gemm-shape-33bit", G + ["--shapes", "5000000000x1x1"], "32-bit"),
    Case("gemm-shapes-and-workload", G + ["--shapes", "8x8x8", "--workload", "smolvla"], "not both"),
    Case("gemm-no-shapes", G, "give --shapes"),
    Case("gemm-dtype-unknown", G + ["--shapes", "8x8x8", "--dtype", "fp64"], "not built"),
    Case("gemm-fusion-without-epilogue", G + ["--shapes", "8x8x8", "--compare-fusion", "--epilogue", "none"],
         "needs an epilogue"),
    Case("gemm-shape-over-bank", G + ["--shapes", "100000x100000x1"], "which holds"),
    Case("gemm-clock-nan", G + ["--shapes", "8x8x8", "--clock-mhz", "nan"], "--clock-mhz nan"),
    Case("gemm-clock-over-max", G + ["--shapes", "8x8x8", "--clock-mhz", "1000"], "at most 500"),
    Case("gemm-repeats-zero", G + ["--shapes", "8x8x8", "--repeats", "0"], "--repeats"),
    Case("gemm-workload-args-without-workload", G + ["--shapes", "8x8x8", "--cameras", "2"], "apply only"),
    Case("gemm-cameras-negative", G + ["--workload", "smolvla", "--cameras", "-1"], "--cameras"),
    Case("gemm-timeout-negative", G + ["--shapes", "8x8x8", "--timeout", "-1"], "--timeout"),
    Case("gemm-fault-error", G + ["--shapes", "8x8x8", "--repeats", "1", "--warmup", "0"], "ERROR", code=1,
         setup=emu_fault("error:gemm"), left="incomplete", needs=("gemm_xclbin",)),
    # ---- bench latency
    Case("latency-launches-zero", L + ["--launches", "0"], "--launches"),
    Case("latency-hw-few-launches", ["bench", "latency", "--mode", "hw", "--launches", "5"], "at least 1000"),
    Case("latency-dtype-unknown", L + ["--dtype", "fp64"], "not built"),
    Case("latency-shape-zero", L + ["--shapes", "0x0x0"], "at least 1"),
    Case("latency-clock-inf", L + ["--clock-mhz", "inf"], "--clock-mhz inf"),
    Case("latency-epilogue-unknown", L + ["--epilogue", "weird"], "invalid choice"),
    Case("latency-shapes-and-workload", L + ["--shapes", "8x8x8", "--workload", "smolvla"], "not both"),
    Case("latency-warmup-negative", L + ["--shapes", "8x8x8", "--warmup", "-2"], "--warmup"),
    Case("latency-fault-timeout", L + ["--shapes", "8x8x8", "--launches", "2", "--repeats", "1"], "TIMEOUT",
         code=1, setup=emu_fault("timeout:nop"), left="incomplete", needs=("gemm_xclbin",)),
    # ---- roofline: damaged run directories (refused; nothing written, the run left as it was)
    Case("run-context-list", RW, "not a JSON object", run=HW_MEMCPY, damage=write_file("context.json", b"[]")),
    Case("run-context-null", RW, "not a JSON object", run=HW_MEMCPY, damage=write_file("context.json", b"null")),
    Case("run-context-not-utf8", RW, "not UTF-8", run=HW_MEMCPY,
         damage=write_file("context.json", b'{"bench": "\xff\xfe memcpy"}')),
    Case("run-context-not-json", RW, "not valid JSON", run=HW_MEMCPY, damage=write_file("context.json", b"{")),
    Case("run-context-nan", RW, "not valid JSON", run=HW_MEMCPY,
         damage=write_file("context.json", b'{"schema_version": NaN}')),
    Case("run-context-lacks-keys", RW, "lacks key(s) runtime", run=HW_MEMCPY,
         damage=ctx_edit(runtime=_DELETE)),
    Case("run-context-old-schema", RW, "schema version 1", run=HW_MEMCPY, damage=ctx_edit(schema_version=1)),
    Case("run-context-incomplete", RW, "incomplete run", run=HW_MEMCPY, damage=ctx_edit(status="incomplete")),
    Case("run-context-no-sha", RW, "records no sha256", run=HW_MEMCPY, damage=ctx_edit(sha256=_DELETE)),
    Case("run-context-clock-string", RW, "clock_mhz", run=HW_MEMCPY, damage=ctx_edit(clock_mhz="fast")),
    Case("run-context-clock-over-max", RW, "highest kernel clock", run=HW_GEMM, damage=ctx_edit(clock_mhz=1000)),
    Case("run-samples-empty", RW, "samples.csv is empty", run=HW_MEMCPY, damage=write_file("samples.csv", b"")),
    Case("run-summary-empty", RW, "summary.csv is empty", run=HW_MEMCPY, damage=write_file("summary.csv", b"")),
    Case("run-samples-binary", RW, "binary", run=HW_MEMCPY,
         damage=write_file("samples.csv", bytes(range(256)) * 4)),
    Case("run-summary-binary", RW, "binary", run=HW_MEMCPY, damage=write_file("summary.csv", b"\x00\x01PK\x03")),
    Case("run-summary-9999", RW, "summary.csv does not match the SHA-256", run=HW_MEMCPY,
         damage=edit_cell("summary.csv", 5, "bandwidth_GBps_best", "9999.0", then_rehash=False)),
    Case("run-summary-truncated", RW, "summary.csv does not match the SHA-256", run=HW_MEMCPY,
         damage=truncate("summary.csv", 3)),
    Case("run-summary-truncated-rehashed", RW, "does not match the samples", run=HW_MEMCPY,
         damage=both(truncate("summary.csv", 3), lambda r, e: rehash(r))),
    Case("run-summary-9999-rehashed", RW, "does not match the samples", run=HW_MEMCPY,
         damage=edit_cell("summary.csv", 5, "bandwidth_GBps_best", "9999.0")),
    Case("run-samples-edited", RW, "samples.csv does not match the SHA-256", run=HW_MEMCPY,
         damage=edit_cell("samples.csv", 3, "time_s", "1e-9", then_rehash=False)),
    Case("run-samples-rate-not-work-over-time", RW, "is not bytes / time_s", run=HW_MEMCPY,
         damage=edit_cell("samples.csv", 3, "bandwidth_GBps", "14.0", then_resummarize=True)),
    Case("run-samples-inf", RW, "not a finite number", run=HW_MEMCPY,
         damage=edit_cell("samples.csv", 3, "time_s", "inf")),
    Case("run-samples-nan-text", RW, "not a finite number", run=HW_MEMCPY,
         damage=edit_cell("samples.csv", 3, "bandwidth_GBps", "nan")),
    Case("run-summary-inf", RW, "not a finite number", run=HW_GEMM,
         damage=edit_cell("summary.csv", 0, "throughput_GFLOPps_best", "inf")),
    Case("run-samples-verified-garbage", RW, "not True or False", run=HW_MEMCPY,
         damage=edit_cell("samples.csv", 3, "verified", "yes")),
    Case("run-samples-unverified-with-rate", RW, "failed verification", run=HW_MEMCPY,
         damage=edit_cell("samples.csv", 33, "bandwidth_GBps", "452.0", then_resummarize=True)),
    Case("run-samples-bytes-edited", RW, "is not CUs x bytes_per_pc", run=HW_MEMCPY,
         damage=edit_cell("samples.csv", 3, "bytes", "999999999999", then_resummarize=True)),
    Case("run-samples-other-run-id", RW, "is not this run's", run=HW_MEMCPY,
         damage=edit_cell("samples.csv", 3, "run_id", "20250101T000000Z-hw-gemm", then_resummarize=True)),
    Case("run-samples-timing-relabelled", RW, "timing_source 'model' disagrees", run=HW_MEMCPY,
         damage=edit_cell("samples.csv", 3, "timing_source", "model", then_resummarize=True)),
    Case("run-gemm-flop-edited", RW, "is not 2 x M x K x N", run=HW_GEMM,
         damage=edit_cell("samples.csv", 0, "flop", "1", then_resummarize=True)),
    Case("run-bench-relabelled", RW, "has the columns of a gemm run", run=HW_GEMM,
         damage=ctx_edit(bench="memcpy", run_id="20250101T020000Z-hw-memcpy", dtype=None)),
    Case("run-dtype-relabelled", RW, "disagrees with context.json's dtype", run=HW_GEMM,
         damage=ctx_edit(dtype="fp16")),
    Case("run-memcpy-with-dtype", RW, "has no element type", run=HW_MEMCPY, damage=ctx_edit(dtype="fp32")),
    Case("run-columns-dropped", RW, "lacks column(s) bandwidth_GBps", run=HW_MEMCPY,
         damage=both(lambda r, e: pd.read_csv(r / "samples.csv").drop(columns=["bandwidth_GBps"]).to_csv(
             r / "samples.csv", index=False), lambda r, e: rehash(r))),
    # physical bounds: consistent forgeries (samples, summary and hashes all agree)
    Case("run-memcpy-past-pc-peak", RW, "above the physical bound", run=HW_MEMCPY, damage=faster(1.5)),
    Case("run-memcpy-9999", RW, "above the physical bound", run=EMU_MEMCPY, damage=faster(26.0)),
    # the fixture's best 150 GFLOP/s x 7 passes the fp32 design's 921.6 (8 x 64 MACs x 3 CUs at 300 MHz)
    Case("run-gemm-past-design-peak", RW, "above the design's peak", run=HW_GEMM, damage=faster(7.0)),
    # 50x720x2048 in 1.1 ms / 8 is below its 0.16 ms at 1,536 MACs per cycle
    Case("run-latency-below-minimum", RW, "below the modeled minimum", run=HW_LATENCY, damage=faster(8.0)),
    # `measured` requires agreement of everything the run knows
    Case("run-emu-relabelled-measured", RW, "its mode is emu", run=EMU_MEMCPY,
         damage=ctx_edit(timing_source="measured")),
    Case("run-emu-relabelled-hw", RW, "refused as a measured ceiling", run=EMU_GEMM,
         damage=both(ctx_edit(timing_source="measured", mode="hw", run_id="20250101T070000Z-hw-gemm"),
                     lambda r, e: _relabel_samples(r, "20250101T070000Z-hw-gemm", "measured"))),
    Case("run-hw-device-is-emulator", RW, "is not a card", run=HW_MEMCPY,
         damage=ctx_edit(device__name="harness-emulated-u280")),
    Case("run-hw-xclbin-is-emulated", RW, "xclbin format", run=HW_MEMCPY,
         damage=ctx_edit(xclbin__format="harness-emu-xclbin/1")),
    Case("run-hw-runtime-is-emulator", RW, "not XRT's pyxrt", run=HW_MEMCPY,
         damage=ctx_edit(runtime__module="harness.runtime.emulator")),
    Case("run-hw-emulator-block", RW, "emulator build", run=HW_LATENCY,
         damage=ctx_edit(emulator={"library": "libgemm_fp32.so"})),
    Case("run-hw-no-uuid", RW, "UUID", run=HW_GEMM, damage=ctx_edit(xclbin__uuid=None)),
    Case("run-hw-nil-uuid", RW, "all zeros", run=HW_GEMM,
         damage=ctx_edit(xclbin__uuid="00000000-0000-0000-0000-000000000000")),
    Case("run-hw-timed-as-model", RW, "disagrees with itself", run=HW_MEMCPY,
         damage=both(ctx_edit(timing_source="model"),
                     lambda r, e: _relabel_samples(r, "20250101T000000Z-hw-memcpy", "model"))),
    # roofline arguments
    Case("roofline-missing-run", R + ["--results", "{tmp}/nope"], "does not exist"),
    Case("roofline-file-not-run", R + ["--results", "{tmp}/afile"], "not a run directory", setup=a_file),
    Case("roofline-run-twice", R + ["--results", "{run}", "{run}"], "given twice", run=HW_MEMCPY,
         left="untouched"),
    Case("roofline-derate-nan", R + ["--derate", "nan"], "--derate"),
    Case("roofline-derate-zero", R + ["--derate", "0"], "--derate"),
    Case("roofline-derate-two", R + ["--derate", "2"], "--derate"),
    Case("roofline-precision-unknown", R + ["--workload", "smolvla", "--precision", "fp64"], "fp64"),
    Case("roofline-workload-unknown", R + ["--workload", "gpt2"], "invalid choice"),
    Case("roofline-out-is-file", ["roofline", "--out", "{tmp}/afile"], "cannot create output directory",
         setup=a_file),
    Case("roofline-disk-full", R + ["--workload", "smolvla"], "cannot write into", setup=roofline_disk_full),
    # ---- predict
    Case("predict-shape-zero", ["predict", "gemm", "--shape", "0x1x1"], "at least 1"),
    Case("predict-shape-text", ["predict", "gemm", "--shape", "abc"], "not MxKxN"),
    Case("predict-dtype-unknown", ["predict", "gemm", "--shape", "8x8x8", "--dtype", "fp64"], "unknown dtype"),
    Case("predict-ports-zero", ["predict", "memcpy", "--ports", "0"], "at least 1"),
    Case("predict-ports-33", ["predict", "memcpy", "--ports", "33"], "32 AXI ports"),
    Case("predict-width-7", ["predict", "memcpy", "--width", "7"], "7 bits"),
    Case("predict-clock-nan", ["predict", "memcpy", "--clock-mhz", "nan"], "clock_mhz"),
    Case("predict-clock-inf", ["predict", "gemm", "--shape", "8x8x8", "--clock-mhz", "inf"], "clock_mhz"),
    Case("predict-bytes-text", ["predict", "memcpy", "--bytes", "abc"], "not a whole number"),
    Case("predict-direction-unknown", ["predict", "memcpy", "--direction", "sideways"], "direction"),
    Case("predict-calibration-and-subcommand", ["predict", "--calibration", "gemm", "--shape", "8x8x8"], "alone"),
    Case("predict-tile-zero", ["predict", "gemm", "--shape", "8x8x8", "--tile-m", "0"], "--tile-m"),
    Case("predict-port-bandwidth-nan", ["predict", "gemm", "--shape", "8x8x8", "--port-bandwidth", "nan"],
         "--port-bandwidth"),
    Case("predict-platform-unknown", ["predict", "gemm", "--shape", "8x8x8", "--platform", "u999"], "u999"),
    Case("predict-macs-nan", ["predict", "gemm", "--shape", "8x8x8", "--macs-per-dsp", "nan"], "macs_per_dsp"),
    Case("predict-memory-unknown", ["predict", "memcpy", "--memory", "sram"], "hbm or ddr"),
    # ---- workload
    Case("workload-unknown", ["workload", "gpt2"], "unknown workload"),
    Case("workload-precision-unknown", ["workload", "smolvla", "--precision", "fp64"], "fp64"),
    Case("workload-cameras-negative", ["workload", "smolvla", "--cameras", "-1"], "--cameras"),
    Case("workload-steps-zero", ["workload", "smolvla", "--steps", "0"], "--steps"),
    Case("workload-tokens-text", ["workload", "smolvla", "--lang-tokens", "abc"], "invalid int value"),
    # ---- info
    Case("info-device-3", ["info", "--mode", "emu", "--device", "3"], "out of range"),
    Case("info-xclbin-missing", ["info", "--mode", "emu", "--xclbin", "{tmp}/nope"], "xclbin not found"),
    Case("info-design-unknown", ["info", "--mode", "emu", "--design", "nope"], "no design"),
    Case("info-hw-no-pyxrt", ["info", "--mode", "hw"], "needs XRT's Python binding", setup=no_pyxrt),
    Case("info-hw-pyxrt-raises", ["info", "--mode", "hw"], "importing pyxrt raised SystemError",
         setup=pyxrt_raising("SystemError('initialization of pyxrt raised unreported exception')")),
    Case("info-mode-unknown", ["info", "--mode", "bogus"], "invalid choice"),
    # ---- issue 16: access patterns, cross-switch targets, host transfers, --params, --fit
    memcpy_bad("txn-zero", ["--pattern", "random", "--txn-bytes", "0"], "--txn-bytes 0: use a power of two"),
    memcpy_bad("txn-3", ["--pattern", "random", "--txn-bytes", "3"], "--txn-bytes 3: use a power of two"),
    memcpy_bad("txn-8K", ["--pattern", "random", "--txn-bytes", "8K"], "AXI's 4 KiB burst limit"),
    memcpy_bad("txn-96", ["--pattern", "stride", "--txn-bytes", "96"], "--txn-bytes 96: use a power of two"),
    memcpy_bad("txn-text", ["--pattern", "random", "--txn-bytes", "1e3"], "not a whole number"),
    memcpy_bad("txn-ellipsis-alone", ["--pattern", "random", "--txn-bytes", "64,...,4K"], "'...' needs two"),
    memcpy_bad("txn-without-pattern", ["--txn-bytes", "64"], "add --pattern random"),
    memcpy_bad("stride-below-txn", ["--pattern", "stride", "--txn-bytes", "256", "--stride", "128"],
               "smaller than --txn-bytes 256"),
    memcpy_bad("stride-not-word", ["--pattern", "stride", "--stride", "100"], "multiple of 64 B"),
    memcpy_bad("stride-zero", ["--pattern", "stride", "--stride", "0"], "positive multiple"),
    memcpy_bad("stride-negative", ["--pattern", "stride", "--stride", "-64"], "not a whole number"),
    memcpy_bad("stride-with-random", ["--pattern", "random", "--stride", "4K"], "add --pattern stride"),
    memcpy_bad("pattern-unknown", ["--pattern", "bogus"], "--pattern: invalid choice 'bogus'"),
    memcpy_bad("pattern-empty", ["--pattern", ""], "--pattern is empty"),
    memcpy_bad("pattern-comma", ["--pattern", ","], "--pattern is empty"),
    memcpy_bad("pattern-size-not-power", ["--pattern", "random", "--sizes", "3M"], "use a power of two"),
    memcpy_bad("pattern-size-below-txn", ["--pattern", "random", "--txn-bytes", "4K", "--sizes", "2K"],
               "smaller than --txn-bytes 4096"),
    memcpy_bad("seed-negative", ["--pattern", "random", "--seed", "-1"], "--seed '-1'"),
    memcpy_bad("seed-33-bits", ["--pattern", "random", "--seed", "4294967296"], "0 to 4294967295"),
    memcpy_bad("target-99", ["--target-pc", "99"], "--target-pc '99'"),
    memcpy_bad("target-minus-1", ["--target-pc", "-1"], "--target-pc '-1'"),
    memcpy_bad("target-empty", ["--target-pc", ""], "--target-pc ''"),
    memcpy_bad("target-empty-item", ["--target-pc", "local,,"], "a comma list like local,other-group"),
    memcpy_bad("target-float", ["--target-pc", "3.0"], "--target-pc '3.0'"),
    memcpy_bad("target-other-group-whole-pc", ["--target-pc", "other-group", "--pcs", "16", "--sizes", "256M",
                                               "--direction", "read"], "HBM[7] would hold"),
    memcpy_bad("target-one-pc-for-all", ["--target-pc", "9", "--pcs", "32", "--direction", "copy", "--sizes", "16M"],
               "HBM[9] would hold"),
    memcpy_bad("target-random-whole-pc", ["--target-pc", "other-group", "--pattern", "random", "--txn-bytes", "64",
                                          "--sizes", "256M", "--pcs", "16", "--direction", "read"],
               "use smaller --sizes or fewer --pcs"),
    Case("transfer-banks-nonsense", T + ["--banks", "nonsense"], "'nonsense' is not a memory of the U280"),
    Case("transfer-banks-32", T + ["--banks", "HBM[32]"], "'HBM[32]' is not a memory"),
    Case("transfer-banks-range", T + ["--banks", "HBM[0:3]"], "'HBM[0:3]' is not a memory"),
    Case("transfer-banks-unused-ddr", T + ["--banks", "DDR[0]"], "does not use it"),
    Case("transfer-banks-empty", T + ["--banks", ""], "--banks is empty"),
    Case("transfer-sizes-odd", T + ["--sizes", "63"], "multiple of 8 B"),
    Case("transfer-sizes-zero", T + ["--sizes", "0"], "sizes must be positive"),
    Case("transfer-sizes-over-bank", T + ["--sizes", "512M"], "larger than HBM[0]"),
    Case("params-missing", ["predict", "--params", "{tmp}/nope.toml", "memcpy"], "no such file"),
    Case("params-directory", ["predict", "--params", "{tmp}", "memcpy"], "is a directory"),
    Case("params-corrupt", ["predict", "--params", "{tmp}/p.toml", "memcpy"], "is not valid TOML",
         setup=lambda env: (env.tmp / "p.toml").write_bytes(b"\x00\xff garbage [[[ =\n")),
    Case("params-foreign", ["predict", "--params", "{tmp}/p.toml", "memcpy"], "is not a parameter of the model",
         setup=params_file('[build-system]\nrequires = ["setuptools"]\n')),
    Case("params-other-model-version", ["predict", "--params", "{tmp}/p.toml", "memcpy"], "refit it",
         setup=params_file('[fit]\nmodel_version = "harness.model v0"\n')),
    Case("params-efficiency-above-1", ["predict", "--params", "{tmp}/p.toml", "memcpy"], "an efficiency above 1",
         setup=params_file('[memory.hbm]\nefficiency = { value = 1.5, unit = "1", source = "assumption", '
                           'detail = "x" }\n')),
    Case("params-other-unit", ["predict", "--params", "{tmp}/p.toml", "memcpy"], "convert it",
         setup=params_file('[dispatch]\noverhead_s = { value = 40, unit = "us", source = "assumption", '
                           'detail = "x" }\n')),
    Case("params-measured-without-runs", ["predict", "--params", "{tmp}/p.toml", "memcpy"], "names no run",
         setup=params_file('[memory.hbm]\nefficiency = { value = 0.9, unit = "1", source = "measured", '
                           'detail = "x" }\n')),
    # a 'measured' value fitted to an emulated run is the model fitted to itself: refused wherever it is used
    Case("params-emulated-fit", ["predict", "--params", "{tmp}/p.toml", "memcpy"], "which is emulated",
         setup=params_file('[memory.hbm]\nefficiency = { value = 0.9, unit = "1", source = "measured", '
                           f'detail = "x", run_ids = ["{EMU_MEMCPY}"] }}\n')),
    Case("params-emulated-fit-bench", MQ + ["--params", "{tmp}/p.toml"], "which is emulated",
         setup=params_file('[memory.hbm]\nefficiency = { value = 0.9, unit = "1", source = "measured", '
                           'detail = "x", run_ids = ["20250101T010000Z-sw_emu-memcpy"] }\n')),
    Case("params-emulated-fit-roofline", RW + ["--params", "{tmp}/p.toml"], "which is emulated", run=HW_MEMCPY,
         left="untouched",
         setup=params_file('[dispatch]\noverhead_s = { value = 4e-5, unit = "s", source = "measured", '
                           f'detail = "x", run_ids = ["{EMU_MEMCPY}"] }}\n')),
    Case("fit-emulated-run", ["predict", "--fit", "{run}", "--out", "{out}/fit.toml"], "fit the model to itself",
         run=EMU_MEMCPY, left="untouched"),
    Case("fit-failed-verification", ["predict", "--fit", "{run}", "--out", "{out}/fit.toml"], "no verified point",
         run=HW_MEMCPY, damage=fail_every_repetition, left="untouched"),
    Case("fit-empty-dir", ["predict", "--fit", "{tmp}", "--out", "{out}/fit.toml"], "not a run directory"),
    Case("fit-half-written", ["predict", "--fit", "{run}", "--out", "{out}/fit.toml"], "incomplete run",
         run=HW_MEMCPY, damage=ctx_edit(status="incomplete"), left="untouched"),
    Case("fit-no-summary", ["predict", "--fit", "{run}", "--out", "{out}/fit.toml"], "has no summary.csv",
         run=HW_MEMCPY, damage=lambda r, e: (r / "summary.csv").unlink(), left="untouched"),
    Case("fit-truncated-samples", ["predict", "--fit", "{run}", "--out", "{out}/fit.toml"], "does not match",
         run=HW_MEMCPY, damage=truncate("samples.csv", 5), left="untouched"),
    Case("fit-twice", ["predict", "--fit", "{run}", "{run}", "--out", "{out}/fit.toml"], "given twice",
         run=HW_MEMCPY, left="untouched"),
    Case("fit-out-is-directory", ["predict", "--fit", "{run}", "--out", "{tmp}"], "is a directory",
         run=HW_MEMCPY, left="untouched"),
    Case("roofline-transfer-without-workload", R + ["--results", "{run}", "--transfer", "{run}"],
         "add --workload smolvla", run=HW_MEMCPY, left="untouched"),
    Case("roofline-transfer-not-transfer", RW + ["--transfer", "{tmp}/runs/" + HW_GEMM], "a gemm run",
         run=HW_MEMCPY, left="untouched",
         setup=lambda env: shutil.copytree(FIX / HW_GEMM, env.tmp / "runs" / HW_GEMM)),
]


def _relabel_samples(run: pathlib.Path, run_id: str, timing: str) -> None:
    s = pd.read_csv(run / "samples.csv", dtype=str, keep_default_na=False)
    s["run_id"], s["timing_source"] = run_id, timing
    s.to_csv(run / "samples.csv", index=False)
    resummarize(run)


def test_the_table_is_large_and_covers_every_command():
    assert len(CASES) >= 80 and len({c.id for c in CASES}) == len(CASES)
    commands = {("bench " + c.argv[1]) if c.argv[0] == "bench" else c.argv[0] for c in CASES}
    assert commands >= {"bench memcpy", "bench gemm", "bench latency", "bench transfer", "roofline", "predict",
                        "workload", "info"}


@dataclass
class Env:
    tmp: pathlib.Path
    monkeypatch: object


@pytest.fixture(scope="module")
def gemm_xclbin():
    from harness.bench.gemm import load_gemm_design
    from harness.designs.native import ensure_built
    return ensure_built(load_gemm_design("fp32"), quiet=True)


def _listing(d: pathlib.Path) -> dict:
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_or_fault(case: Case, tmp_path, monkeypatch, capsys, request):
    for name in case.needs:
        request.getfixturevalue(name)
    monkeypatch.delenv("HARNESS_EMU_FAULT", raising=False)
    env = Env(tmp_path, monkeypatch)
    out = tmp_path / "out"
    run = None
    if case.run:
        run = tmp_path / "runs" / case.run
        shutil.copytree(FIX / case.run, run)
        if case.damage:
            case.damage(run, env)
    before = _listing(run) if run else None
    if case.setup:
        case.setup(env)
    argv = [a.format(out=out, tmp=tmp_path, run=run) for a in case.argv]
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exc:          # argparse's own errors
        code = exc.code
    monkeypatch.undo()                 # the disk and the environment back to normal for the checks
    cap = capsys.readouterr()
    lines = [ln for ln in cap.err.splitlines() if ln.strip()]
    assert code == case.code, cap.err
    assert len(lines) == 1, f"expected one line on stderr, got:\n{cap.err}"
    assert lines[0].startswith("error: ") and "Traceback" not in cap.err + cap.out
    assert case.says in lines[0], lines[0]
    # what is left on disk
    leftovers = [p for p in tmp_path.rglob("*") if ".tmp" in p.name]
    assert not leftovers, f"temporary files left: {leftovers}"
    if run is not None:
        assert _listing(run) == before, "the run directory given was changed"
    if case.left == "incomplete":
        dirs = [d for d in out.iterdir()] if out.exists() else []
        assert len(dirs) == 1, dirs
        ctx = json.loads((dirs[0] / "context.json").read_text())
        assert ctx["status"] == "incomplete" and ctx.get("error"), ctx.get("error")
        assert "sha256" not in ctx
    else:
        assert not out.exists() or not any(out.iterdir()), sorted(out.rglob("*"))


# --------------------------------------------------------------------------- what a bad input leads to
def test_duplicates_run_once_with_a_note(runs_dir, capsys, memcpy_xclbin, only_run):
    assert main(["bench", "memcpy", "--mode", "emu", "--sizes", "4K,4K,8K", "--pcs", "2,2", "--direction", "copy",
                 "--repeats", "1", "--warmup", "0", "--kernel-reps", "1", "--out", str(runs_dir)]) == 0
    err = capsys.readouterr().err
    assert "note: --sizes gives 4096 more than once" in err and "note: --pcs gives 2 more than once" in err
    s = pd.read_csv(only_run(runs_dir) / "summary.csv")
    assert sorted(s["bytes_per_pc"]) == [4096, 8192]


def test_a_repeated_bank_runs_once_with_a_note(runs_dir, capsys, memcpy_xclbin, only_run):
    assert main(["bench", "transfer", "--mode", "emu", "--sizes", "4K", "--banks", "HBM[0],HBM[0]",
                 "--repeats", "1", "--warmup", "0", "--out", str(runs_dir)]) == 0
    assert "note: --banks gives HBM[0] more than once" in capsys.readouterr().err
    s = pd.read_csv(only_run(runs_dir) / "summary.csv")
    assert sorted(s["bank"]) == ["HBM[0]", "HBM[0]"] and sorted(s["direction"]) == ["d2h", "h2d"]


def test_auto_mode_falls_back_to_emu_when_pyxrt_import_raises(tmp_path, monkeypatch, capsys, memcpy_xclbin):
    pyxrt_raising("RuntimeError('XRT build mismatch')")(Env(tmp_path, monkeypatch))
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "note: importing pyxrt raised RuntimeError: XRT build mismatch; falling back to the emulator" in out
    assert "mode: emu" in out


def test_roofline_replaces_every_file_it_owns(tmp_path, capsys):
    out = tmp_path / "report"
    assert main(["roofline", "--workload", "smolvla", "--out", str(out)]) == 0
    assert (out / "ops.csv").is_file()
    (out / "notes.txt").write_text("mine")                # not the command's: kept
    assert main(["roofline", "--out", str(out)]) == 0      # no workload: no ops.csv in this report
    assert not (out / "ops.csv").exists() and (out / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["notes.txt", "roofline.png", "roofline.svg", "roofline.json", "report.md", "report.html"])


def test_emu_default_timeout_leaves_slow_native_runs_time():
    from harness.bench.common import RunOptions, timeout_ms
    # a launch modeled at 1 ms: 2 s on the card, at least 10 minutes of host time in emulation
    assert timeout_ms(RunOptions(), 1e-3, "hw") == 2_000
    assert timeout_ms(RunOptions(), 1e-3, "emu") == 600_000
    assert timeout_ms(RunOptions(), 10.0, "emu") == 10_000_000            # 1000x a long modeled launch
    assert timeout_ms(RunOptions(timeout=100), 10.0, "emu") == 100        # --timeout wins in every mode
    assert timeout_ms(RunOptions(), 1e9, "emu") == 2 ** 32 - 1            # what run.wait() can take


def test_the_timeout_bounds_the_host_time_of_a_native_kernel(memcpy_session, monkeypatch):
    """A kernel whose modeled time is tiny but whose native run takes long is given up on after
    --timeout of wall time, as a hung kernel on the card would be; Ctrl-C is not held off."""
    from harness.errors import RunFailed
    from harness.runtime import costs
    s = memcpy_session
    a = s.alloc("bw_memcpy", 0, "in", 4096)
    b = s.alloc("bw_memcpy", 0, "out", 4096)
    r = s.run("bw_memcpy", 0, [a, b, 64, 1, 2, 0, 0, 0, 0])
    s.launch([r], 1000, "warm")                                   # the real native kernel, fast
    monkeypatch.setattr(costs, "kernel_time_s", lambda *a: 1e-6)  # modeled: a microsecond
    r = s.run("bw_memcpy", 0, [a, b, 64, 2 ** 32 - 1, 2, 0, 0, 0, 0])         # natively: hours
    t0 = time.monotonic()
    with pytest.raises(RunFailed, match="no completion within 200 ms"):
        s.launch([r], 200, "slow on the host")
    assert time.monotonic() - t0 < 1.5


# --------------------------------------------------------------------------- real processes
def _harness(args, **kw):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("HARNESS_EMU_FAULT", None)
    env.update(kw.pop("env", {}))
    return subprocess.Popen([sys.executable, "-m", "harness", *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


LONG = ["bench", "memcpy", "--mode", "emu", "--sizes", "64M", "--pcs", "1", "--direction", "read",
        "--warmup", "0", "--repeats", "1"]


def _one_run(out: pathlib.Path) -> dict:
    (d,) = list(out.iterdir())
    return json.loads((d / "context.json").read_text())


def test_timeout_bounds_the_emulators_wall_time(tmp_path, memcpy_xclbin):
    # 4 billion in-kernel repetitions of 64 MiB would spin in native code for days
    t0 = time.monotonic()
    p = _harness(LONG + ["--kernel-reps", "4294967295", "--timeout", "100", "--out", str(tmp_path)])
    _, err = p.communicate(timeout=120)
    assert p.returncode == 1, err
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1 and "no completion within 100 ms" in lines[0] and "Traceback" not in err.decode()
    assert time.monotonic() - t0 < 60
    ctx = _one_run(tmp_path)
    assert ctx["status"] == "incomplete" and "no completion within 100 ms" in ctx["error"]


def test_ctrl_c_stops_a_long_native_run_at_once(tmp_path, memcpy_xclbin):
    p = _harness(LONG + ["--kernel-reps", "100000", "--out", str(tmp_path)])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (list(tmp_path.iterdir()) and
                                                (next(tmp_path.iterdir()) / "samples.csv").exists()):
        time.sleep(0.1)
    time.sleep(1.0)                         # well inside the native kernel (minutes of work)
    t0 = time.monotonic()
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert time.monotonic() - t0 < 10, "Ctrl-C was not handled at once"
    assert p.returncode == 130
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1 and "interrupted; the run directory" in lines[0]
    ctx = _one_run(tmp_path)
    assert ctx["status"] == "incomplete" and ctx["error"].startswith("KeyboardInterrupt")


def test_broken_pipe_exits_quietly():
    # `harness workload smolvla | head -1`, made deterministic: the reader is gone before the first write
    p = _harness(["workload", "smolvla"])
    p.stdout.close()
    _, err = p.communicate(timeout=120)
    assert err == b"" and p.returncode == 141


def test_full_disk_in_a_real_process_leaves_an_incomplete_run(tmp_path, memcpy_xclbin):
    import resource
    LIMIT = 12_000          # bytes per file: context.json fits, samples.csv of 160 repetitions does not

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)          # writes past the limit fail with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))
    p = _harness(["bench", "memcpy", "--mode", "emu", "--sizes", "4K,8K,16K,32K", "--pcs", "1,2",
                  "--direction", "read", "--warmup", "0", "--repeats", "20", "--kernel-reps", "1",
                  "--out", str(tmp_path)], preexec_fn=limit)
    _, err = p.communicate(timeout=120)
    text = err.decode()
    assert p.returncode == 2, text
    lines = text.strip().splitlines()
    assert len(lines) == 1 and "cannot write samples.csv" in lines[0] and "Traceback" not in text
    ctx = _one_run(tmp_path)
    assert ctx["status"] == "incomplete" and "samples.csv" in ctx["error"]
    assert not [p_ for p_ in tmp_path.rglob("*") if ".tmp" in p_.name]


def test_messages_never_glue_onto_a_progress_bar(tmp_path, memcpy_xclbin):
    import fcntl
    import pty
    import struct
    import termios
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))     # a 100-column terminal
    env = {**os.environ, "PYTHONPATH": str(REPO), "HARNESS_EMU_FAULT": "error", "COLUMNS": "100"}
    p = subprocess.Popen([sys.executable, "-m", "harness", "bench", "memcpy", "--mode", "emu", "--sizes", "4K",
                          "--pcs", "1", "--direction", "read", "--warmup", "3", "--repeats", "2",
                          "--kernel-reps", "1", "--out", str(tmp_path)],
                         cwd=REPO, env=env, stdin=slave, stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    p.wait(timeout=60)
    os.close(master)
    text = b"".join(chunks).decode(errors="replace")
    assert p.returncode == 1
    assert "memcpy (emu)" in text                          # the bar was on the terminal
    before, _, _ = text.partition("error:")
    # the error starts a line of its own: the bar's line was cleared (\r) or ended (\n) first
    assert before.endswith(("\r", "\n")) or before.rstrip(" ").endswith(("\r", "\n")), repr(text[-300:])
