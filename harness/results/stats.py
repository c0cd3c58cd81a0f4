"""Statistics per benchmark point. Best for ceilings, median and spread for latency.

Only measured (not warm-up) and verified repetitions feed a figure; a point with
no verified repetition keeps its row, with `verified=False` and empty figures.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

CV_WARN = 0.10   # pyperf's threshold for an unstable point


def time_stats(t: np.ndarray) -> dict:
    t = t[~np.isnan(t)]          # no time (a functional-only kernel run): no statistic
    if t.size == 0:
        return {k: np.nan for k in ("time_s_median", "time_s_min", "time_s_max", "time_s_p99",
                                    "time_s_iqr", "time_s_cv")}
    q1, q3 = np.percentile(t, [25, 75])
    mean = float(np.mean(t))
    return {
        "time_s_median": float(np.median(t)),
        "time_s_min": float(np.min(t)),
        "time_s_max": float(np.max(t)),
        "time_s_p99": float(np.percentile(t, 99)),
        "time_s_iqr": float(q3 - q1),
        "time_s_cv": float(np.std(t, ddof=1) / mean) if t.size > 1 and mean > 0 else 0.0,
    }


def summarize(rows: list[dict], keys: list[str], rate_cols: tuple[str, ...] = ()) -> pd.DataFrame:
    """One row per point: counts, time statistics, best and median of each rate column."""
    df = pd.DataFrame(rows)
    out = []
    if df.empty:
        return pd.DataFrame(columns=keys)
    measured = df[df["phase"] == "measure"]
    for point, g in measured.groupby("point", sort=False):
        ok = g[g["verified"].astype(bool)]
        row = {k: g.iloc[0][k] for k in keys}
        row.update({"point": point, "n": len(g), "n_verified": len(ok),
                    "verified": bool(len(ok) == len(g) and len(g) > 0)})
        row.update(time_stats(ok["time_s"].to_numpy(float)))
        # simulated device time (hw_emu device profiling); empty for every other run
        dev = (pd.to_numeric(ok["device_time_s"], errors="coerce").dropna().to_numpy(float)
               if "device_time_s" in ok.columns else np.array([]))
        row["device_time_s_median"] = float(np.median(dev)) if dev.size else np.nan
        for col in rate_cols:
            v = ok[col].to_numpy(float)
            row[f"{col}_best"] = float(np.max(v)) if v.size else np.nan
            row[f"{col}_median"] = float(np.median(v)) if v.size else np.nan
        row["timing_source"] = g.iloc[0]["timing_source"]
        row["errors"] = "; ".join(sorted({str(e) for e in g["error"] if isinstance(e, str) and e}))
        out.append(row)
    return pd.DataFrame(out)


def summarize_samples(bench: str, rows: list[dict], cus: int = 0) -> pd.DataFrame:
    """The part of a bench's summary that follows from its samples alone: what the bench writes
    and what every reader recomputes to check summary.csv (latency's model columns are added by
    the bench). `cus`: the CUs of the per-CU columns (schema.cus_of the run's context)."""
    from harness.results.schema import SCHEMAS
    sch = SCHEMAS[bench]
    summary = summarize(rows, sch.summary_keys, sch.rate_cols)
    if bench != "gemm" or summary.empty:
        return summary
    # medians of the two parts of an unfused point and of every CU (verified measured rows only)
    df = pd.DataFrame(rows)
    ok = df[(df["phase"] == "measure") & df["verified"].astype(bool)]
    for col in ("gemm_time_s", "epilogue_time_s"):
        med = pd.to_numeric(ok[col], errors="coerce").groupby(ok["point"]).median()
        summary[f"{col}_median"] = summary["point"].map(med)
    for col in ("flop", "bytes", "cus"):
        summary[col] = summary["point"].map(df.groupby("point")[col].first())
    for i in range(cus):
        for c in sch.per_cu:
            col = f"cu{i}_{c}"
            if c in sch.per_cu_first:
                summary[col] = summary["point"].map(df.groupby("point")[col].first())
            else:
                med = pd.to_numeric(ok[col], errors="coerce").groupby(ok["point"]).median()
                summary[f"{col}_median"] = summary["point"].map(med)
    return summary


def stability_warnings(summary: pd.DataFrame, label) -> list[str]:
    """pyperf-style warnings with the fix."""
    warns = []
    for _, r in summary.iterrows():
        if r.get("time_s_cv", 0) and r["time_s_cv"] >= CV_WARN:
            warns.append(f"{label(r)}: unstable (cv {r['time_s_cv']:.0%}); raise --repeats or the size")
        n = int(r["n_verified"])
        if 0 < n < 3:      # none verified: the failed-verification warning says so
            warns.append(f"{label(r)}: only {n} verified repetition{'s' if n != 1 else ''}; "
                         "use --repeats 3 or more")
    return warns
