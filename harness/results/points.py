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
    """Measured (not warm-up), verified repetitions."""
    s = run.samples
    ok = s["verified"].astype(str).str.strip().str.lower().isin(("true", "1")) if "verified" in s else False
    phase = s["phase"].astype(str) == "measure" if "phase" in s else True
    return s[ok & phase]


def label(keys: dict) -> str:
    def v(x):
        if isinstance(x, float) and x.is_integer():
            x = int(x)
        return str(x)
    return " ".join(f"{k}={v(x)}" for k, x in keys.items() if not (isinstance(x, float) and pd.isna(x)))
