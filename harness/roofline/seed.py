"""The rejected seed analysis, point by point: each figure of the critique beside the op it comes
from and its corrected value.

Seed assumptions (harness/docs/critique.md; device figures: harness/docs/published-measurements.md):
every element 2 B, 460 GB/s HBM peak, 5,414 ("5,410") GFLOP/s = 9,024 DSP x 1 MAC/DSP x 2 FLOP x
300 MHz, ridge 11.8 ("~11.7"); with the review's "realistic" 300 GB/s, ridge 18. Its "OI ~44" is the
action expert's M = 50 projection 50x720x960 (expert.attn.q; expert.attn.o, 50x960x720, has the same
OI) at 2 B: 44.6 FLOP/B; at fp32, 22.3 ("OI ~22").
Corrections: bytes in the kernel's byte convention (fp32 in the seed's code), the spec compute of
that element type from the DSPs available to kernels, and the kernel's own ports (the bytes of a
GEMM go through its A, B and C ports, each on its PCs).
"""
from __future__ import annotations

from harness.figures import Figure
from harness.roofline import fmt
from harness.roofline import platform as plat
from harness.roofline.ceilings import Ceiling, CeilingSet
from harness.roofline.classify import op_times, set_rows
from harness.roofline.ports import PortModel
from harness.workload.precision import ByteConvention

SEED_CONV = ByteConvention.uniform(2, "16-bit (seed)")   # "We assume 16-bit precision (2 bytes per element)"
SEED_SHAPE = (50, 720, 960)                              # the op behind "OI ~44"
SEED_DERATED_GBps = Figure(
    "seed 'realistic' bandwidth", 300.0, "GB/s", "assumption",
    "harness/docs/critique.md: 'Add a Realistic Bandwidth line to your plot (e.g., at 300 GB/s)'")


def seed_compute(platform) -> Figure:
    """The seed's compute peak: one MAC per DSP (a 16-bit fixed-point peak), every DSP, 300 MHz."""
    f = plat.device_compute(platform, "fx16")
    if platform.macs_per_dsp("fx16").value != 1 or platform.clock_mhz.value != 300:
        f = platform.spec_compute_GFLOPps("fx16", clock_mhz=300, macs_per_dsp=1)
    return Figure("seed compute peak (16-bit, 1 MAC/DSP, every DSP)", f.value, f.unit, f.source,
                  f"{f.detail}; the seed's '5,410 GFLOP/s'")


def _set(key, mem: Figure, comp: Figure, dispatch, ports=None) -> CeilingSet:
    return CeilingSet(key, key, Ceiling(f"memory.{key}", "memory", mem), Ceiling(f"compute.{key}", "compute", comp),
                      dispatch, ports=ports)


def compare(analysis) -> dict:
    """The critique's figures, each with its op, its seed value and its corrected values."""
    platform = plat.load_platform(analysis.platform_name)
    wl = analysis.workload
    ceil = analysis.ceilings
    p = analysis.precision.precision
    conv = analysis.convention
    comp16 = seed_compute(platform)
    mem = plat.hbm_peak(platform)
    fp = ceil.spec.compute.figure                     # the element type's spec compute (DSPs available)
    rs = ceil.run_set
    design = analysis.design
    if rs is not None and rs.ports is not None:
        ports, roof = rs.ports, rs.compute.figure
    else:
        pc = plat.hbm_pc_spec(platform)
        pcf = Figure("HBM one PC", pc.value, "GB/s", pc.source, pc.detail, document=pc.document)
        ports = PortModel(design.kernels, pcf, pcf, design.origin) if design is not None else None
        roof = (plat.design_peak(platform, dtype=p, params=design.params, clock_mhz=design.clock_mhz,
                                 origin=design.origin, cus=design.cu_count("gemm")) if design is not None else fp)
    seed = {"operand": SEED_CONV.name, "operand_bytes": 2, "compute": comp16.to_dict(), "memory": mem.to_dict(),
            "ridge_FLOPpB": comp16.value / mem.value, "derated_memory": SEED_DERATED_GBps.to_dict(),
            "derated_ridge_FLOPpB": comp16.value / SEED_DERATED_GBps.value}
    corrected = {"operand": p, "operand_bytes": conv.operand_bytes, "output_bytes": conv.output_bytes,
                 "operand_origin": analysis.precision.origin, "compute_spec": fp.to_dict(),
                 "compute_design": roof.to_dict(), "memory": mem.to_dict(),
                 "ridge_FLOPpB": fp.value / mem.value, "ridge_300_FLOPpB": fp.value / SEED_DERATED_GBps.value,
                 "ceilings": rs.key if rs else "spec", "nothing_measured": analysis.nothing_measured,
                 "no_runs": not analysis.runs}
    points, ops = [], []
    if wl is not None:
        M, K, N = SEED_SHAPE
        same = [o for o in wl.ops if o.kind == "gemm" and (o.M, o.K, o.N) == SEED_SHAPE]
        twins = [o for o in wl.ops if o.kind == "gemm" and (o.M, o.K, o.N) == (M, N, K)]
        op = same[0] if same else None
        if op is not None:
            oi16, oip = op.oi(SEED_CONV), op.oi(conv)
            port_set = _set("ports", Figure("x", 1.0, "GB/s", "assumption", "unused"), fp, ceil.spec.dispatch,
                            ports=ports)
            t_mem, where, pcf = port_set.memory_time(op, conv) if ports is not None else (None, "", None)
            eff = op.bytes(conv) / t_mem / 1e9 if t_mem else None
            share = (max(op.streams(conv).values()) / op.bytes(conv))
            names = ", ".join(o.name for o in same)
            twin = f"; {', '.join(o.name for o in twins)} ({M}x{N}x{K}) has the same OI" if twins else ""
            what = f"{names} ({M}x{K}x{N}){twin}"
            ridge_ports_spec = fp.value / eff if eff else None
            ridge_ports_design = roof.value / eff if eff else None
            points = [
                {"figure": "OI ~44", "seed_value": oi16, "op": what,
                 "how": "2 x M x K x N / (2 B x (K N + M K + M N))",
                 "corrected": [(f"OI at {p} ({conv.describe()})", oip)]},
                {"figure": "ridge ~11.7", "seed_value": seed["ridge_FLOPpB"], "op": "the card",
                 "how": f"{fmt.num(comp16.value)} GFLOP/s / {fmt.num(mem.value)} GB/s",
                 "corrected": [(f"{p} compute {fmt.num(fp.value)} GFLOP/s (DSPs available to kernels) / "
                                f"{fmt.num(mem.value)} GB/s", corrected["ridge_FLOPpB"]),
                               (f"{p} compute / 300 GB/s", corrected["ridge_300_FLOPpB"])]
                 + ([(f"{p} compute / the op's bandwidth through the GEMM kernel's ports ({fmt.num(eff)} GB/s, "
                      f"bottleneck {where})", ridge_ports_spec),
                     (f"the GEMM design's peak {fmt.num(roof.value)} GFLOP/s ({roof.tag}) / the same port "
                      "bandwidth", ridge_ports_design)] if eff else [])},
                {"figure": "OI ~22", "seed_value": op.oi(ByteConvention.uniform(4, "4 B")), "op": what,
                 "how": "the same op at 4 B per element",
                 "corrected": [(f"OI at {p} ({conv.describe()})", oip)]},
                {"figure": "ridge ~18", "seed_value": seed["derated_ridge_FLOPpB"], "op": "the card",
                 "how": f"{fmt.num(comp16.value)} GFLOP/s / 300 GB/s (the review kept the 16-bit compute)",
                 "corrected": [(f"{p} compute / 300 GB/s", corrected["ridge_300_FLOPpB"])]},
            ]
            t_c_spec = op.flop / (fp.value * 1e9)
            verdict = []
            verdict.append(
                f"{what}: OI {fmt.num(oip)} FLOP/B at {p}, not {fmt.num(oi16)}. On the card's spec roofline "
                f"({p} compute from the DSPs available to kernels) the ridge is {fmt.num(corrected['ridge_FLOPpB'])} "
                f"FLOP/B at 460 GB/s and {fmt.num(corrected['ridge_300_FLOPpB'])} at 300 GB/s: the op is "
                f"compute-bound by {fmt.num(oip / corrected['ridge_300_FLOPpB'])}x, not 'close to the memory wall' - "
                "the review divided the 16-bit compute peak by the bandwidth.")
            if eff:
                verdict.append(
                    f"But one GEMM call moves {100 * share:.0f}% of its bytes through one port ({where}): at the "
                    f"kernel's ports it gets {fmt.num(eff)} GB/s, so against the {p} spec compute it is memory-bound "
                    f"by {fmt.num(max(t_mem / t_c_spec, 0))}x (ridge {fmt.num(ridge_ports_spec)}); against the "
                    f"design's own peak ({fmt.num(roof.value)} GFLOP/s) it is "
                    + ("memory" if oip < ridge_ports_design else "compute")
                    + f"-bound (ridge {fmt.num(ridge_ports_design)}).")
            corrected["conclusion"] = " ".join(verdict)
            corrected["port_bandwidth_GBps"] = eff
            corrected["port_bottleneck"] = where
        t16, tp = wl.totals(SEED_CONV)["overall"], wl.totals(conv)["overall"]
        seed["inference_oi_FLOPpB"] = t16["oi_FLOPpB"]
        corrected["inference_oi_FLOPpB"] = tp["oi_FLOPpB"]
        seed_set = _set("seed", mem, comp16, ceil.spec.dispatch)
        corr_set = CeilingSet("corrected", "corrected", ceil.spec.memory, ceil.spec.compute, ceil.spec.dispatch)
        for o in wl.ops:
            ops.append({"stage": o.stage, "name": o.name, "kind": o.kind,
                        "seed_oi_FLOPpB": o.oi(SEED_CONV), "corrected_oi_FLOPpB": o.oi(conv),
                        "oi_ratio": o.oi(SEED_CONV) / o.oi(conv),
                        "seed_bound": op_times(o, SEED_CONV, seed_set)["bound"],
                        "corrected_bound": op_times(o, conv, corr_set)["bound"]})
        seed["compute_bound_ops"] = sum(1 for x in ops if x["seed_bound"] == "compute")
        corrected["compute_bound_ops"] = sum(1 for x in ops if x["corrected_bound"] == "compute")
    return {"seed": seed, "corrected": corrected, "points": points, "ops": ops,
            "warnings": analysis.warnings, "notices": analysis.notices}


def format_text(cmp: dict) -> str:
    s, c = cmp["seed"], cmp["corrected"]

    def fig(d):
        tag = "emulated (model)" if d.get("emulated") else d["source"]
        return f"{fmt.num(d['value'])} {d['unit']} ({tag})"
    L = ["The seed analysis (rejected), point by point: each figure of the critique, the op it comes from, "
         "and its corrected value", ""]
    for pt in cmp["points"]:
        L.append(f"{pt['figure']}: {fmt.num(pt['seed_value'])} - {pt['op']}; {pt['how']}")
        for what, v in pt["corrected"]:
            L.append(f"    corrected: {fmt.num(v)}  ({what})")
    if "inference_oi_FLOPpB" in s:
        L.append(f"whole inference OI: {fmt.num(s['inference_oi_FLOPpB'])} FLOP/B at 2 B, "
                 f"{fmt.num(c['inference_oi_FLOPpB'])} at {c['operand']}")
        L.append(f"compute-bound ops (spec roofline): seed {s['compute_bound_ops']}, corrected "
                 f"{c['compute_bound_ops']} of {len(cmp['ops'])}")
    L.append("")
    L.append(f"seed ceilings: {fig(s['compute'])}, {fig(s['memory'])}, ridge {fmt.num(s['ridge_FLOPpB'])}; "
             f"with {fig(s['derated_memory'])}, ridge {fmt.num(s['derated_ridge_FLOPpB'])}")
    L.append(f"corrected: {c['operand']} ({c['operand_origin']}); spec compute {fig(c['compute_spec'])}; "
             f"GEMM compute roof {fig(c['compute_design'])}")
    if c.get("conclusion"):
        L += ["", "Corrected conclusion: " + c["conclusion"]]
    if c["no_runs"]:
        L.append("nothing was measured: port bandwidths are the spec figure of one PC; pass memcpy runs")
    elif c["nothing_measured"]:
        L.append("nothing was measured: the runs given are emulated, so figures taken from them are model "
                 "figures ('emulated (model)')")
    return "\n".join(L)


def markdown(cmp: dict, image: str = "seed.png") -> str:
    s, c = cmp["seed"], cmp["corrected"]
    L = ["# The seed analysis, point by point", "",
         "Each figure of the rejected analysis and its review (harness/docs/critique.md), the op it comes from, "
         "and its corrected value.", "", f"[![the seed's roofline beside the corrected one]({image})]({image})", "",
         "| critique's figure | value | op | how | corrected |", "|---|---|---|---|---|"]
    for pt in cmp["points"]:
        corr = "; ".join(f"{fmt.num(v)} ({w})" for w, v in pt["corrected"])
        L.append(f"| {pt['figure']} | {fmt.num(pt['seed_value'])} | {pt['op']} | {pt['how']} | {corr} |")
    L.append("")
    if c.get("conclusion"):
        L += ["**Corrected conclusion.** " + c["conclusion"], ""]
    if "inference_oi_FLOPpB" in s:
        L += [f"The whole inference: {fmt.num(s['inference_oi_FLOPpB'])} FLOP/B at 2 B, "
              f"{fmt.num(c['inference_oi_FLOPpB'])} at {c['operand']}.", ""]
    return "\n".join(L)


def draw(analysis, cmp):
    """The seed's roofline (rejected) beside the corrected one."""
    from harness.roofline.plot import Panel, figure
    platform = plat.load_platform(analysis.platform_name)
    ceil = analysis.ceilings
    wl = analysis.workload
    mem = Ceiling("memory.spec", "memory", plat.hbm_peak(platform))
    m300 = Ceiling("memory.seed300", "memory", SEED_DERATED_GBps)
    c16 = Ceiling("compute.seed", "compute", seed_compute(platform))
    seed_set = CeilingSet("seed", "seed", mem, c16, ceil.spec.dispatch)
    corr = ceil.spec
    seed_rows = set_rows(wl, SEED_CONV, seed_set)
    corr_rows = set_rows(wl, analysis.convention, corr)
    d = cmp["corrected"].get("compute_design")
    comps = [corr.compute]
    if d:
        comps.append(Ceiling("compute.design", "compute", Figure(**{k: d[k] for k in (
            "name", "value", "unit", "source", "detail", "run_id", "emulated", "document")})))
    mems = [mem, m300]
    bw = cmp["corrected"].get("port_bandwidth_GBps")
    if bw:
        mems.append(Ceiling("memory.pc.seed", "memory", Figure(
            f"GEMM ports, {cmp['points'][0]['op'].split(' ')[0]}", bw, "GB/s", "model",
            f"its bytes / its time through the ports ({cmp['corrected']['port_bottleneck']})")))
    op = cmp["points"][0]["op"].split(" ")[0] if cmp["points"] else None
    hl = [(op, f"OI ~44: {op}")] if op else []
    hl2 = [(op, f"OI {fmt.num(cmp['points'][0]['corrected'][0][1])}: {op}")] if op else []
    pans = [Panel(f"the seed (rejected): 2 B per element, 9,024 DSPs x 1 MAC, ridge {cmp['seed']['ridge_FLOPpB']:.1f} "
                  "FLOP/B", [mem, m300], [c16], mem, c16, seed_rows, highlight=hl),
            Panel(f"corrected: {analysis.precision.precision} bytes, {corr.compute.figure.name} from the DSPs "
                  f"available, ridge {corr.ridge_FLOPpB:.1f} FLOP/B", mems, comps, mem, corr.compute,
                  corr_rows, highlight=hl2)]
    return figure(pans, "The seed's roofline beside the corrected one", "smolVLA, batch 1; ops at their roofline "
                  "bound under each panel's ceilings")
