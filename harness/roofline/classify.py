"""Attainable performance, bound class and predicted time of each op under a ceiling set.

C = the set's compute roof of the op's kind (GEMM kernel for gemm/attention ops,
the elementwise roof for elementwise ops), B = the set's memory roof:

attainable = min(C, OI x B)   [GFLOP/s; GB/s x FLOP/B]
bound      = 'memory' when OI x B < C, else 'compute'
time       = FLOP / attainable = max(FLOP / C, bytes / B)

Every column derived from a set is prefixed by the set's key (spec | measured |
emulated | runs): <key>_attainable_GFLOPps, <key>_bound, <key>_time_s,
<key>_time_total_s, <key>_time_share, <key>_compute_ceiling (key of the compute
roof the op was placed under), <key>_bound_by (key of the roof that binds) and
<key>_source (source of that roof: spec | measured | emulated (model) | model | assumption).
"""
from __future__ import annotations

from harness.roofline.ceilings import CeilingSet, source_tag


def roofline_time(flop: float, nbytes: float, cs: CeilingSet, kind: str = "gemm") -> tuple[float, str, float]:
    """(attainable GFLOP/s, bound, time_s) of `flop` FLOPs moving `nbytes` bytes, for an op of `kind`."""
    bw = cs.memory.value * 1e9                  # B/s
    peak = cs.compute_for(kind).value * 1e9     # FLOP/s
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
            k = cs.key
            comp = cs.compute_for(op.kind)
            att, bound, t = roofline_time(op.flop, op.bytes(precision), cs, op.kind)
            binding = cs.memory if bound == "memory" else comp
            row[f"{k}_attainable_GFLOPps"] = att
            row[f"{k}_bound"] = bound
            row[f"{k}_time_s"] = t
            row[f"{k}_time_total_s"] = t * op.count
            row[f"{k}_compute_ceiling"] = comp.key
            row[f"{k}_bound_by"] = binding.key
            row[f"{k}_source"] = source_tag(binding.figure)
    for cs in sets:
        k = cs.key
        total = sum(r[f"{k}_time_total_s"] for r in rows) or 1.0
        for r in rows:
            r[f"{k}_time_share"] = r[f"{k}_time_total_s"] / total
    return rows


def changed_class(rows: list[dict], run_set: CeilingSet | None) -> list[dict]:
    """Ops whose bound class differs between the spec and the run-derived ceilings."""
    if run_set is None or not rows:
        return []
    k = run_set.key
    return [{"name": r["name"], "stage": r["stage"], "kind": r["kind"], "ceilings": k,
             "spec_bound": r["spec_bound"], f"{k}_bound": r[f"{k}_bound"],
             f"{k}_compute_ceiling": r[f"{k}_compute_ceiling"], "oi_FLOPpB": r["oi_FLOPpB"]}
            for r in rows if r["spec_bound"] != r[f"{k}_bound"]]
