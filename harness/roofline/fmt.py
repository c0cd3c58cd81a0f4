"""Numbers for reading: no exponents, thousands separators, units scaled (s, ms, us, ns)."""
from __future__ import annotations

import math


def num(v, digits: int = 3) -> str:
    """1234.5 -> '1,234'; 12.34 -> '12.3'; 0.01234 -> '0.0123'; None -> '-'."""
    if v is None or v == "":
        return "-"
    if isinstance(v, str):
        return v
    v = float(v)
    if not math.isfinite(v):
        return "-"
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 10 ** (digits - 1):
        return f"{v:,.0f}"
    decimals = digits - 1 - math.floor(math.log10(a))
    return f"{v:,.{max(decimals, 0)}f}"


def time(s, digits: int = 3) -> str:
    """Seconds, scaled: '17.6 s', '795 ms', '37.4 us', '57 ns'; signed; '-' for None."""
    if s is None:
        return "-"
    s = float(s)
    if not math.isfinite(s):
        return "-"
    a = abs(s)
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "us"), (1e-9, "ns")):
        if a >= scale or unit == "ns":
            return f"{num(s / scale, digits)} {unit}"
    return "-"


def pct(v) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


def si(v, digits: int = 3) -> str:
    """Decimal SI prefixes for counts: 960 -> '960', 61440 -> '61.4 k', 1.74e11 -> '174 G'."""
    if v is None:
        return "-"
    v = float(v)
    a = abs(v)
    for scale, p in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if a >= scale:
            return f"{num(v / scale, digits)} {p}"
    return num(v, digits)
