"""Latency of one inference at batch size 1, and the latency gap of single GEMMs.

inference latency = sum over ops of (count x roofline time) + launches x dispatch overhead
latency gap (per GEMM shape of a latency run) = the run's median time - roofline time;
the pipeline-fill estimate (pipeline depth / clock) comes from harness.model.
A latency run's time is measured only on hardware: each gap row carries the run's
`source` (measured | model); an emulated run's time is a model figure.
"""
from __future__ import annotations

import pandas as pd

from harness.roofline import platform as plat
from harness.roofline.ceilings import CeilingSet, source_tag
from harness.roofline.classify import roofline_time
from harness.roofline.fusion import chain_fused_time, chains
from harness.workload.precision import element_bytes, output_bytes


def inference_latency(workload, precision: str, rows: list[dict], sets: list[CeilingSet]) -> list[dict]:
    out = []
    launches = sum(o.launches for o in workload.ops)
    chs = chains(workload)
    for cs in sets:
        compute = sum(r[f"{cs.key}_time_total_s"] for r in rows)
        # with every GEMM epilogue fused: the chain's ops become one launch moving fewer bytes
        fused_compute = compute
        fused_launches = launches
        for ch in chs:
            t_un = sum(roofline_time(o.flop, o.bytes(precision), cs, o.kind)[2] for o in ch)
            t_f = chain_fused_time(ch, precision, cs)[1]
            fused_compute -= (t_un - t_f) * ch[0].count
            fused_launches -= sum(o.launches for o in ch[1:])
        for variant, c, n in (("unfused", compute, launches), ("epilogues fused", fused_compute, fused_launches)):
            disp = n * cs.dispatch.value
            out.append({
                "ceilings": cs.key, "label": cs.label, "variant": variant,
                "roofline_time_s": c, "launches": n,
                "dispatch_per_launch_s": cs.dispatch.value,
                "dispatch_source": cs.dispatch.source, "dispatch_detail": cs.dispatch.detail,
                "dispatch_emulated": cs.dispatch.emulated,
                "dispatch_time_s": disp, "latency_s": c + disp,
                "memory_ceiling": cs.memory.key, "compute_ceiling": cs.compute.key,
                "compute_elementwise_ceiling": cs.ew_compute.key,
            })
    return out


def latency_gap(platform, latency_runs, workload, spec_for_dtype, runs_for_dtype) -> list[dict]:
    """Batch-1 time of each GEMM shape of the latency runs (timed or emulated) beside its roofline.

    Keys: time_s_median / time_s_min (the run's), source + detail + source_tag (measured | model),
    spec_roofline_time_s, <key>_roofline_time_s with `ceilings` = <key> of the run-derived set
    (measured | emulated | runs), gap_s / gap_ratio against the run-derived set (else spec:
    `gap_against`)."""
    shapes: dict = {}
    for o in (workload.ops if workload else []):
        if o.kind == "gemm":
            shapes.setdefault((o.M, o.K, o.N), []).append(o.name)
    out = []
    for r in latency_runs:
        s = r.verified_summary()
        if "kind" not in s.columns:
            continue
        prov = r.provenance()
        detail = f"run {r.run_id}" + (", emulated" if prov["emulated"] else "")
        # The run's own launch cost (empty kernel, start to wait), subtracted to leave the kernel's time.
        disp_rows = s[s["kind"].astype(str) == "dispatch"]
        dispatch = float(disp_rows["time_s_median"].min()) if len(disp_rows) else None
        design = r.context.get("design") or {}
        params = design.get("params") or {}
        clock = r.context.get("clock_mhz") or design.get("freq_mhz")
        for _, row in s[s["kind"].astype(str) == "gemm"].iterrows():
            d = row.get("dtype")
            d = r.dtype if d is None or (isinstance(d, float) and pd.isna(d)) else str(d)
            M, K, N = int(row["M"]), int(row["K"]), int(row["N"])
            flop = 2 * M * K * N
            nbytes = (M * K + K * N) * element_bytes(d) + M * N * output_bytes(d)   # C at the kernel's width
            t_spec = roofline_time(flop, nbytes, spec_for_dtype(d), "gemm")[2]
            rcs = runs_for_dtype(d)
            t_run = roofline_time(flop, nbytes, rcs, "gemm")[2] if rcs else None
            fill = plat.pipeline_depth_s(platform, dtype=d, M=M, K=K, N=N, params=params, clock_mhz=clock)
            t = float(row["time_s_median"])
            ref = t_run if t_run is not None else t_spec
            g = {
                "dtype": d, "M": M, "K": K, "N": N, "workload_op": ", ".join(shapes.get((M, K, N), [])),
                "time_s_median": t,
                "time_s_min": float(row["time_s_min"]) if "time_s_min" in row else None,
                **prov, "detail": detail, "source_tag": source_tag(prov),
                "spec_roofline_time_s": t_spec,
            }
            if rcs is not None:
                g["ceilings"] = rcs.key
                g[f"{rcs.key}_roofline_time_s"] = t_run
            g.update({"pipeline_depth_s": fill, "gap_against": rcs.key if rcs else "spec",
                      "gap_s": t - ref, "gap_ratio": t / ref if ref else None,
                      "dispatch_s": dispatch,
                      "gap_after_dispatch_s": (t - dispatch - ref) if dispatch is not None else None})
            out.append(g)
    return out
