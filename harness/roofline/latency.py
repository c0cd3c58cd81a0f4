"""Latency of one inference at batch size 1, three ways, and the gap between the last two explained.

    roofline under spec ceilings   = sum over ops of count x time_s (spec rows)
    roofline under run ceilings    = sum over ops of count x time_s (run-derived rows)
    achieved                       = sum over ops of count x time_s (achieved rows) + dispatch_s x launches
                                     + host transfers (images and state in, actions out: roofline/transfers.py)

The rooflines are throughput bounds: no launch cost. The gap achieved - roofline (run ceilings; spec
when no run set) is split exactly, per op and call, from the timing model's parts of that shape
(compute c, memory m, burst round trips l, pipeline refills f, overlap credit o; model time
= c + m + l + f + o) and the roofline's t_compute, t_memory:

    tile padding            c - FLOP / design peak      (padded tiles, per-tile zero/finish passes)
    unoverlapped memory     m + l + o - max(0, t_memory - t_compute)
                            (memory the roofline hides behind compute, and every burst's round trip)
    pipeline refills        f  (every fill of the MAC and row-loop pipelines of the call, summed;
                            not "pipeline depth / clock", one pass, the batch-1 floor of one call)
    dispatch                dispatch_s x launches
    host transfers          the per-inference bo.syncs (a transfer run, else the model)
    other                   FLOP / design peak - t_compute (compute roof vs the design's peak),
                            elementwise loop cycles (c - t_compute), run - model (ops timed by a run)

each x count, summed over ops. Terms are signed: a model faster than the roofline's memory term
gives a negative one.
"""
from __future__ import annotations

from harness.roofline.ceilings import row_dtype, run_dispatch_s
from harness.roofline.classify import op_times
from harness.roofline.fusion import chains
from harness.workload.smolvla import Op

COMPONENTS = [
    ("tile_padding_s", "tile padding", "compute cycles beyond the useful MACs at the design's peak: padded "
     "tiles (a 50-row op in a larger tile computes the whole tile) and the per-tile zero and finish passes"),
    ("unoverlapped_memory_s", "unoverlapped memory latency", "memory time the roofline overlaps with compute, "
     "and the first-word round trip of every row burst"),
    ("pipeline_refills_s", "pipeline refills", "every fill of the MAC and row-loop pipelines in a call, "
     "summed (not pipeline depth / clock, which is one pass)"),
    ("dispatch_s", "dispatch", "launches x dispatch per launch"),
    ("host_transfers_s", "host transfers", "the per-inference syncs of a batch-1 pipeline: camera images and "
     "robot state to the card, the action chunk back"),
    ("other_s", "other", "compute roof vs the design's peak, elementwise loop cycles, run vs model"),
]


def launches(workload) -> tuple[int, int]:
    """(launches per inference, launches with every GEMM epilogue fused)."""
    n = sum(o.launches for o in workload.ops)
    fused = n - sum(o.launches for ch in chains(workload) for o in ch[1:])
    return n, fused


def gap_breakdown(workload, conv, achieved, roof_set, dispatch, n_launches: int, transfers=None) -> dict:
    """The gap achieved - roofline under `roof_set`, split into COMPONENTS (seconds per inference)."""
    tot = {k: 0.0 for k, *_ in COMPONENTS}
    other = {"compute_roof_vs_design_s": 0.0, "elementwise_loop_s": 0.0, "run_vs_model_s": 0.0,
             "your_kernels_s": 0.0}
    depth = []
    for op in workload.ops:
        t = achieved.op(op)
        x = op_times(op, conv, roof_set)
        if t.kernel_source:                  # your kernel: no model parts, its whole distance from the roof
            other["your_kernels_s"] += op.count * (t.time_s - x["time_s"])
            continue
        p = t.parts or {}
        c, m = p.get("compute_s", 0.0), p.get("memory_s", 0.0)
        rt, f, ov = p.get("roundtrip_s", 0.0), p.get("refills_s", 0.0), p.get("overlap_s", 0.0)
        t_c, t_m = x["t_compute"], x["t_memory"]
        n = op.count
        if op.kind in ("gemm", "attention") and t.kernel_peak_GFLOPps:
            t_peak = op.flop / (t.kernel_peak_GFLOPps * 1e9)
            tot["tile_padding_s"] += n * (c - t_peak)
            other["compute_roof_vs_design_s"] += n * (t_peak - t_c)
        else:
            other["elementwise_loop_s"] += n * (c - t_c)
        tot["unoverlapped_memory_s"] += n * (m + rt + ov - max(0.0, t_m - t_c))
        tot["pipeline_refills_s"] += n * f
        if t.model_time_s is not None:
            other["run_vs_model_s"] += n * (t.time_s - t.model_time_s)
        if t.pipeline_depth_s:
            depth.append(t.pipeline_depth_s)
    tot["dispatch_s"] = dispatch.value * n_launches
    tot["host_transfers_s"] = transfers.value if transfers is not None else 0.0
    tot["other_s"] = sum(other.values())
    return {"against": roof_set.key, **tot, "other": other,
            "pipeline_depth_s_max": max(depth) if depth else None}


def gap_components(gap: dict, dispatch, model_detail: str, transfers=None) -> list[dict]:
    """The components as rows with figure and source, for the report and the terminal."""
    out = []
    for key, name, what in COMPONENTS:
        if key == "dispatch_s":
            src = dispatch.tag
            detail = f"{dispatch.name}: {dispatch.detail}"
        elif key == "host_transfers_s":
            if transfers is None:
                continue
            src = transfers.tag
            detail = f"{transfers.name}: {transfers.detail}"
        elif key == "other_s":
            src = "model and runs"
            o = gap["other"]
            detail = (f"compute roof vs the design's peak {o['compute_roof_vs_design_s'] * 1e3:,.1f} ms, "
                      f"elementwise loop cycles {o['elementwise_loop_s'] * 1e3:,.1f} ms, "
                      f"run vs model {o['run_vs_model_s'] * 1e3:,.1f} ms"
                    + (f", your kernels vs their roofline times {o['your_kernels_s'] * 1e3:,.1f} ms"
                       if o.get("your_kernels_s") else ""))
        else:
            src = "model"
            detail = model_detail
        out.append({"key": key, "name": name, "value_s": gap[key], "source": src, "what": what, "detail": detail})
    return out


def shape_gaps(latency_runs, achieved, conv_for, sets, workload=None) -> list[dict]:
    """Each GEMM shape of the latency runs: run median, launch cost, kernel time, rooflines, the model's parts."""
    names: dict = {}
    for o in (workload.ops if workload is not None else []):
        if o.kind == "gemm":
            names.setdefault((o.M, o.K, o.N), []).append(o.name)
    out = []
    for r in latency_runs:
        s = r.verified_summary()
        if "kind" not in s.columns:
            continue
        cost = run_dispatch_s(r)
        prov = r.provenance()
        for _, row in s[s["kind"].astype(str) == "gemm"].iterrows():
            d = row_dtype(r, row)
            M, K, N = int(row["M"]), int(row["K"]), int(row["N"])
            op = Op("", f"{M}x{K}x{N}", "gemm", M, K, N, 1, 1, 2 * M * K * N, K * N, M * K, M * N)
            med = float(row["time_s_median"])
            g = {"dtype": d, "M": M, "K": K, "N": N, "workload_op": ", ".join(names.get((M, K, N), [])),
                 "time_s_median": med, "launch_cost_s": cost,
                 "kernel_time_s": med - cost if cost is not None else None, **prov,
                 "detail": f"run {r.run_id}" + (", emulated" if prov["emulated"] else "")}
            for cs in sets:
                g[f"roofline_{cs.key}_s"] = op_times(op, conv_for(d), cs)["time_s"]
            m = achieved.model_gemm(M, K, N) if (achieved is not None and d == achieved.precision) else None
            if m is not None:
                g.update({"model_time_s": m.model_time_s, "pipeline_depth_s": m.pipeline_depth_s,
                          "pipeline_refills_s": m.parts.get("refills_s"),
                          "tile_padding_s": m.parts.get("compute_s", 0.0) - op.flop / (m.kernel_peak_GFLOPps * 1e9)
                          if m.kernel_peak_GFLOPps else None,
                          "memory_and_roundtrips_s": m.parts.get("memory_s", 0.0) + m.parts.get("roundtrip_s", 0.0)})
            out.append(g)
    return out
