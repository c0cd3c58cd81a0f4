"""GEMM + epilogue (bias, activation) with and without fusion.

Unfused: the GEMM writes C to HBM, the bias op reads C and writes C', the
activation reads C' and writes the output: every op moves its own bytes and is
its own kernel launch. Fused: C stays on chip; the chain reads the weights, the
input and the bias vector and writes the output once, in one launch.
"""
from __future__ import annotations

import pandas as pd

from harness.roofline.ceilings import CeilingSet
from harness.roofline.classify import roofline_time
from harness.workload.precision import element_bytes
from harness.workload.smolvla import ELEMENTWISE_FLOP


def norm_epilogue(v) -> str:
    """Kernel epilogue codes and spellings -> 'none' | 'bias' | 'bias+gelu' | ..."""
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return "none"
    s = str(v).strip().lower()
    codes = {"0": "none", "1": "bias", "2": "bias+gelu", "0.0": "none", "1.0": "bias", "2.0": "bias+gelu"}
    if s in codes:
        return codes[s]
    return s.replace("_", "+").replace("-", "+").replace(" ", "")


def chains(workload) -> list[list]:
    """[gemm, bias?, activation?] for every GEMM followed by bias and/or an activation."""
    followers = {}
    for o in workload.ops:
        if o.kind == "elementwise" and o.follows and o.ew in ("bias", "gelu", "silu"):
            followers[o.follows] = o
    out = []
    for o in workload.ops:
        if o.kind != "gemm":
            continue
        chain = [o]
        while chain[-1].name in followers:
            chain.append(followers[chain[-1].name])
        if len(chain) > 1:
            out.append(chain)
    return out


def chain_bytes(chain, precision: str) -> tuple[int, int]:
    """(unfused, fused) bytes of one call of a GEMM + epilogue chain."""
    eb = element_bytes(precision)
    unfused = sum(o.bytes(precision) for o in chain)
    g = chain[0]
    params = sum(o.weight_elems for o in chain[1:])
    fused = (g.weight_elems + g.in_elems + params + chain[-1].out_elems) * eb
    return unfused, fused


def fusion_table(workload, precision: str, cs: CeilingSet, gemm_runs=()) -> list[dict]:
    measured = measured_pairs(gemm_runs)
    rows = []
    for ch in chains(workload):
        g = ch[0]
        flop = sum(o.flop for o in ch)
        ub, fb = chain_bytes(ch, precision)
        t_un = sum(roofline_time(o.flop, o.bytes(precision), cs)[2] for o in ch)
        _, bound_f, t_f = roofline_time(flop, fb, cs)
        launches_saved = len(ch) - 1
        saved = t_un - t_f + launches_saved * cs.dispatch.value
        epi = "+".join(o.ew for o in ch[1:])
        m = measured.get((precision, g.M, g.K, g.N, epi))
        rows.append({
            "name": g.name, "stage": g.stage, "epilogue": epi, "M": g.M, "K": g.K, "N": g.N,
            "count": g.count, "flop": flop,
            "unfused_bytes": ub, "fused_bytes": fb,
            "unfused_oi_FLOPpB": flop / ub, "fused_oi_FLOPpB": flop / fb,
            "unfused_time_s": t_un, "fused_time_s": t_f, "launches_saved": launches_saved,
            "predicted_saved_s": saved, "predicted_saved_total_s": saved * g.count,
            "ceilings": cs.name,
            "measured_saved_s": m["measured_saved_s"] if m else None,
            "measured_run": m["run"] if m else None,
        })
    return rows


def measured_pairs(gemm_runs) -> dict:
    """(dtype, M, K, N, epilogue) -> measured unfused - fused median time, from gemm runs."""
    out = {}
    for r in gemm_runs:
        s = r.verified_summary()
        if "path" not in s.columns or "time_s_median" not in s.columns:
            continue
        src, detail = r.source_and_detail()
        groups = {}
        for _, row in s.iterrows():
            d = row.get("dtype") if "dtype" in s.columns else None
            d = r.dtype if d is None or (isinstance(d, float) and pd.isna(d)) else str(d)
            key = (d, int(row["M"]), int(row["K"]), int(row["N"]), norm_epilogue(row.get("epilogue")))
            groups.setdefault(key, {})[str(row["path"])] = float(row["time_s_median"])
        for key, paths in groups.items():
            if "fused" in paths and "unfused" in paths:
                out[key] = {"measured_saved_s": paths["unfused"] - paths["fused"],
                            "fused_time_s": paths["fused"], "unfused_time_s": paths["unfused"],
                            "run": r.run_id, "source": src, "detail": detail}
    return out


def measured_pair_table(gemm_runs, cs_for_dtype) -> list[dict]:
    """Every fused-vs-unfused pair measured, with the saving predicted for the same shape."""
    rows = []
    for (d, M, K, N, epi), m in sorted(measured_pairs(gemm_runs).items()):
        cs = cs_for_dtype(d)
        eb = element_bytes(d)
        gemm_flop = 2 * M * K * N
        acts = [a for a in epi.split("+") if a and a != "none"]
        ew_flop = sum(ELEMENTWISE_FLOP.get(a, (1, ""))[0] for a in acts) * M * N
        gemm_bytes = (M * K + K * N + M * N) * eb
        # the unfused epilogue kernel reads C (+ bias) and writes the output once
        epi_bytes = (M * N + (N if "bias" in acts else 0) + M * N) * eb
        fused_bytes = (M * K + K * N + (N if "bias" in acts else 0) + M * N) * eb
        t_un = roofline_time(gemm_flop, gemm_bytes, cs)[2] + roofline_time(ew_flop, epi_bytes, cs)[2]
        t_f = roofline_time(gemm_flop + ew_flop, fused_bytes, cs)[2]
        rows.append({"dtype": d, "M": M, "K": K, "N": N, "epilogue": epi,
                     "predicted_saved_s": t_un - t_f + cs.dispatch.value,
                     "measured_saved_s": m["measured_saved_s"],
                     "measured_fused_time_s": m["fused_time_s"],
                     "measured_unfused_time_s": m["unfused_time_s"],
                     "source": m["source"], "detail": m["detail"], "ceilings": cs.name})
    return rows
