"""GEMM + epilogue (bias, activation) with and without fusion.

Unfused: the GEMM writes C to HBM, the bias op reads C and writes C', the activation reads C' and
writes the output: every op moves its own bytes and is its own launch. Fused: C stays on chip; the
GEMM kernel reads A, B and the bias vector and writes the output once, in one launch. Bytes follow
the one byte convention (harness.workload.precision.ByteConvention): operands and the bias at the
element type, outputs at the kernel's out_t.

Per chain and call: the roofline times under a ceiling set (unfused: the sum of the chain's op times,
each under its kind's roof; fused: the GEMM's FLOPs at the GEMM roof plus the epilogue's at the
elementwise roof, an upper bound, against the fused streams through the GEMM kernel's ports) and the
achieved times (per-shape: a run's fused and unfused points where they cover the shape, else the
timing model), with the launches saved at the analysis' dispatch figure.
"""
from __future__ import annotations

from harness.roofline.achieved import model_epilogue, norm_epilogue
from harness.roofline.ceilings import CeilingSet
from harness.roofline.classify import op_times
from harness.roofline import platform as plat
from harness.workload.precision import ByteConvention, output_bytes


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


def epilogue_of(chain) -> str:
    return "+".join(o.ew for o in chain[1:])


def fused_streams(chain, conv) -> dict[str, int]:
    """Streams of one fused call through the GEMM kernel's ports: A, B, the bias vector, the output."""
    c = ByteConvention.of(conv)
    g = chain[0]
    params = sum(o.weight_elems for o in chain[1:])
    return {"A": g.M * g.K * c.operand_bytes, "B": g.K * g.N * c.operand_bytes,
            "bias": params * c.operand_bytes, "C": chain[-1].out_elems * c.output_bytes}


def chain_bytes(chain, conv) -> tuple[int, int]:
    """(unfused, fused) bytes of one call of a GEMM + epilogue chain."""
    return sum(o.bytes(conv) for o in chain), sum(fused_streams(chain, conv).values())


def fused_roofline_time(chain, conv, cs: CeilingSet) -> tuple[str, float]:
    """(bound, time_s) of one fused call under `cs`."""
    t_comp = chain[0].flop / (cs.compute.value * 1e9) + sum(o.flop for o in chain[1:]) / (cs.ew_compute.value * 1e9)
    t_mem = cs.streams_time("gemm", fused_streams(chain, conv))[0]
    return ("memory" if t_mem > t_comp else "compute"), max(t_mem, t_comp)


def unfused_roofline_time(chain, conv, cs: CeilingSet) -> float:
    return sum(op_times(o, conv, cs)["time_s"] for o in chain)


def fusion_table(workload, conv, cs: CeilingSet, achieved, dispatch) -> list[dict]:
    """Per chain: bytes, OI, roofline and achieved times unfused and fused, and the saving."""
    rows = []
    for ch in chains(workload):
        g = ch[0]
        flop = sum(o.flop for o in ch)
        ub, fb = chain_bytes(ch, conv)
        saved_launches = len(ch) - 1           # per call: the epilogue ops' own launches
        r_un = unfused_roofline_time(ch, conv, cs)
        bound_f, r_f = fused_roofline_time(ch, conv, cs)
        row = {
            "name": g.name, "stage": g.stage, "epilogue": epilogue_of(ch), "M": g.M, "K": g.K, "N": g.N,
            "count": g.count, "flop": flop, "unfused_bytes": ub, "fused_bytes": fb,
            "unfused_oi_FLOPpB": flop / ub, "fused_oi_FLOPpB": flop / fb,
            "ceiling_set": cs.key, "roofline_unfused_time_s": r_un, "roofline_fused_time_s": r_f,
            "roofline_fused_bound": bound_f, "launches_saved": saved_launches,
            "dispatch_s": dispatch.value,
        }
        if achieved is not None:
            un = [achieved.design_op(o) for o in ch]      # the design's, like the fused side
            fu = achieved.fused(g, epilogue_of(ch))
            a_un = sum(t.time_s for t in un)
            saved = a_un - fu.time_s + saved_launches * dispatch.value
            srcs = sorted({t.tag for t in un + [fu]})
            runs = sorted({t.run_id for t in un + [fu] if t.run_id})
            row.update({"achieved_unfused_time_s": a_un, "achieved_fused_time_s": fu.time_s,
                        "fused_source": fu.tag, "fused_detail": fu.detail,
                        "achieved_saved_s": saved, "achieved_saved_total_s": saved * g.count,
                        "sources": ", ".join(srcs), "run_ids": ", ".join(runs)})
        rows.append(row)
    return rows


def run_pairs(gemm_runs) -> dict:
    """(dtype, M, K, N, epilogue) -> unfused - fused median time of a gemm run, with its source."""
    out = {}
    for r in gemm_runs:
        s = r.verified_summary()
        if "path" not in s.columns or "time_s_median" not in s.columns:
            continue
        prov = r.provenance()
        groups = {}
        for _, row in s.iterrows():
            d = row.get("dtype") if "dtype" in s.columns else None
            d = r.dtype if d is None or (isinstance(d, float) and d != d) else str(d)
            key = (d, int(row["M"]), int(row["K"]), int(row["N"]), norm_epilogue(row.get("epilogue")))
            groups.setdefault(key, {})[str(row["path"])] = float(row["time_s_median"])
        for key, paths in groups.items():
            if "fused" in paths and "unfused" in paths:
                out[key] = {"saved_s": paths["unfused"] - paths["fused"],
                            "fused_time_s": paths["fused"], "unfused_time_s": paths["unfused"],
                            "run": r.run_id, **prov,
                            "detail": f"run {r.run_id}" + (", emulated" if prov["emulated"] else "")}
    return out


def run_pair_table(gemm_runs, platform, design_for, dispatch) -> list[dict]:
    """Every fused-vs-unfused pair of the gemm runs beside the timing model's saving for that shape.

    The kernels' unfused path is gemm then bias_gelu (two launches); the model's saving is
    (gemm without epilogue + the bias_gelu pass) - gemm with the epilogue + one dispatch."""
    rows = []
    for (d, M, K, N, epi), m in sorted(run_pairs(gemm_runs).items()):
        row = {"dtype": d, "M": M, "K": K, "N": N, "epilogue": epi, "run_saved_s": m["saved_s"],
               "run_fused_time_s": m["fused_time_s"], "run_unfused_time_s": m["unfused_time_s"],
               "run_id": m["run"], "source": m["source"], "emulated": m["emulated"], "detail": m["detail"],
               "model_saved_s": None}
        design = design_for(d)
        kepi, _ = model_epilogue(epi)
        if design is not None and kepi != "none":
            cus = design.cu_count("gemm")
            g0 = plat.predict_gemm(platform, dtype=d, M=M, K=K, N=N, params=design.params,
                                   clock_mhz=design.clock_mhz, cus=cus).time_s
            gf = plat.predict_gemm(platform, dtype=d, M=M, K=K, N=N, epilogue=kepi, params=design.params,
                                   clock_mhz=design.clock_mhz, cus=cus).time_s
            ew = plat.predict_elementwise(platform, M=M, N=-(-N // design.cu_count("bias_gelu")),
                                          elem_bytes=output_bytes(d), epilogue=kepi, params=design.params,
                                          clock_mhz=design.clock_mhz).time_s
            row["model_saved_s"] = g0 + ew - gf + dispatch.value
        rows.append(row)
    return rows
