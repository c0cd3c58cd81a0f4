"""Reading run directories: only complete, intact runs of this schema, and only their verified figures.

`load_run` checks every figure it is given before anything may use it, and refuses (UserError,
one line naming the file) a run that is not exactly what the writer left:
- context.json: UTF-8 JSON object of this schema version with every key (schema.CONTEXT_KEYS),
  a known bench, mode and timing source, `status: complete`, and the SHA-256 of samples.csv and
  summary.csv, which must match the files;
- the CSV files: text, non-empty, exactly the bench's columns; every figure a finite number;
  run_id, timing_source and dtype columns equal to the context; each sample's work consistent
  with its point (bytes of a memcpy point, 2MKN FLOP of a GEMM) and each rate equal to work / time;
- summary.csv equal to the summary recomputed from samples.csv (harness.results.stats);
- no verified figure past its physical bound (harness.results.bounds);
- `timing_source: measured` only for a run on a card: mode hw, a device that is not the
  emulator, a real xclbin (format xclbin2) with a UUID, loaded through pyxrt, and none of the
  emulator's marks (schema.EMULATED_*); anything else is refused as a measured ceiling.
With `require_verified` (the default, what every analysis uses) it also refuses a run none of
whose points passed verification. Unverified rows are never used (Run.verified_summary).
"""
from __future__ import annotations

import hashlib
import io
import json
import math
import re
import uuid as uuidlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from harness.errors import UserError
from harness.figures import Figure
from harness.results import bounds, schema
from harness.results.schema import BENCHES, CEILING_SOURCES, MODES, SCHEMA_VERSION, SCHEMAS, TIMING_SOURCES

__all__ = ["Run", "load_run", "load_runs", "check_ceiling_source"]

RERUN = "the run is damaged: rerun the bench"
_RUN_ID = re.compile(r"^\d{8}T\d{6}Z-(?P<mode>[a-z_]+)-(?P<bench>[a-z]+)(?:-\d+)?$")
# Columns holding text; every other column (but `verified`) holds numbers.
_TEXT = {"run_id", "phase", "error", "errors", "timing_source", "direction", "dtype", "epilogue", "path", "kind",
         "kernel", "ops", "dims", "pattern", "bank"}
_RTOL = 1e-9          # CSV floats round-trip exactly; this only absorbs summation order


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
        return s[s["verified"].astype(bool)]


# --------------------------------------------------------------------------- context.json
def _reject_constant(name):
    raise ValueError(f"{name} is not a number JSON allows")


def _read_context(p: Path) -> dict:
    f = p / "context.json"
    try:
        raw = f.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read {f} ({exc.strerror}); check its permissions") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{f} is not UTF-8 text; {RERUN}") from None
    try:
        ctx = json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:
        msg = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise UserError(f"{f} is not valid JSON ({msg}); {RERUN}") from None
    if not isinstance(ctx, dict):
        raise UserError(f"{f} holds {json.dumps(ctx)[:20]}, not a JSON object with the run's context; {RERUN}")
    return ctx


def _check_context(p: Path, ctx: dict) -> None:
    where = p / "context.json"
    if ctx.get("schema_version") != SCHEMA_VERSION:
        raise UserError(f"{p} has schema version {ctx.get('schema_version')}, this harness reads "
                        f"{SCHEMA_VERSION}; rerun the bench with this version")
    missing = [k for k in schema.CONTEXT_KEYS if k not in ctx]
    if missing:
        raise UserError(f"{where} lacks key(s) {', '.join(missing)}; {RERUN}")
    for key, kinds in (("run_id", str), ("bench", str), ("mode", str), ("timing_source", str), ("status", str),
                       ("design", dict), ("device", dict), ("xclbin", dict), ("runtime", dict),
                       ("dtype", (str, type(None))), ("platform", str)):
        if not isinstance(ctx[key], kinds):
            raise UserError(f"{where}: {key} is {json.dumps(ctx[key])[:40]}, not what the writer records; {RERUN}")
    if ctx["bench"] not in BENCHES:
        raise UserError(f"{p}: unknown bench {ctx['bench']!r} in context.json; use a run of "
                        f"{', '.join(BENCHES)}")
    if ctx["mode"] not in MODES:
        raise UserError(f"{where}: unknown mode {ctx['mode']!r}; {RERUN}")
    if ctx["timing_source"] not in TIMING_SOURCES:
        raise UserError(f"{p}: timing_source {ctx['timing_source']!r} is none of "
                        f"{', '.join(TIMING_SOURCES)}; rerun the bench")
    m = _RUN_ID.match(ctx["run_id"])
    if not m or m["bench"] != ctx["bench"] or m["mode"] != ctx["mode"]:
        raise UserError(f"{where}: run_id {ctx['run_id']!r} does not name this run's mode {ctx['mode']} and bench "
                        f"{ctx['bench']}; {RERUN}")
    if ctx["status"] != "complete":
        why = f" ({ctx['error']})" if ctx.get("error") else ""
        raise UserError(f"{p} is an incomplete run{why}; its numbers cannot be used, rerun the bench")
    clock = ctx["clock_mhz"]
    if isinstance(clock, bool) or not isinstance(clock, (int, float)) or not math.isfinite(clock) or clock <= 0:
        raise UserError(f"{where}: clock_mhz {clock!r} is not a positive number of MHz; {RERUN}")
    dtype_needed = ctx["bench"] in ("gemm", "latency", "flops")
    if dtype_needed and not ctx["dtype"]:
        raise UserError(f"{where}: a {ctx['bench']} run records its element type in dtype, and it is empty; {RERUN}")
    if ctx["bench"] in ("memcpy", "transfer") and ctx["dtype"] is not None:   # a kernel run's: its spec's, or null
        raise UserError(f"{where}: dtype {ctx['dtype']!r} on a {ctx['bench']} run, which has no element type; "
                        f"{RERUN}")


def _check_hashes(p: Path, ctx: dict) -> None:
    recorded = ctx.get("sha256")
    if not isinstance(recorded, dict):
        raise UserError(f"{p / 'context.json'} records no sha256 of samples.csv and summary.csv; {RERUN}")
    for name in schema.HASHED_FILES:
        h = hashlib.sha256((p / name).read_bytes()).hexdigest()
        if recorded.get(name) != h:
            raise UserError(f"{p / name} does not match the SHA-256 recorded in context.json: it was changed "
                            "after the run finished, so none of its figures can be trusted; rerun the bench")


# --------------------------------------------------------------------------- the CSV files
def _raw_csv(p: Path, name: str) -> str:
    f = p / name
    if not f.is_file():
        raise UserError(f"{p} has no {name}; {RERUN}")
    try:
        raw = f.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read {f} ({exc.strerror}); check its permissions") from None
    if not raw.strip():
        raise UserError(f"{f} is empty; {RERUN}")
    if b"\0" in raw:
        raise UserError(f"{f} is binary, not CSV text; {RERUN}")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{f} is not UTF-8 text; {RERUN}") from None


def _columns_of(bench: str, ctx: dict, which: str) -> list[str]:
    """The exact columns of a `which` file ('samples' or 'summary') of a `bench` run with this context."""
    sch = SCHEMAS[bench]
    cus = schema.cus_of({**ctx, "bench": bench})
    return sch.sample_columns_for(cus) if which == "samples" else sch.summary_columns_for(cus)


def _parse_csv(f: Path, text: str, ctx: dict, which: str) -> pd.DataFrame:
    bench = ctx["bench"]
    columns = _columns_of(bench, ctx, which)
    try:
        raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"{f} is not a readable CSV table ({first}); {RERUN}") from None
    got = list(raw.columns)
    if got != columns:
        other = [b for b in SCHEMAS if b != bench and _columns_of(b, ctx, which) == got]
        if other:
            raise UserError(f"{f} has the columns of a {other[0]} run but context.json says bench {bench}; "
                            f"{RERUN}")
        lack = [c for c in columns if c not in got]
        extra = [c for c in got if c not in columns]
        what = (f"lacks column(s) {', '.join(lack[:4])}" if lack else
                f"has column(s) {', '.join(extra[:4])} a {bench} run does not write" if extra else
                "has its columns out of order")
        raise UserError(f"{f} {what}; {RERUN}")
    if raw.empty:
        raise UserError(f"{f} has a header but no row; {RERUN}")
    return _typed(f, raw)


def _typed(f: Path, raw: pd.DataFrame) -> pd.DataFrame:
    """Text kept as text (empty -> NaN, as pandas reads it), `verified` as bool, the rest as finite numbers."""
    out = {}
    for col in raw.columns:
        vals = raw[col].str.strip()
        if col == "verified":
            bad = ~vals.isin(("True", "False"))
            if bad.any():
                i = int(np.argmax(bad.to_numpy()))
                raise UserError(f"{f} row {i + 2}: verified is {raw[col].iloc[i]!r}, not True or False; {RERUN}")
            out[col] = vals == "True"
        elif col in _TEXT:
            out[col] = vals.where(vals != "", np.nan)
        else:
            num = pd.to_numeric(vals.where(vals != "", np.nan), errors="coerce")
            bad = (vals != "") & ~np.isfinite(num.to_numpy(float, na_value=np.nan))
            if bad.any():
                i = int(np.argmax(bad.to_numpy()))
                raise UserError(f"{f} row {i + 2}: {col} is {raw[col].iloc[i]!r}, not a finite number; {RERUN}")
            if num.notna().all() and (num == num.round()).all() and num.abs().max() < 2 ** 53:
                num = num.astype("int64")
            out[col] = num
    return pd.DataFrame(out)


# --------------------------------------------------------------------------- agreement
def _bad_row(f: Path, df: pd.DataFrame, mask, text: str) -> None:
    mask = np.asarray(mask, bool)
    if mask.any():
        i = int(np.argmax(mask))
        raise UserError(f"{f} row {i + 2}: {text(df.iloc[i])}; {RERUN}")


def _check_samples(p: Path, ctx: dict, s: pd.DataFrame) -> None:
    f = p / "samples.csv"
    bench = ctx["bench"]
    _bad_row(f, s, s["run_id"] != ctx["run_id"], lambda r: f"run_id {r['run_id']!r} is not this run's "
                                                           f"({ctx['run_id']})")
    _bad_row(f, s, s["timing_source"] != ctx["timing_source"],
             lambda r: f"timing_source {r['timing_source']!r} disagrees with context.json ({ctx['timing_source']})")
    _bad_row(f, s, ~s["phase"].isin(("warmup", "measure")), lambda r: f"phase {r['phase']!r} is not warmup or measure")
    if "dtype" in s.columns:
        _bad_row(f, s, s["dtype"] != ctx["dtype"],
                 lambda r: f"dtype {r['dtype']!r} disagrees with context.json's dtype {ctx['dtype']!r}")
    ok = s["verified"].to_numpy(bool)
    t = s["time_s"].to_numpy(float)
    if ctx["timing_source"] == "none":      # a functional-only kernel run: no time, so no rate either
        _bad_row(f, s, ~np.isnan(t), lambda r: f"time_s {r['time_s']} in a run that is functional only (no time)")
        for rate in schema.RATE_WORK:
            if rate in s.columns:
                _bad_row(f, s, ~np.isnan(s[rate].to_numpy(float)),
                         lambda r, c=rate: f"{c} {r[c]} in a run that is functional only (no time)")
        t = np.full(len(s), np.nan)
    else:
        _bad_row(f, s, np.isnan(t) | (t < 0), lambda r: f"time_s {r['time_s']} is not a time")
        _bad_row(f, s, ok & ~(t > 0), lambda r: f"a verified repetition with time_s {r['time_s']}")
    for col in ("wall_time_s", "h2d_time_s", "d2h_time_s"):
        _bad_row(f, s, s[col].to_numpy(float) < 0, lambda r, c=col: f"{c} {r[c]} is negative")
    # the work of each sample follows from its point
    if bench == "memcpy":
        _bad_row(f, s, ~s["direction"].isin(("read", "write", "copy")), lambda r: f"direction {r['direction']!r}")
        per_cu = np.where(s["direction"] == "copy", 2, 1)
        _bad_row(f, s, s["cus"] * per_cu != s["pcs"], lambda r: f"{r['pcs']} PCs {r['direction']} is not "
                                                                f"{r['cus']} CUs (copy drives 2 PCs per CU)")
        want = s["cus"] * s["bytes_per_pc"] * s["kernel_reps"] * per_cu
        _bad_row(f, s, want != s["bytes"], lambda r: f"bytes {r['bytes']} is not CUs x bytes_per_pc x kernel_reps "
                                                     "(x 2 for copy)")
        cus = ((ctx["design"].get("kernels") or {}).get("bw_memcpy") or {}).get("cus")
        if isinstance(cus, int):
            _bad_row(f, s, s["cus"] > cus, lambda r: f"{r['cus']} CUs, but the design has {cus}")
        # access patterns: seq has no transactions of its own; stride/random transactions of 64 B .. 4 KiB
        _bad_row(f, s, ~s["pattern"].isin(("seq", "stride", "random")), lambda r: f"pattern {r['pattern']!r}")
        seq = (s["pattern"] == "seq").to_numpy()
        txn, stride = s["txn_bytes"].to_numpy(float), s["stride_bytes"].to_numpy(float)
        _bad_row(f, s, seq & ~(np.isnan(txn) & np.isnan(stride)),
                 lambda r: "a seq point with txn_bytes or stride_bytes")
        tb = np.nan_to_num(txn, nan=0).astype(np.int64)
        _bad_row(f, s, ~seq & ((tb < 64) | (tb > 4096) | (tb & (tb - 1) != 0)),
                 lambda r: f"txn_bytes {r['txn_bytes']} is not a power of two from 64 to 4096")
        _bad_row(f, s, (s["pattern"] == "stride").to_numpy() & ~(stride >= txn),
                 lambda r: f"stride_bytes {r['stride_bytes']} is not at least txn_bytes {r['txn_bytes']}")
    elif bench == "transfer":
        _bad_row(f, s, ~s["direction"].isin(("h2d", "d2h")), lambda r: f"direction {r['direction']!r} is not h2d "
                                                                    "or d2h")
        _bad_row(f, s, s["bank"].isna(), lambda r: "bank is empty")
        _bad_row(f, s, ~(s["bytes"].to_numpy(float) > 0), lambda r: f"bytes {r['bytes']} is not a positive size")
        mt = s["model_time_s"].to_numpy(float)
        _bad_row(f, s, np.isnan(mt) | ~(mt > 0), lambda r: f"model_time_s {r['model_time_s']} is not a time")
        # the sync's time is its direction's transfer time; the other direction's is 0
        for col, d in (("h2d_time_s", "h2d"), ("d2h_time_s", "d2h")):
            v = s[col].to_numpy(float)
            want = np.where(s["direction"] == d, t, 0.0)
            _bad_row(f, s, ~np.isclose(v, want, rtol=_RTOL, atol=0),
                     lambda r, c=col: f"{c} {r[c]} is not this {r['direction']} sync's time_s {r['time_s']} (or 0)")
    elif bench == "flops":
        want = 2 * s["flops_per_element"].to_numpy(float) * s["elements"].to_numpy(float)
        _bad_row(f, s, want != s["flop"].to_numpy(float),
                 lambda r: f"flop {r['flop']} is not 2 x flops_per_element x elements")
        oi = s["flop"].to_numpy(float) / s["bytes"].to_numpy(float)
        _bad_row(f, s, ~np.isclose(oi, s["oi_FLOPpB"].to_numpy(float), rtol=_RTOL, atol=0),
                 lambda r: f"oi_FLOPpB {r['oi_FLOPpB']} is not flop / bytes")
        cus = ((ctx["design"].get("kernels") or {}).get("flops") or {}).get("cus")
        if isinstance(cus, int):
            _bad_row(f, s, s["cus"] > cus, lambda r: f"{r['cus']} CUs, but the design has {cus}")
    elif bench == "kernel":
        # the spec's counts: whole, not negative, the same for every repetition of a point
        for col in ("flop", "bytes"):
            v = s[col].to_numpy(float)
            _bad_row(f, s, np.isnan(v) | (v < 0), lambda r, c=col: f"{c} {r[c]} is not a count")
            _bad_row(f, s, s.groupby("point")[col].transform("nunique") > 1,
                     lambda r, c=col: f"{c} differs between repetitions of point {r['point']}")
    else:
        gemm_rows = np.ones(len(s), bool)
        if bench == "latency":
            _bad_row(f, s, ~s["kind"].isin(("dispatch", "gemm")), lambda r: f"kind {r['kind']!r}")
            gemm_rows = (s["kind"] == "gemm").to_numpy()
        flop = 2 * s["M"].to_numpy(float) * s["K"].to_numpy(float) * s["N"].to_numpy(float)
        _bad_row(f, s, gemm_rows & (flop != s["flop"].to_numpy(float)),
                 lambda r: f"flop {r['flop']} is not 2 x M x K x N")
        if bench == "gemm":
            _check_cu_columns(f, ctx, s, ok, t)
    for rate, work in schema.RATE_WORK.items():
        if rate not in s.columns or ctx["timing_source"] == "none":
            continue
        v = s[rate].to_numpy(float)
        _bad_row(f, s, ~ok & ~np.isnan(v), lambda r, c=rate: f"{c} given for a repetition that failed verification")
        want = s[work].to_numpy(float) / np.where(t > 0, t, np.nan) / 1e9
        bad = ok & ~np.isclose(v, want, rtol=_RTOL, atol=0)
        _bad_row(f, s, bad, lambda r, c=rate, w=work: f"{c} {r[c]} is not {w} / time_s ({r[w]} / {r['time_s']})")


def _check_cu_columns(f: Path, ctx: dict, s: pd.DataFrame, ok, t) -> None:
    """gemm's per-CU columns: the CUs' columns add up to N, `cus` counts the CUs given any, a CU
    takes no longer than the launch, and each CU's rate is its work over its time."""
    n = schema.cus_of(ctx)
    if n == 0:
        return
    cols = np.stack([s[f"cu{i}_N"].to_numpy(float) for i in range(n)], axis=1)
    _bad_row(f, s, cols.sum(axis=1) != s["N"].to_numpy(float),
             lambda r: f"the CUs' columns ({', '.join(str(r[f'cu{i}_N']) for i in range(n))}) do not add up to "
                       f"N {r['N']}")
    _bad_row(f, s, (cols > 0).sum(axis=1) != s["cus"].to_numpy(float),
             lambda r: f"cus {r['cus']} is not the number of CUs given columns")
    for i in range(n):
        tc = s[f"cu{i}_time_s"].to_numpy(float)
        rate = s[f"cu{i}_throughput_GFLOPps"].to_numpy(float)
        _bad_row(f, s, tc < 0, lambda r, i=i: f"cu{i}_time_s {r[f'cu{i}_time_s']} is negative")
        _bad_row(f, s, ok & (tc > t * (1 + _RTOL)),
                 lambda r, i=i: f"cu{i}_time_s {r[f'cu{i}_time_s']} is longer than the point's time_s "
                                f"{r['time_s']}")
        _bad_row(f, s, ~ok & ~np.isnan(rate),
                 lambda r, i=i: f"cu{i}_throughput_GFLOPps given for a repetition that failed verification")
        want = (2 * s["M"].to_numpy(float) * s["K"].to_numpy(float) * cols[:, i]
                / np.where(tc > 0, tc, np.nan) / 1e9)
        bad = ok & (cols[:, i] > 0) & ~np.isclose(rate, want, rtol=_RTOL, atol=0)
        _bad_row(f, s, bad, lambda r, i=i: f"cu{i}_throughput_GFLOPps {r[f'cu{i}_throughput_GFLOPps']} is not "
                                           f"2 x M x K x cu{i}_N / cu{i}_time_s")


def _check_summary(p: Path, ctx: dict, samples: pd.DataFrame, summary: pd.DataFrame) -> None:
    from harness.results.stats import summarize_samples
    f = p / "summary.csv"
    again = summarize_samples(ctx["bench"], samples.to_dict("records"), schema.cus_of(ctx))
    if len(again) != len(summary):
        raise UserError(f"{f} has {len(summary)} point(s) but samples.csv has {len(again)}: the summary does not "
                        f"match the samples; {RERUN}")
    for col in again.columns:
        a, b = again[col], summary[col]
        if col in _TEXT:
            same = (a.astype(object).fillna("").astype(str).to_numpy()
                    == b.astype(object).fillna("").astype(str).to_numpy())
        elif col == "verified":
            same = a.astype(bool).to_numpy() == b.to_numpy()
        else:
            x, y = pd.to_numeric(a, errors="coerce").to_numpy(float), b.to_numpy(float)
            same = np.isclose(x, y, rtol=_RTOL, atol=0, equal_nan=True)
        if not same.all():
            i = int(np.argmin(same))
            raise UserError(f"{f} row {i + 2}: {col} is {b.iloc[i]} but samples.csv gives {a.iloc[i]}: the summary "
                            f"does not match the samples; {RERUN}")


# --------------------------------------------------------------------------- measured
def _measured_problem(ctx: dict) -> str | None:
    """Why this run cannot be a measurement on a card (None when everything agrees)."""
    if ctx["mode"] != "hw":
        return f"its mode is {ctx['mode']}, not hw"
    dev, xb, rtm = ctx["device"], ctx["xclbin"], ctx["runtime"]
    if ctx.get("emulator") is not None:
        return "it records an emulator build (the emulator block)"
    name, bdf = str(dev.get("name") or ""), str(dev.get("bdf") or "")
    if not name or name == schema.EMULATED_DEVICE_NAME or bdf.startswith(schema.EMULATED_BDF_PREFIX):
        return f"its device ({name or 'none'}, bdf {bdf or 'none'}) is not a card"
    if xb.get("format") != schema.REAL_XCLBIN_FORMAT:
        return f"its xclbin format is {xb.get('format')!r}, not {schema.REAL_XCLBIN_FORMAT!r} (a v++ build)"
    if xb.get("xsa_name") == schema.EMU_XSA_NAME:
        return "its xclbin is the emulator's"
    if rtm.get("module") != schema.PYXRT_MODULE:
        return f"it was run through {rtm.get('module')!r}, not XRT's {schema.PYXRT_MODULE}"
    try:
        u = uuidlib.UUID(str(xb.get("uuid")))
    except ValueError:
        return f"its xclbin UUID {xb.get('uuid')!r} is missing or malformed"
    if u.int == 0:
        return "its xclbin UUID is all zeros"
    return None


def _check_timing_source(p: Path, ctx: dict) -> None:
    if ctx["timing_source"] == "measured":
        why = _measured_problem(ctx)
        if why:
            raise UserError(f"{p}: timing_source is measured but {why}; it is refused as a measured ceiling "
                            "(only a run on the card is measured): rerun it on the card")
    elif ctx["mode"] == "hw":
        raise UserError(f"{p}: mode hw with timing_source {ctx['timing_source']}: the context disagrees with "
                        f"itself; {RERUN}")


# --------------------------------------------------------------------------- the loader
def load_run(path: str | Path, require_verified: bool = True) -> Run:
    """Read a run directory; refuse anything that is not a complete, intact, physically possible run
    (with a verified point, unless require_verified is False)."""
    p = Path(path)
    if not p.exists():
        raise UserError(f"{p} does not exist: give a run directory under results/runs/")
    if not p.is_dir() or not (p / "context.json").is_file():
        raise UserError(f"{p} is not a run directory (no context.json); pass a directory under results/runs/")
    ctx = _read_context(p)
    _check_context(p, ctx)
    _check_timing_source(p, ctx)
    texts = {name: _raw_csv(p, name) for name in schema.HASHED_FILES}
    _check_hashes(p, ctx)
    samples = _parse_csv(p / "samples.csv", texts["samples.csv"], ctx, "samples")
    summary = _parse_csv(p / "summary.csv", texts["summary.csv"], ctx, "summary")
    _check_samples(p, ctx, samples)
    _check_summary(p, ctx, samples, summary)
    bounds.check(str(p), ctx, samples)
    run = Run(p, ctx, samples, summary)
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
