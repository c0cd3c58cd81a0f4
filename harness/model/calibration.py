"""Calibration: run the model on every published row of harness/data/calibration.csv."""
from __future__ import annotations

import csv
import statistics
from dataclasses import dataclass

from harness.model import data
from harness.model.compute import dispatch_overhead
from harness.model.memory import predict_memcpy
from harness.model.platform import load_platform
from harness.model.transfer import predict_transfer

GIB_PER_GB = 1024 ** 3 / 1e9   # a figure printed in GiB/s x this = decimal GB/s
MIB_PER_GB = 1024 ** 2 / 1e9   # xbutil and XRT examples print MB/s meaning 2^20 B/s
MAX_MEDIAN_ERROR = 0.10        # acceptance: median |error| over the scored rows
MAX_ROW_ERROR = 0.25           # acceptance: every scored row
SCORED = ("fit", "check")      # rows that count; 'excluded' rows are reported with their reason
SCORED_KINDS = ("memcpy", "transfer")   # kinds whose rows are predictions scored against the limits


@dataclass
class RowResult:
    row: dict
    measured: float | None      # in the row's unit (GB/s rows: decimal GB/s)
    predicted: float | None
    error: float | None         # predicted / measured - 1
    limit: str = ""

    @property
    def id(self):
        return self.row["id"]

    @property
    def use(self):
        return self.row["use"]


def load_rows(path=None) -> list[dict]:
    with open(path or data.CALIBRATION_FILE, newline="") as f:
        return list(csv.DictReader(f))


def _opt_int(s):
    return int(s) if s not in ("", None) else None


def _gbps(row) -> float:
    """The row's published bandwidth in decimal GB/s."""
    v = float(row["value"])
    unit = row["unit"]
    if unit == "GB/s":
        return v
    if unit == "GiB/s":
        return v * GIB_PER_GB
    if unit == "MiB/s":
        return v * MIB_PER_GB
    raise ValueError(f"calibration row {row['id']}: unit {unit!r}")


def _yes(row, col) -> bool:
    v = row.get(col, "")
    if v not in ("", "yes", "no"):
        raise ValueError(f"calibration row {row['id']}: {col} must be yes or no, got {v!r}")
    return v == "yes"


def evaluate_row(row: dict) -> RowResult:
    kind = row["kind"]
    if kind == "memcpy":
        p = load_platform(row["platform"])
        pred = predict_memcpy(
            p, memory=row["memory"], ports=int(row["ports"]), pcs_per_port=int(row["pcs_per_port"]),
            pcs=_opt_int(row["pcs"]), direction=row["direction"], width_bits=int(row["width_bits"]),
            clock_mhz=float(row["clock_mhz"]), burst=int(row["burst"]), outstanding=int(row["outstanding"]),
            bytes=int(row["bytes"]), pattern=row["pattern"], txn_bytes=_opt_int(row["txn_bytes"]),
            cross_group=_yes(row, "cross_group"))
        t = pred.time_s + (dispatch_overhead(p).value if row["includes_dispatch"] == "yes" else 0.0)
        agg = pred.total_bytes / t / 1e9
        model = agg / pred.inputs["ports"] if row["measure"] == "per_port" else agg
        measured = _gbps(row)
        return RowResult(row, measured, model, model / measured - 1, pred.limit)
    if kind == "transfer":
        # One [pcie] parameter set serves every XDMA shell. The published runs sync N buffers one
        # after another, so they take N x one sync: the bandwidth is that of one sync.
        pred = predict_transfer(int(row["bytes"]), row["direction"])
        measured = _gbps(row)
        limit = "per-sync latency" if pred.latency_s > pred.time_s / 2 else f"{row['direction']} bandwidth"
        return RowResult(row, measured, pred.bandwidth_GBps, pred.bandwidth_GBps / measured - 1, limit)
    if kind == "dispatch":
        v = dispatch_overhead().value * 1e6
        lo, hi = float(row["low"]), float(row["high"])
        err = 0.0 if lo <= v <= hi else (v / hi - 1 if v > hi else v / lo - 1)
        return RowResult(row, float(row["value"]), v, err, "inside published range" if err == 0 else "outside")
    if kind == "latency":
        v = data.value("memory", row["memory"], "idle_latency_ns")
        return RowResult(row, float(row["value"]), v, v / float(row["value"]) - 1, "parameter")
    return RowResult(row, float(row["value"]) if row["value"] else None, None, None, "reference only")


def evaluate(rows=None) -> list[RowResult]:
    return [evaluate_row(r) for r in (rows if rows is not None else load_rows())]


def summary(results: list[RowResult]) -> dict:
    scored = [r for r in results if r.row["kind"] in SCORED_KINDS and r.use in SCORED]
    checks = [r for r in scored if r.use == "check"]
    errs = [abs(r.error) for r in scored]
    worst = max(scored, key=lambda r: abs(r.error))
    by_kind = {}
    for kind in SCORED_KINDS:
        rows = [r for r in scored if r.row["kind"] == kind]
        if rows:
            ck = [abs(r.error) for r in rows if r.use == "check"]
            by_kind[kind] = {"rows": len(rows), "median_abs_error": statistics.median(abs(r.error) for r in rows),
                             "max_abs_error": max(abs(r.error) for r in rows),
                             "check_rows": len(ck), "check_max_abs_error": max(ck) if ck else None}
    return {
        "rows_scored": len(scored),
        "median_abs_error": statistics.median(errs),
        "max_abs_error": max(errs),
        "worst_row": worst.id,
        "by_kind": by_kind,
        "check_rows": len(checks),
        "check_median_abs_error": statistics.median(abs(r.error) for r in checks) if checks else None,
        "check_max_abs_error": max(abs(r.error) for r in checks) if checks else None,
        "excluded": [r.id for r in results if r.use == "excluded"],
        "passes": statistics.median(errs) <= MAX_MEDIAN_ERROR and max(errs) <= MAX_ROW_ERROR,
        "model_version": data.version(),
    }


def report(results: list[RowResult] | None = None) -> str:
    results = results if results is not None else evaluate()
    lines = [f"Calibration of {data.version()} against harness/data/calibration.csv (modeled vs published)",
             f"{'row':<13} {'use':<9} {'published':>10} {'modeled':>10} {'error':>7}  unit    binding factor / note"]
    for r in results:
        unit = "GB/s" if r.row["unit"] in ("GB/s", "GiB/s", "MiB/s") else r.row["unit"]
        if r.predicted is None:
            lines.append(f"{r.id:<13} {r.use:<9} {r.measured:>10.4g} {'-':>10} {'-':>7}  {unit:<7} {r.limit}")
            continue
        if r.row["kind"] == "dispatch":
            lines.append(f"{r.id:<13} {r.use:<9} {r.measured:>10.4g} {r.predicted:>10.4g} {'':>7}  {unit:<7} "
                         f"{r.limit} [{r.row['low']}, {r.row['high']}]")
            continue
        lines.append(f"{r.id:<13} {r.use:<9} {r.measured:>10.4g} {r.predicted:>10.4g} {r.error:>+7.1%}  "
                     f"{unit:<7} {r.limit}" + (f" (excluded: {r.row['note'].split(';')[0].removeprefix('excluded: ')})"
                        if r.use == "excluded" else ""))
    s = summary(results)
    lines.append("")
    lines.append(f"rows scored (memcpy and transfer, fit + check): {s['rows_scored']}; median |error| "
                 f"{s['median_abs_error']:.1%} (limit {MAX_MEDIAN_ERROR:.0%}); max |error| {s['max_abs_error']:.1%} "
                 f"at {s['worst_row']} (limit {MAX_ROW_ERROR:.0%}): {'PASS' if s['passes'] else 'FAIL'}")
    if s["check_rows"]:
        lines.append(f"independent 'check' rows only ({s['check_rows']}): median |error| "
                     f"{s['check_median_abs_error']:.1%}, max {s['check_max_abs_error']:.1%}")
    for kind, k in s["by_kind"].items():
        lines.append(f"  {kind}: {k['rows']} rows, median |error| {k['median_abs_error']:.1%}, max "
                     f"{k['max_abs_error']:.1%}" + (f"; {k['check_rows']} check rows, max {k['check_max_abs_error']:.1%}"
                                                    if k["check_rows"] else ""))
    lines.append(f"excluded (not modelled, reason in the CSV): {', '.join(s['excluded']) or 'none'}")
    lines.append("GiB/s and MiB/s (2^20 B/s) rows are converted to decimal GB/s before comparing. "
                 "Every 'modeled' value is a model output.")
    return "\n".join(lines)
