"""The answers first: the `summary` object of roofline.json and the headline lines the terminal and
the report open with (element type, bound shares, the three latencies, fusion, what each roof is)."""
from __future__ import annotations

from harness.roofline import fmt
from harness.roofline.classify import bound_shares
from harness.roofline.ceilings import short_name
from harness.figures import tag_of


def _runs_of(rows) -> list[str]:
    return sorted({r["run_id"] for r in rows if r.get("run_id")})


def _roof(c) -> dict:
    f = c.figure
    return {"key": c.key, "value": f.value, "unit": f.unit, "source": f.tag, "detail": f.detail,
            "run_id": f.run_id, "document": f.document, "name": f.name}


def build_summary(pc, conv, ceil, rows, lat, fusion, dispatch, runs, placed: bool) -> dict:
    run_ids = [r.run_id for r in runs]
    gemm_ids = [i for d, ids in pc.kernel_dtypes.items() if d == pc.precision for i in ids]
    s = {"element_type": pc.precision, "element_type_origin": pc.origin,
         "byte_convention": conv.describe(), "timed_on_card": any(not r.emulated for r in runs),
         "compute_bound_time_share": {}, "memory_bound_time_share": {},
         "latency_roofline_spec_s": None, "latency_roofline_runs_s": None, "latency_achieved_s": None,
         "fusion_saving_s": None, "dispatch_s": dispatch.value, "launches": None, "launches_fused": None,
         "roofs": {cs.key: {"memory": _roof(cs.memory), "memory_per_port": cs.ports is not None,
                            "compute": _roof(cs.compute), "compute_elementwise": _roof(cs.ew_compute),
                            "dispatch": {"value": cs.dispatch.value, "source": cs.dispatch.tag,
                                         "detail": cs.dispatch.detail, "run_id": cs.dispatch.run_id}}
                   for cs in ceil.sets()}}
    src = {
        "element_type": {"source": "runs" if gemm_ids and pc.origin.startswith("auto") else
                         ("given" if not pc.origin.startswith("auto") else "assumption"),
                         "detail": pc.origin, "run_ids": gemm_ids},
        "dispatch_s": {"source": dispatch.tag, "detail": f"{dispatch.name}: {dispatch.detail}",
                       "run_ids": [dispatch.run_id] if dispatch.run_id else []},
    }
    if placed:
        by = {}
        for r in rows:
            by.setdefault(r["ceiling_set"], []).append(r)
        for k, rs in by.items():
            sh = bound_shares(rs)
            s["compute_bound_time_share"][k] = sh.get("compute", 0.0)
            s["memory_bound_time_share"][k] = sh.get("memory", 0.0)
            if k == "achieved" and sh.get("latency"):
                s.setdefault("latency_bound_time_share", {})[k] = sh["latency"]
        src["compute_bound_time_share"] = {
            "source": "runs, spec and model", "detail": "share of the summed time of one inference's ops in "
            "compute-bound ops, per ceiling set; 'achieved': the timing model's class of each shape",
            "run_ids": _runs_of(rows)}
        s["latency_roofline_spec_s"] = lat.get("latency_roofline_spec_s")
        sp = ceil.spec
        src["latency_roofline_spec_s"] = {
            "source": "spec", "detail": f"sum of count x time under {sp.memory.figure.label()} and "
            f"{sp.compute.figure.label()}; no dispatch", "run_ids": []}
        rs = ceil.run_set
        s["latency_roofline_runs_s"] = lat.get("latency_roofline_runs_s")
        src["latency_roofline_runs_s"] = ({
            "source": short_name(rs.key), "detail": f"sum of count x time under the {rs.label}: memory per "
            f"kernel port ({rs.memory.figure.label()} per PC), GEMM compute {rs.compute.figure.label()}; "
            "no dispatch", "run_ids": sorted({f.run_id for f in rs.run_figures if f.run_id})}
            if rs is not None else {"source": None, "detail": "no run given", "run_ids": []})
        ach = [r for r in rows if r["ceiling_set"] == "achieved"]
        s["latency_achieved_s"] = lat.get("latency_achieved_s")
        n_run = sum(1 for r in ach if r["run_id"])
        src["latency_achieved_s"] = {
            "source": "runs and model" if n_run else "model",
            "detail": f"per-shape times x counts ({n_run} of {len(ach)} ops timed by runs, the rest by the "
            f"timing model) + dispatch x launches + host transfers", "run_ids": _runs_of(ach) +
            ([dispatch.run_id] if dispatch.run_id and dispatch.run_id not in _runs_of(ach) else [])}
        xf = lat.get("host_transfers")
        if xf:
            f = xf["figure"]
            s["host_transfers_s"] = f["value"]
            s["host_transfers_share"] = (f["value"] / s["latency_achieved_s"] if s["latency_achieved_s"] else None)
            src["host_transfers_s"] = {"source": tag_of(f), "detail": f["detail"],
                                       "run_ids": [f["run_id"]] if f.get("run_id") else []}
        s["launches"], s["launches_fused"] = lat.get("launches"), lat.get("launches_fused")
        src["launches"] = {"source": "model", "detail": "harness.workload: one launch per op call (attention: "
                           "one per layer); fused: every GEMM's bias and activation in its launch", "run_ids": []}
        saved = [f.get("achieved_saved_total_s") for f in fusion]
        if fusion and all(v is not None for v in saved):
            s["fusion_saving_s"] = sum(saved)
            srcs = sorted({x for f in fusion for x in f["sources"].split(", ") if x})
            src["fusion_saving_s"] = {"source": ", ".join(srcs), "detail": "per chain: achieved unfused - fused "
                                      "time + saved launches x dispatch, x count", "run_ids": sorted(
                                          {x for f in fusion for x in f["run_ids"].split(", ") if x})}
        mine = [r for r in ach if r.get("kernel_source")]
        if mine:
            roof_key = (ceil.run_set or ceil.spec).key
            roof = {r["name"]: r for r in rows if r["ceiling_set"] == roof_key}
            t_mine = sum(r["time_total_s"] for r in mine)
            t_roof = sum(roof[r["name"]]["time_total_s"] for r in mine)
            spec = {r["name"]: r for r in rows if r["ceiling_set"] == "spec"}
            t_spec = sum(spec[r["name"]]["time_total_s"] for r in mine)
            s["your_kernels"] = {"kernels": sorted({r["kernel_source"] for r in mine}), "ops": len(mine),
                                 "time_s": t_mine, "roofline_time_s": t_roof, "ceiling_set": roof_key,
                                 "ratio": t_mine / t_roof if t_roof else None,
                                 "spec_roofline_time_s": t_spec, "spec_ratio": t_mine / t_spec if t_spec else None,
                                 "share_of_achieved": t_mine / sum(r["time_total_s"] for r in ach)
                                 if ach else None}
            src["your_kernels"] = {"source": ", ".join(sorted({r["time_source"] for r in mine})),
                                   "detail": "`harness bench kernel` runs: per op they cover, the median time "
                                   "minus the launch cost, x count; against the same ops' roofline times",
                                   "run_ids": _runs_of(mine)}
    s["sources"] = src
    s["runs"] = run_ids
    return s


_t = fmt.time
_pct = fmt.pct


def headline(a) -> list[str]:
    """The answers to the critique's four points, in a few lines (terminal and report)."""
    s = a.summary
    c = a.ceilings
    wl = a.workload
    lines = []
    what = "smolVLA at batch size 1" if wl is not None else "Ceilings"
    if s["timed_on_card"]:
        card = f"timed on the card: runs {', '.join(r.run_id for r in a.runs if not r.emulated)}"
        if any(r.emulated for r in a.runs):
            card += " (the other runs are emulated)"
    elif a.runs:
        card = "EMULATED: nothing here was timed on a card"
    else:
        card = "nothing measured: spec ceilings and the timing model only"
    lines.append(f"{what} on the {a.platform_name.upper()} - {card}.")
    lines.append(f"Element type: {s['element_type']} ({s['element_type_origin']}); {s['byte_convention']}.")
    if wl is not None:
        cb, mb = s["compute_bound_time_share"], s["memory_bound_time_share"]
        parts = [f"{_pct(cb[k])} compute-bound / {_pct(mb[k])} memory-bound under the {short_name(k)} ceilings"
                 for k in cb if k != "achieved"]
        line = "Time of one inference: " + "; ".join(parts)
        if "achieved" in cb:
            lb = s.get("latency_bound_time_share", {}).get("achieved", 0.0)
            line += (f"; achieved (per-shape times, the model's class of each shape): {_pct(cb['achieved'])} "
                     f"compute, {_pct(mb['achieved'])} memory, {_pct(lb)} latency")
        lines.append(line + ".")
        lat = a.latency
        L = (f"Latency of one inference: roofline {_t(s['latency_roofline_spec_s'])} under spec ceilings, "
             + (f"{_t(s['latency_roofline_runs_s'])} under the {c.run_set.label}, " if c.run_set else
                "no run ceilings (no run given), ")
             + (f"achieved {_t(s['latency_achieved_s'])} (per-shape times + dispatch + host transfers)"
                if s["latency_achieved_s"]
                is not None else "no per-shape times"))
        lines.append(L + ".")
        xf = lat.get("host_transfers")
        if xf:
            f = xf["figure"]
            parts = ", ".join(f"{i['count']} x {i['name']} ({i['shape']} {i['element_type']}, {i['bytes']:,} B) "
                              f"{i['direction']} {_t(i['time_s'])}" for i in xf["items"])
            share = s.get("host_transfers_share")
            run = f", run {f['run_id']}" if f.get("run_id") else ""
            lines.append(f"Host transfers per inference ({xf['syncs']} syncs: {parts}): {_t(f['value'])} "
                         f"({tag_of(f)}{run})" + (f", {fmt.num(share * 100)}% of the achieved latency" if share else "")
                         + "; counted in the achieved latency.")
        y = s.get("your_kernels")
        if y:
            lines.append(f"Your kernels ({', '.join(y['kernels'])}; runs "
                         f"{', '.join(s['sources']['your_kernels']['run_ids'])}) time {y['ops']} ops of the inference: "
                         f"{_t(y['time_s'])} per inference against {_t(y['roofline_time_s'])} at the "
                         f"{short_name(y['ceiling_set'])} roofline ({fmt.num(y['ratio'])}x; "
                         f"{_t(y['spec_roofline_time_s'])} at the spec roofline, {fmt.num(y['spec_ratio'])}x), "
                         f"{_pct(y['share_of_achieved'])} of the achieved time; the achieved latency uses them.")
        if lat.get("gap"):
            g = lat["gap"]
            comps = ", ".join(f"{x['name']} {_t(x['value_s'])}" for x in lat["components"])
            lines.append(f"The gap achieved - roofline ({short_name(g['against'])}), {_t(g['total_s'])}: {comps}.")
        if s["fusion_saving_s"] is not None:
            lines.append(f"Fusing every GEMM's bias and activation saves {_t(s['fusion_saving_s'])} and "
                         f"{s['launches'] - s['launches_fused']:,} of {s['launches']:,} launches "
                         f"(to {s['launches_fused']:,}).")
    def short(f, unit_value=None) -> str:
        run = f", run {f.run_id}" if f.run_id else ""
        doc = f", {f.document}" if f.document else ""
        return f"{unit_value or fmt.num(f.value) + ' ' + f.unit} ({f.tag}{doc}{run})"
    sp = c.spec
    dev = a.ceilings.spec.compute.figure
    roofs = [f"spec - HBM {short(sp.memory.figure)}, {sp.compute.figure.name.split(' ')[0]} compute "
             f"{short(dev)} from the DSPs available to kernels"]
    rs = c.run_set
    if rs is not None:
        comp = rs.compute
        if comp.key.startswith("compute.design") and a.design is not None:
            what = f"{fmt.num(comp.value)} GFLOP/s (model: the peak of the GEMM design of {a.design.origin})"
        else:
            what = f"{short(comp.figure)} = {comp.figure.name}"
        roofs.append(f"{rs.short} - one kernel port {short(rs.memory.figure)} per PC, GEMM compute "
                     f"{what}, dispatch "
                     f"{short(rs.dispatch, fmt.time(rs.dispatch.value))}")
    if c.aggregate is not None:
        roofs.append(f"the card's best aggregate {short(c.aggregate.figure)}, drawn")
    lines.append("Roofs: " + "; ".join(roofs) + ".")
    return lines
