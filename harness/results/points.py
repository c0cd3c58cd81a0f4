"""The points of a run and their verified measured repetitions (for plots and comparisons)."""
from __future__ import annotations

import pandas as pd

NOT_KEYS = {"point", "n", "run_id"}


def key_columns(run) -> list[str]:
    """The columns that name a point: the summary's columns before `n` (the bench's keys)."""
    cols = list(run.summary.columns)
    head = cols[:cols.index("n")] if "n" in cols else []
    return [c for c in head if c not in NOT_KEYS and c in run.samples.columns]


def measured(run) -> pd.DataFrame:
    """Measured (not warm-up) repetitions of the points the summary calls verified (every repetition
    verified): a point with a failed repetition is never used, not even its good ones."""
    s = run.samples
    if "verified" not in s or "phase" not in s:
        return s.iloc[0:0]
    ok = s["verified"].astype(str).str.strip().str.lower().isin(("true", "1")) & (s["phase"].astype(str) == "measure")
    keys = key_columns(run)
    good = {tuple(_k(v) for v in row) for row in run.verified_summary()[keys].itertuples(index=False)}
    mine = s[keys].apply(lambda row: tuple(_k(v) for v in row) in good, axis=1) if keys else ok
    return s[ok & mine]


def _k(v) -> str:
    """A key value as text, so 1, 1.0 and '1' match (CSV columns read back as int, float or str)."""
    if isinstance(v, float):
        return "" if pd.isna(v) else (str(int(v)) if v.is_integer() else repr(v))
    return str(v)


def label(keys: dict) -> str:
    def v(x):
        if isinstance(x, float) and x.is_integer():
            x = int(x)
        return str(x)
    return " ".join(f"{k}={v(x)}" for k, x in keys.items() if not (isinstance(x, float) and pd.isna(x)))


def modeled_memcpy_GBps(row, dispatch_s: float) -> float | None:
    """What harness.model predicts the harness reports for a memcpy point (a summary or sample row):
    its bytes over the modeled kernel time plus one launch overhead (start() to wait() includes it)."""
    mt = row.get("model_time_s")
    if mt is None or mt != mt:
        return None
    moved = int(row["cus"]) * int(row["bytes_per_pc"]) * int(row["kernel_reps"]) * (2 if row["direction"] == "copy" else 1)
    return moved / (float(mt) + dispatch_s) / 1e9
