"""Terminal output the benches share: tables, and the lines every bench ends with."""
from __future__ import annotations

import math


def us(x, digits: int = 1) -> str:
    """Seconds as microseconds for a table; '-' for a missing figure."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    try:
        if x != x:      # pandas NA-like
            return "-"
    except TypeError:
        return "-"
    return f"{float(x) * 1e6:,.{digits}f}"


TIMING_LABELS = {"measured": "measured", "model": "MODELED (emulation, not a measurement)",
                 "emulation": "XRT EMULATION (the simulator's wall clock; never a ceiling)"}


def timing_label(source: str) -> str:
    """How a table's heading names its timing source."""
    return TIMING_LABELS.get(source, source)


def print_closing(result, point_label) -> None:
    """Failed points, stability warnings, where the run is."""
    from harness.results.stats import stability_warnings
    summary = result.summary
    failed = summary[~summary["verified"].astype(bool)]
    if len(failed):
        first = next((str(e) for e in failed.get("errors", []) if isinstance(e, str) and e), "")
        print(f"warning: {len(failed)} of {len(summary)} point(s) failed verification; they are recorded and "
              f"never used" + (f" (first: {first[:300]})" if first else ""))
    for w in stability_warnings(summary, point_label)[:5]:
        print(f"warning: {w}")
    print(f"run directory: {result.path}")


def print_table(rows: list[list], header: list[str]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    fmt = "  ".join(f"{{:>{w}}}" for w in widths)
    print(fmt.format(*header))
    for r in rows:
        print(fmt.format(*r))
