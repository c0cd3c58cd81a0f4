"""GEMM + epilogue (bias, activation) with and without fusion.

Unfused: the GEMM writes C to HBM, the bias op reads C and writes C', the
activation reads C' and writes the output: every op moves its own bytes and is
its own kernel launch. Fused: C stays on chip; the chain reads the weights, the
input and the bias vector and writes the output once, in one launch.

Unfused, each op sits under the compute roof of its kind (the GEMM under the GEMM
kernel's, bias/activation under the elementwise roof); fused, the GEMM's FLOPs
count against the GEMM roof and the epilogue's against the elementwise roof
(added: an upper bound), against the fused bytes (fused_time). Savings taken from a gemm run are
`run_saved_s` with that run's `source` (measured | model): an emulated run's
saving is a model figure, never called measured.
"""
from __future__ import annotations

import pandas as pd

from harness.roofline.ceilings import CeilingSet, source_tag
from harness.roofline.classify import roofline_time
from harness.workload.precision import element_bytes, output_bytes
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


def fused_time(gemm_flop: float, ew_flop: float, nbytes: float, cs: CeilingSet) -> tuple[str, float]:
    """(bound, time_s) of a GEMM with its epilogue fused: the GEMM's FLOPs at the GEMM roof plus the
    epilogue's at the elementwise roof (serial: an upper bound), against the fused bytes.
    Under one compute roof this is the plain roofline time of the chain."""
    t_comp = gemm_flop / (cs.compute.value * 1e9) + ew_flop / (cs.ew_compute.value * 1e9)
    t_mem = nbytes / (cs.memory.value * 1e9)
    return ("memory" if t_mem > t_comp else "compute"), max(t_mem, t_comp)


def chain_fused_time(chain, precision: str, cs: CeilingSet) -> tuple[str, float]:
    _, fb = chain_bytes(chain, precision)
    return fused_time(chain[0].flop, sum(o.flop for o in chain[1:]), fb, cs)


def fusion_table(workload, precision: str, cs: CeilingSet, gemm_runs=()) -> list[dict]:
    pairs = run_pairs(gemm_runs)
    rows = []
    for ch in chains(workload):
        g = ch[0]
        flop = sum(o.flop for o in ch)
        ub, fb = chain_bytes(ch, precision)
        t_un = sum(roofline_time(o.flop, o.bytes(precision), cs, o.kind)[2] for o in ch)
        bound_f, t_f = chain_fused_time(ch, precision, cs)
        launches_saved = len(ch) - 1
        saved = t_un - t_f + launches_saved * cs.dispatch.value
        epi = "+".join(o.ew for o in ch[1:])
        m = pairs.get((precision, g.M, g.K, g.N, epi))
        rows.append({
            "name": g.name, "stage": g.stage, "epilogue": epi, "M": g.M, "K": g.K, "N": g.N,
            "count": g.count, "flop": flop,
            "unfused_bytes": ub, "fused_bytes": fb,
            "unfused_oi_FLOPpB": flop / ub, "fused_oi_FLOPpB": flop / fb,
            "unfused_time_s": t_un, "fused_time_s": t_f, "launches_saved": launches_saved,
            "predicted_saved_s": saved, "predicted_saved_total_s": saved * g.count,
            "ceilings": cs.key,
            "run_saved_s": m["saved_s"] if m else None,
            "run_saved_source": m["source"] if m else None,
            "run_saved_detail": m["detail"] if m else None,
            "run_saved_tag": m["tag"] if m else None,
            "run_id": m["run"] if m else None,
        })
    return rows


def run_pairs(gemm_runs) -> dict:
    """(dtype, M, K, N, epilogue) -> unfused - fused median time of a gemm run, with its source.

    `saved_s` is a model
    figure when the run is emulated: read `source` ('measured' | 'model')."""
    out = {}
    for r in gemm_runs:
        s = r.verified_summary()
        if "path" not in s.columns or "time_s_median" not in s.columns:
            continue
        prov = r.provenance()
        groups = {}
        for _, row in s.iterrows():
            d = row.get("dtype") if "dtype" in s.columns else None
            d = r.dtype if d is None or (isinstance(d, float) and pd.isna(d)) else str(d)
            key = (d, int(row["M"]), int(row["K"]), int(row["N"]), norm_epilogue(row.get("epilogue")))
            groups.setdefault(key, {})[str(row["path"])] = float(row["time_s_median"])
        for key, paths in groups.items():
            if "fused" in paths and "unfused" in paths:
                saved = paths["unfused"] - paths["fused"]
                out[key] = {"saved_s": saved,
                            "fused_time_s": paths["fused"], "unfused_time_s": paths["unfused"],
                            "run": r.run_id, **prov, "detail": f"run {r.run_id}" + (", emulated" if prov["emulated"] else ""),
                            "tag": source_tag(prov)}
    return out


def run_pair_table(gemm_runs, cs_for_dtype) -> list[dict]:
    """Every fused-vs-unfused pair of the gemm runs (timed or emulated), beside the predicted saving."""
    rows = []
    for (d, M, K, N, epi), m in sorted(run_pairs(gemm_runs).items()):
        cs = cs_for_dtype(d)
        eb, ob = element_bytes(d), output_bytes(d)      # operands / C as the kernels store them
        gemm_flop = 2 * M * K * N
        acts = [a for a in epi.split("+") if a and a != "none"]
        ew_flop = sum(ELEMENTWISE_FLOP.get(a, (1, ""))[0] for a in acts) * M * N
        bias = (N if "bias" in acts else 0) * eb
        gemm_bytes = (M * K + K * N) * eb + M * N * ob
        # the unfused epilogue kernel reads C (+ bias) and writes the output once
        epi_bytes = 2 * M * N * ob + bias
        fused_bytes = (M * K + K * N) * eb + bias + M * N * ob
        t_un = (roofline_time(gemm_flop, gemm_bytes, cs, "gemm")[2]
                + roofline_time(ew_flop, epi_bytes, cs, "elementwise")[2])
        t_f = fused_time(gemm_flop, ew_flop, fused_bytes, cs)[1]
        rows.append({"dtype": d, "M": M, "K": K, "N": N, "epilogue": epi,
                     "predicted_saved_s": t_un - t_f + cs.dispatch.value,
                     "run_saved_s": m["saved_s"],
                     "run_fused_time_s": m["fused_time_s"],
                     "run_unfused_time_s": m["unfused_time_s"],
                     "run_id": m["run"], "source": m["source"], "detail": m["detail"], "tag": m["tag"],
                     "ceilings": cs.key})
    return rows
