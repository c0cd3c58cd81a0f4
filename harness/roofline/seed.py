"""The rejected seed analysis, reproduced with its own assumptions, then corrected.

Seed assumptions (harness/docs/critique.md; device figures: harness/docs/published-measurements.md):
16-bit operands (2 B), 460 GB/s HBM peak, 5,410 GFLOP/s = 9,024 DSP x 1 MAC/DSP
x 2 FLOP x 300 MHz, ridge 11.8 FLOP/B; with its "realistic" 300 GB/s, ridge 18.
Corrections: operands at the kernel's element type (fp32 in the seed's code:
every OI halves), the compute ceiling of that element type, and the measured
(or modeled) bandwidth instead of the spec sheet.
"""
from __future__ import annotations

from harness.figures import Figure
from harness.roofline import platform as plat
from harness.roofline.classify import roofline_time
from harness.workload.precision import element_bytes
from harness.roofline.ceilings import Ceiling, CeilingSet, source_tag

SEED_OPERAND = "fp16"              # the seed's "16-bit precision (2 bytes per element)"
SEED_DERATED_GBps = Figure(
    "seed 'realistic' bandwidth", 300.0, "GB/s", "assumption",
    "harness/docs/critique.md: 'Add a Realistic Bandwidth line to your plot (e.g., at 300 GB/s)'")


def seed_compute(platform) -> Figure:
    """The seed's compute peak: one MAC per DSP (a 16-bit fixed-point peak) at 300 MHz."""
    f = platform.spec_compute_GFLOPps("fx16")
    if platform.macs_per_dsp("fx16").value != 1 or platform.clock_mhz.value != 300:
        # the platform data differs from the seed's arithmetic: apply the seed's figures (model)
        f = platform.spec_compute_GFLOPps("fx16", clock_mhz=300, macs_per_dsp=1)
    return Figure("seed compute peak (16-bit, 1 MAC/DSP)", f.value, f.unit, f.source,
                  f"{f.detail}; the seed's '5,410 GFLOP/s'")


def compare(analysis) -> dict:
    """Seed figures and corrected figures for the workload of an Analysis."""
    platform = plat.load_platform(analysis.platform_name)
    wl = analysis.workload
    ceil = analysis.ceilings
    comp16 = seed_compute(platform)
    mem = plat.hbm_peak(platform)
    p = analysis.precision.precision
    fp = ceil.spec.compute.figure                   # the corrected element type's spec compute
    rs = ceil.run_set
    if rs is not None:
        bw = rs.memory.figure
        comp = rs.compute.figure          # GEMM-kind ops
        comp_ew = rs.ew_compute.figure    # elementwise ops: the spec compute of the element type
    else:
        bw = mem
        comp = comp_ew = fp
    seed = {
        "operand": SEED_OPERAND, "operand_bytes": 2,
        "compute": comp16.to_dict(), "memory": mem.to_dict(),
        "ridge_FLOPpB": comp16.value / mem.value,
        "derated_memory": SEED_DERATED_GBps.to_dict(),
        "derated_ridge_FLOPpB": comp16.value / SEED_DERATED_GBps.value,
    }
    corrected = {
        "operand": p, "operand_bytes": element_bytes(p), "operand_origin": analysis.precision.origin,
        "compute_spec": fp.to_dict(), "compute": comp.to_dict(), "compute_elementwise": comp_ew.to_dict(),
        "memory": bw.to_dict(),
        "ridge_FLOPpB": comp.value / bw.value,
        "ceilings": rs.key if rs else "spec",
        "nothing_measured": analysis.nothing_measured,
        "no_runs": not analysis.runs,
    }
    seed_set = CeilingSet("seed", "seed", Ceiling("memory.spec", "memory", mem),
                          Ceiling("compute.seed", "compute", comp16), ceil.spec.dispatch)
    corr_set = CeilingSet("corrected", "corrected", Ceiling("memory.c", "memory", bw),
                          Ceiling("compute.c", "compute", comp), ceil.spec.dispatch,
                          compute_elementwise=Ceiling("compute.c.ew", "compute", comp_ew))
    ops = []
    if wl is not None:
        for o in wl.ops:
            oi16 = o.oi(SEED_OPERAND)
            oip = o.oi(p)
            ops.append({
                "stage": o.stage, "name": o.name, "kind": o.kind,
                "seed_oi_FLOPpB": oi16, "corrected_oi_FLOPpB": oip, "oi_ratio": oi16 / oip,
                "seed_bound": roofline_time(o.flop, o.bytes(SEED_OPERAND), seed_set, o.kind)[1],
                "corrected_bound": roofline_time(o.flop, o.bytes(p), corr_set, o.kind)[1],
            })
        t16, tp = wl.totals(SEED_OPERAND)["overall"], wl.totals(p)["overall"]
        seed["inference_oi_FLOPpB"] = t16["oi_FLOPpB"]
        corrected["inference_oi_FLOPpB"] = tp["oi_FLOPpB"]
        seed["compute_bound_ops"] = sum(1 for x in ops if x["seed_bound"] == "compute")
        corrected["compute_bound_ops"] = sum(1 for x in ops if x["corrected_bound"] == "compute")
    return {"seed": seed, "corrected": corrected, "ops": ops, "warnings": analysis.warnings}


def format_text(cmp: dict) -> str:
    s, c = cmp["seed"], cmp["corrected"]

    def fig(d):
        src = source_tag(d)
        return f"{d['value']:,.1f} {d['unit']} ({src}: {d['detail']})"
    L = ["The seed analysis (rejected), reproduced with its own assumptions, beside the corrected figures", ""]

    def pair(what, a, b):
        L.append(what)
        L.append(f"  seed:      {a}")
        if b is not None:
            L.append(f"  corrected: {b}")
    pair("operands", "16-bit, 2 B/element (assumption: 'We assume 16-bit precision')",
         f"{c['operand']}, {c['operand_bytes']} B/element ({c['operand_origin']})")
    pair("compute ceiling (GEMM, attention)", fig(s["compute"]), fig(c["compute"]))
    if c["compute_elementwise"] != c["compute"]:
        pair("compute ceiling (elementwise ops)", fig(s["compute"]), fig(c["compute_elementwise"]))
    pair("memory ceiling", fig(s["memory"]), fig(c["memory"]))
    pair("ridge (FLOP/B)", f"{s['ridge_FLOPpB']:.1f}", f"{c['ridge_FLOPpB']:.1f}")
    pair("derated memory, ridge", f"{fig(s['derated_memory'])}; ridge {s['derated_ridge_FLOPpB']:.1f} FLOP/B", None)
    pair(f"spec compute at {c['operand']}", "-", fig(c["compute_spec"]))
    if "inference_oi_FLOPpB" in s:
        pair("OI of one inference (FLOP/B)", f"{s['inference_oi_FLOPpB']:.2f}", f"{c['inference_oi_FLOPpB']:.2f}")
        pair("compute-bound ops", str(s["compute_bound_ops"]), str(c["compute_bound_ops"]))
    if c["no_runs"]:
        L.append("nothing was measured: the corrected bandwidth is the spec figure; pass memcpy and gemm runs")
    elif c["nothing_measured"]:
        L.append("nothing was measured: the runs given are emulated, so the corrected figures taken from them "
                 "are model figures ('emulated (model)')")
    if cmp["ops"]:
        L += ["", f"{'op':<30} {'OI 16-bit':>10} {'OI ' + c['operand']:>10} {'ratio':>6}  seed -> corrected bound"]
        for o in cmp["ops"]:
            mark = "  <- changes" if o["seed_bound"] != o["corrected_bound"] else ""
            L.append(f"{o['name']:<30} {o['seed_oi_FLOPpB']:>10.2f} {o['corrected_oi_FLOPpB']:>10.2f} "
                     f"{o['oi_ratio']:>6.2f}  {o['seed_bound']} -> {o['corrected_bound']}{mark}")
    return "\n".join(L)
