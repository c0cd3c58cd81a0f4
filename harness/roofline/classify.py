"""Attainable performance, bound class and predicted time of each op under a ceiling set.

attainable = min(compute ceiling, OI x memory ceiling)   [GFLOP/s; GB/s x FLOP/B]
bound      = 'memory' when OI x memory ceiling < compute ceiling, else 'compute'
time       = FLOP / attainable = max(FLOP / compute, bytes / bandwidth)
"""
from __future__ import annotations

from harness.roofline.ceilings import CeilingSet


def roofline_time(flop: float, nbytes: float, cs: CeilingSet) -> tuple[float, str, float]:
    """(attainable GFLOP/s, bound, time_s) of `flop` FLOPs moving `nbytes` bytes."""
    bw = cs.memory.value * 1e9          # B/s
    peak = cs.compute.value * 1e9       # FLOP/s
    t_mem = nbytes / bw
    t_comp = flop / peak
    if flop <= 0:
        return 0.0, "memory", t_mem
    bound = "memory" if t_mem > t_comp else "compute"
    t = max(t_mem, t_comp)
    return flop / t / 1e9, bound, t


def classify(workload, precision: str, sets: list[CeilingSet]) -> list[dict]:
    """The workload's op rows, each with attainable/bound/time under every ceiling set."""
    rows = workload.rows(precision)
    for op, row in zip(workload.ops, rows):
        for cs in sets:
            att, bound, t = roofline_time(op.flop, op.bytes(precision), cs)
            row[f"{cs.name}_attainable_GFLOPps"] = att
            row[f"{cs.name}_bound"] = bound
            row[f"{cs.name}_time_s"] = t
            row[f"{cs.name}_time_total_s"] = t * op.count
    for cs in sets:
        total = sum(r[f"{cs.name}_time_total_s"] for r in rows) or 1.0
        for r in rows:
            r[f"{cs.name}_time_share"] = r[f"{cs.name}_time_total_s"] / total
    return rows


def changed_class(rows: list[dict]) -> list[dict]:
    """Ops whose bound class differs between the spec and the measured ceilings."""
    if not rows or "measured_bound" not in rows[0]:
        return []
    return [{"name": r["name"], "stage": r["stage"], "spec_bound": r["spec_bound"],
             "measured_bound": r["measured_bound"], "oi_FLOPpB": r["oi_FLOPpB"]}
            for r in rows if r["spec_bound"] != r["measured_bound"]]
