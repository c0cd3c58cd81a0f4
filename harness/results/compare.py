"""Two runs of one bench, point by point: the change of the median time with a 95% bootstrap
confidence interval of the ratio of medians and a two-sided Mann-Whitney U rank test (scipy).

A change is marked significant when the rank test's p < ALPHA. With few repetitions the rank test
cannot reach ALPHA at all (3 against 3: the smallest two-sided p is 0.1); such points say so and
rely on the interval alone, never marked significant.
"""
from __future__ import annotations

import numpy as np

from harness.errors import UserError
from harness.results.points import key_columns, label, measured

ALPHA = 0.05
BOOTSTRAP = 2000
SEED = 2026


def _min_p(n1: int, n2: int) -> float:
    """The smallest two-sided p a Mann-Whitney U test can give for samples of n1 and n2 (no ties)."""
    from math import comb
    return 2.0 / comb(n1 + n2, n1)


def _ci(a: np.ndarray, b: np.ndarray, rng) -> tuple[float, float]:
    """95% percentile bootstrap interval of median(b) / median(a)."""
    ia = rng.integers(0, a.size, (BOOTSTRAP, a.size))
    ib = rng.integers(0, b.size, (BOOTSTRAP, b.size))
    r = np.median(b[ib], axis=1) / np.median(a[ia], axis=1)
    return float(np.percentile(r, 2.5)), float(np.percentile(r, 97.5))


def compare(run_a, run_b, column: str = "time_s") -> list[dict]:
    """One row per point of either run: medians, change, interval, p, significant, note."""
    from scipy.stats import mannwhitneyu
    if run_a.bench != run_b.bench:
        raise UserError(f"run {run_a.run_id} is a {run_a.bench} run and {run_b.run_id} a {run_b.bench} run: "
                        "compare two runs of the same bench")
    keys = [k for k in key_columns(run_a) if k in key_columns(run_b)]
    if not keys:
        raise UserError(f"runs {run_a.run_id} and {run_b.run_id} share no point columns: compare runs of one bench")
    ma, mb = measured(run_a), measured(run_b)
    ga = {tuple(k if isinstance(k, tuple) else (k,)): g for k, g in ma.groupby(keys, dropna=False)}
    gb = {tuple(k if isinstance(k, tuple) else (k,)): g for k, g in mb.groupby(keys, dropna=False)}
    rng = np.random.default_rng(SEED)
    rows = []
    for k in sorted(set(ga) | set(gb), key=lambda x: tuple(str(v) for v in x)):
        row = {"point": label(dict(zip(keys, k))), **dict(zip(keys, k))}
        a = ga[k][column].to_numpy(float) if k in ga else np.array([])
        b = gb[k][column].to_numpy(float) if k in gb else np.array([])
        row.update({"n_a": int(a.size), "n_b": int(b.size), "median_a": float(np.median(a)) if a.size else None,
                    "median_b": float(np.median(b)) if b.size else None, "change": None, "ci_low": None,
                    "ci_high": None, "p_value": None, "significant": False, "note": ""})
        if not a.size or not b.size:
            row["note"] = f"only in run {'A' if a.size else 'B'}"
            rows.append(row)
            continue
        row["change"] = row["median_b"] / row["median_a"] - 1
        lo, hi = _ci(a, b, rng)
        row["ci_low"], row["ci_high"] = lo - 1, hi - 1
        if np.array_equal(np.unique(a), np.unique(b)) and np.unique(a).size == 1:
            row["p_value"] = 1.0
        else:
            row["p_value"] = float(mannwhitneyu(a, b, alternative="two-sided").pvalue)
        if _min_p(a.size, b.size) >= ALPHA:
            row["note"] = (f"{a.size} vs {b.size} repetitions: a rank test cannot reach p < {ALPHA}; "
                           "use --repeats 4 or more")
        else:
            row["significant"] = row["p_value"] < ALPHA
        rows.append(row)
    return rows


def format_table(run_a, run_b, rows: list[dict]) -> str:
    def us(v):
        return "-" if v is None else f"{v * 1e6:,.1f}"

    def pc(v):
        return "-" if v is None else f"{100 * v:+.1f}%"
    lines = [f"A = {run_a.run_id} ({'emulated (model)' if run_a.emulated else 'measured'}), "
             f"B = {run_b.run_id} ({'emulated (model)' if run_b.emulated else 'measured'}); "
             f"median time per point, change B/A - 1 with its 95% bootstrap interval, Mann-Whitney U p; "
             f"* = significant (p < {ALPHA})"]
    hdr = ("point", "n A", "n B", "median A us", "median B us", "change", "95% interval", "p", "")
    body = [(r["point"], r["n_a"], r["n_b"], us(r["median_a"]), us(r["median_b"]), pc(r["change"]),
             "-" if r["ci_low"] is None else f"[{pc(r['ci_low'])}, {pc(r['ci_high'])}]",
             "-" if r["p_value"] is None else f"{r['p_value']:.3g}", "*" if r["significant"] else "")
            for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(hdr, *body)]
    lines.append("  ".join(f"{h:<{w}}" for h, w in zip(hdr, widths)).rstrip())
    for b in body:
        lines.append("  ".join(f"{str(x):<{w}}" for x, w in zip(b, widths)).rstrip())
    notes = sorted({r["note"] for r in rows if r["note"]})
    lines += [f"note: {n}" for n in notes]
    n_sig = sum(r["significant"] for r in rows)
    lines.append(f"{n_sig} of {len(rows)} points changed significantly")
    return "\n".join(lines)
