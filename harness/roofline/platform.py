"""What the roofline takes from harness.model (platform facts, dispatch, GEMM fill).

Kept in one place so the names used from harness.model are easy to audit.
"""
from __future__ import annotations

import re

from harness.errors import UserError
from harness.figures import Figure


_SUBMODULES = ("platform", "compute", "memory", "dispatch", "gemm", "timing", "predict")


def model_attr(name: str):
    """`name` from harness.model (or one of its submodules); None when it is not there."""
    import importlib
    try:
        m = importlib.import_module("harness.model")
    except ImportError:
        return None
    if hasattr(m, name):
        return getattr(m, name)
    for sub in _SUBMODULES:
        try:
            sm = importlib.import_module(f"harness.model.{sub}")
        except ImportError:
            continue
        if hasattr(sm, name):
            return getattr(sm, name)
    return None


def load_platform(name: str = "u280"):
    load = model_attr("load_platform")
    if load is None:
        raise UserError("the timing model (harness.model.load_platform) is not available; "
                        "reinstall the harness with `pip install -e .`")
    return load(name)


def hbm_peak(platform) -> Figure:
    return platform.hbm_peak_GBps()


def spec_compute(platform, dtype: str) -> Figure:
    return platform.spec_compute_GFLOPps(dtype)


def hbm_pcs(platform) -> int | None:
    """Number of HBM pseudo-channels, from the platform data (None when not given)."""
    try:
        mem = platform.memory("hbm")
    except Exception:  # noqa: BLE001 - a platform without HBM data
        return None
    for attr in ("pcs", "channels", "n_pcs", "pseudo_channels", "banks"):
        v = getattr(mem, attr, None)
        if isinstance(v, Figure):
            v = v.value
        if isinstance(v, (int, float)) and v > 0:
            return int(v)
        if isinstance(v, (list, tuple)) and v:
            return len(v)
    return None


def hbm_pc_spec(platform) -> Figure | None:
    """Spec bandwidth of one HBM pseudo-channel (peak / number of PCs)."""
    peak = hbm_peak(platform)
    try:
        mem = platform.memory("hbm")
        for attr in ("pc_peak_GBps", "per_pc_GBps", "peak_per_pc_GBps"):
            v = getattr(mem, attr, None)
            if callable(v):
                v = v()
            if isinstance(v, Figure):
                return v
            if isinstance(v, (int, float)) and v > 0:
                return Figure("HBM per-PC bandwidth", float(v), "GB/s", "spec", peak.detail)
    except Exception:  # noqa: BLE001
        pass
    n = hbm_pcs(platform)
    if not n:
        return None
    return Figure("HBM per-PC bandwidth", peak.value / n, "GB/s", "spec",
                  f"{peak.detail}; {peak.value:g} GB/s / {n} PCs")


def dispatch_overhead(platform) -> Figure:
    """Model of one kernel launch's fixed cost, as a Figure (seconds)."""
    fn = model_attr("dispatch_overhead")
    if fn is not None:
        f = fn(platform)
        if isinstance(f, Figure):
            return f
        return Figure("dispatch overhead", float(f), "s", "model", "harness.model.dispatch_overhead")
    fn = model_attr("dispatch_overhead_s")
    if fn is not None:
        return Figure("dispatch overhead", float(fn(platform)), "s", "model",
                      "harness.model.dispatch_overhead_s (published K1-K3)")
    raise UserError("harness.model has no dispatch_overhead(): update the harness")


def pipeline_fill_s(platform, *, dtype, M, K, N, params, clock_mhz) -> float | None:
    """Pipeline-fill estimate (depth / clock) of one GEMM call from the model; None if unavailable."""
    predict_gemm = model_attr("predict_gemm")
    if predict_gemm is None:
        return None
    try:
        p = predict_gemm(platform, dtype=dtype, M=int(M), K=int(K), N=int(N), epilogue="none",
                         params=params or {}, clock_mhz=clock_mhz)
    except (UserError, TypeError, ValueError, KeyError):
        return None
    v = getattr(p, "pipeline_fill_s", None)
    return float(v) if v is not None else None


_BANK = re.compile(r"^\s*(HBM|DDR|PLRAM)\[(\d+)(?::(\d+))?\]\s*$")


def parse_banks(bank: str) -> list[tuple[str, int]]:
    """'HBM[3]' -> [('HBM', 3)]; 'HBM[0:3]' -> four PCs."""
    m = _BANK.match(str(bank))
    if not m:
        return []
    lo = int(m.group(2))
    hi = int(m.group(3)) if m.group(3) else lo
    return [(m.group(1), i) for i in range(lo, hi + 1)]
