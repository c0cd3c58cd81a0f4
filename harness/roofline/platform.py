"""What the roofline takes from harness.model (platform facts, dispatch, GEMM fill).

Kept in one place so the names used from harness.model are easy to audit.
"""
from __future__ import annotations

import re

from harness import model
from harness.figures import Figure


def load_platform(name: str = "u280"):
    return model.load_platform(name)


def hbm_peak(platform) -> Figure:
    return platform.hbm_peak_GBps()


def spec_compute(platform, dtype: str) -> Figure:
    return platform.spec_compute_GFLOPps(dtype)


def hbm_pcs(platform) -> int:
    """Number of HBM pseudo-channels, from the platform data."""
    return int(platform.memory("hbm").pcs)


def hbm_pc_spec(platform) -> Figure:
    """Spec bandwidth of one HBM pseudo-channel."""
    f = platform.memory("hbm").pc_peak_GBps
    return Figure("HBM per-PC bandwidth", f.value, f.unit, f.source, f.detail)


def dispatch_overhead(platform) -> Figure:
    """Model of one kernel launch's fixed cost (seconds), from the published K1-K3
    figures (harness/docs/published-measurements.md)."""
    return model.dispatch_overhead(platform)


def pipeline_depth_s(platform, *, dtype, M, K, N, params, clock_mhz) -> float:
    """Pipeline-fill estimate of one GEMM call: (MAC + epilogue pipeline depth) / clock, from the model."""
    from harness.model.compute import gemm_pipeline_depth_s
    return gemm_pipeline_depth_s(platform, dtype=dtype, clock_mhz=clock_mhz)


_BANK = re.compile(r"^\s*(HBM|DDR|PLRAM)\[(\d+)(?::(\d+))?\]\s*$")


def parse_banks(bank: str) -> list[tuple[str, int]]:
    """'HBM[3]' -> [('HBM', 3)]; 'HBM[0:3]' -> four PCs."""
    m = _BANK.match(str(bank))
    if not m:
        return []
    lo = int(m.group(2))
    hi = int(m.group(3)) if m.group(3) else lo
    return [(m.group(1), i) for i in range(lo, hi + 1)]
