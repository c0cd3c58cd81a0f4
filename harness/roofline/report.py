"""report.md / report.html: the answers first (summary, contents), then the evidence; sources as footnotes."""
from __future__ import annotations

import base64
import html
import re

from harness.roofline import fmt
from harness.roofline.ceilings import short_name
from harness.roofline.ports import WRITE_PORTS
from harness.roofline.summary import headline

_t, _n, _pct = fmt.time, fmt.num, fmt.pct


class Footnotes:
    """Sources, each written once at the end; cells carry only the marker."""

    def __init__(self):
        self.items: list[str] = []

    def ref(self, text: str) -> str:
        if not text:
            return ""
        if text not in self.items:
            self.items.append(text)
        return f"[^{self.items.index(text) + 1}]"

    def fig(self, f) -> str:
        """A footnote for a Figure (or its dict): its source and detail."""
        d = f if isinstance(f, dict) else f.to_dict()
        tag = "emulated (model)" if d.get("emulated") else d["source"]
        doc = f" ({d['document']})" if d.get("document") else ""
        return self.ref(f"{d['name']} - {tag}{doc}: {d['detail']}")

    def lines(self) -> list[str]:
        return [f"[^{i}]: {t}" for i, t in enumerate(self.items, 1)]


def _table(headers, rows) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(x).replace("|", "/") for x in r) + " |")
    out.append("")
    return out


def _shape(r) -> str:
    return f"{r['M']}x{r['K']}x{r['N']}" if r.get("K") not in (None, "") else f"{r['M']}x{r['N']}"


SECTIONS = [("summary", "Summary"), ("plot", "The plot"), ("latency", "Latency of one inference"),
            ("yours", "Your kernels"),
            ("bound", "Where the time goes"), ("ceilings", "Ceilings"), ("ports", "Memory per kernel port"),
            ("shapes", "Batch-1 GEMM calls of the latency runs"), ("fusion", "Fusion"), ("ops", "Ops"),
            ("notices", "Notices and warnings"), ("sources", "Sources")]


def _anchor(key: str) -> str:
    return dict(SECTIONS)[key].lower().replace(" ", "-").replace(":", "")


def markdown(analysis, image="roofline.png", full="roofline.svg") -> str:
    a = analysis
    c = a.ceilings
    s = a.summary
    fn = Footnotes()
    wl = a.workload
    L: list[str] = []
    L.append(f"# Roofline: {'smolVLA at batch size 1' if wl is not None else 'ceilings'} on the "
             f"{a.platform_name.upper()}")
    L.append("")
    L.append(f"Generated {a.generated_utc} by `harness roofline`. Decimal units: GB/s = 1e9 B/s, MB = 1e6 B.")
    L.append("")
    L.append("## Summary")
    L.append("")
    L += [f"- {x}" for x in headline(a)]
    if a.warnings:
        L.append(f"- **WARNING** {len(a.warnings)} warning(s): see [Notices and warnings](#{_anchor('notices')}).")
    L.append("")
    L.append("## Contents")
    L.append("")
    shown = [k for k, _ in SECTIONS if k != "summary" and _has(a, k)]
    L += [f"- [{dict(SECTIONS)[k]}](#{_anchor(k)})" for k in shown]
    L.append("")

    L.append("## The plot")
    L.append("")
    L.append(f"[![roofline]({image})]({full})")
    L.append("")
    L.append(f"Full size: [{full}]({full}) (vector), [{image}]({image}). Left: the spec ceilings, every op at "
             "its roofline bound. Right: the run-derived ceilings, every op at its achieved GFLOP/s "
             "(filled: timed by a run; hollow: by the timing model).")
    L.append("")

    if wl is not None and a.latency:
        _latency(L, a, fn)
    if a.your_kernels:
        _yours(L, a, fn)
    if wl is not None and a.latency:
        _bound(L, a)
    _ceilings(L, a, fn)
    if c.run_set is not None and c.run_set.ports is not None:
        _ports(L, a, fn)
    if a.latency_shapes:
        _shapes(L, a, fn)
    if wl is not None:
        _fusion(L, a, fn)
        _ops(L, a, fn)
    L.append("## Notices and warnings")
    L.append("")
    L += [f"- **WARNING** {w}" for w in a.warnings]
    L += [f"- {x}" for x in a.notices]
    if not a.warnings and not a.notices:
        L.append("- none")
    L.append("")
    L.append("How these figures are computed: harness/docs/roofline.md.")
    L.append("")
    L.append("## Sources")
    L.append("")
    L += fn.lines()
    L.append("")
    return "\n".join(L)


def _has(a, key) -> bool:
    if key in ("latency", "bound", "fusion", "ops"):
        return a.workload is not None
    if key == "ports":
        return a.ceilings.run_set is not None and a.ceilings.run_set.ports is not None
    if key == "shapes":
        return bool(a.latency_shapes)
    if key == "yours":
        return bool(a.your_kernels)
    return True


def _src(fn, d: dict) -> str:
    return fn.ref(f"{d['source'] or '-'}: {d['detail']}" + (f" (runs {', '.join(d['run_ids'])})" if d.get("run_ids")
                                                           else ""))


def _latency(L, a, fn):
    s, lat = a.summary, a.latency
    src = s["sources"]
    rs = a.ceilings.run_set
    L.append("## Latency of one inference")
    L.append("")
    L.append("Batch size 1. The rooflines are throughput bounds (no launch cost); the achieved figure is the "
             "per-shape times x counts + dispatch x launches + the host transfers of one inference.")
    L.append("")
    rows = [("roofline, spec ceilings", _t(s["latency_roofline_spec_s"]), _src(fn, src["latency_roofline_spec_s"])),
            (f"roofline, {rs.label if rs else 'run ceilings'}", _t(s["latency_roofline_runs_s"]),
             _src(fn, src["latency_roofline_runs_s"])),
            ("achieved (per-shape times + dispatch + host transfers)", f"**{_t(s['latency_achieved_s'])}**",
             _src(fn, src["latency_achieved_s"]))]
    L += _table(["latency of one inference", "time", "source"], rows)
    xf = lat.get("host_transfers")
    if xf:
        f = xf["figure"]
        L.append(f"### Host transfers per inference: {_t(f['value'])}")
        L.append("")
        L += _table(["transfer", "direction", "syncs", "bytes per sync", "element type", "time per sync", "source"],
                    [(f"{i['name']} ({i['shape']})", i["direction"], i["count"], f"{i['bytes']:,}",
                      i["element_type"], _t(i["time_s"]),
                      fn.ref(f"{'emulated (model)' if f.get('emulated') else f['source']}: {i['detail']}; element "
                             f"type: {i['element_type_reason']}")) for i in xf["items"]])
    if lat.get("gap"):
        g = lat["gap"]
        L.append(f"### The gap: achieved - roofline ({short_name(g['against'])}) = {_t(g['total_s'])}")
        L.append("")
        L += _table(["component", "time per inference", "share of the gap", "what it is", "source"],
                    [(x["name"], _t(x["value_s"]), _pct(x["value_s"] / g["total_s"]) if g["total_s"] else "-",
                      x["what"], fn.ref(f"{x['source']}: {x['detail']}")) for x in lat["components"]])
        depth = g.get("pipeline_depth_s_max")
        L.append("Two different pipeline figures: **pipeline depth / clock** is one pass through the MAC and "
                 "epilogue pipelines, the batch-1 floor of a single call "
                 f"({_t(depth)} at most over the shapes here, by the model); **pipeline refills** is every refill "
                 "of those pipelines and of the row loops in a call, summed, a part of the gap above (the "
                 "latency bench's 'refills us' column).")
        L.append("")
    n, nf = s["launches"], s["launches_fused"]
    L.append(f"Launches per inference: {n:,} unfused, {nf:,} with every GEMM's bias and activation fused "
             f"({n - nf:,} fewer); dispatch {_t(s['dispatch_s'])} per launch {_src(fn, s['sources']['dispatch_s'])}.")
    L.append("")


def _yours(L, a, fn):
    y = a.summary.get("your_kernels") or {}
    key = a.your_kernels[0]["ceiling_set"]
    L.append("## Your kernels")
    L.append("")
    rk = short_name(key)
    L.append(f"The ops your kernels' runs (`harness bench kernel`) cover, each at its run's time per call (median "
             f"minus the launch cost), against its roofline time under the {rk} ceilings (those the achieved "
             "times are placed under) and under the spec ceilings; ratio = your time / roofline time (1 is at "
             "the roof). These times replace the design's in the achieved latency; the plot rings these ops "
             "(\"your kernels\").")
    L.append("")
    L += _table(["op", "kernel", "M x K x N", "count", "your time / call", f"roofline ({rk}) / call", "ratio",
                 "roofline (spec) / call", "ratio to spec", "your GFLOP/s", f"roofline ({rk}) GFLOP/s", "roof binds",
                 "source"],
                [(x["name"], x["kernel"], _shape(next(r for r in a.rows if r["name"] == x["name"])), x["count"],
                  _t(x["time_s"]), _t(x["roofline_time_s"]), f"{_n(x['ratio'])}x" if x["ratio"] else "-",
                  _t(x["spec_roofline_time_s"]), f"{_n(x['spec_ratio'])}x" if x["spec_ratio"] else "-",
                  _n(x["attained_GFLOPps"]), _n(x["roofline_GFLOPps"]), x["roofline_bound"],
                  f"{x['time_source']} {fn.ref(x['detail'])}") for x in a.your_kernels])
    if y:
        L.append(f"Per inference: your kernels take {_t(y['time_s'])} on these {y['ops']} ops against "
                 f"{_t(y['roofline_time_s'])} at the {rk} roofline ({_n(y['ratio'])}x) and "
                 f"{_t(y['spec_roofline_time_s'])} at the spec roofline ({_n(y['spec_ratio'])}x), "
                 f"{_pct(y['share_of_achieved'])} of the achieved time of one inference.")
        L.append("")
    chains = _your_chains(a)
    if chains:
        L.append("Chains your kernels run unfused (a GEMM, then its bias and activation as launches of their own) "
                 "against the same chain fused into one launch, at the roofline (the Fusion section gives the "
                 "bytes and the harness design's achieved times):")
        L.append("")
        L += _table(["GEMM op", "epilogue", "your unfused chain / call", "roofline unfused / call",
                     "roofline fused / call", "launches saved / call"],
                    [(c["name"], c["epilogue"], _t(c["yours_s"]), _t(c["roofline_unfused_time_s"]),
                      _t(c["roofline_fused_time_s"]), c["launches_saved"]) for c in chains])


def _your_chains(a) -> list[dict]:
    """Fusion chains every op of which one of your kernels times."""
    mine = {x["name"]: x for x in a.your_kernels}
    out = []
    for f in a.fusion:
        names = [f["name"]] + [f"{f['name']}.{e}" for e in f["epilogue"].split("+") if e]
        if all(n in mine for n in names):
            out.append({"name": f["name"], "epilogue": f["epilogue"],
                        "yours_s": sum(mine[n]["time_s"] for n in names),
                        "roofline_unfused_time_s": f["roofline_unfused_time_s"],
                        "roofline_fused_time_s": f["roofline_fused_time_s"], "launches_saved": len(names) - 1})
    return out


def _bound(L, a):
    s = a.summary
    L.append("## Where the time goes")
    L.append("")
    rows = []
    for k, v in s["compute_bound_time_share"].items():
        lat = s.get("latency_bound_time_share", {}).get(k)
        rows.append((short_name(k), _pct(v), _pct(s["memory_bound_time_share"].get(k)), _pct(lat) if lat else "-"))
    L += _table(["ceiling set", "compute-bound", "memory-bound", "latency-bound (model's class)"], rows)
    if a.changed:
        rs = a.ceilings.run_set
        L.append(f"{len(a.changed)} ops change class when the {rs.label} replace the spec ones "
                 f"(memory per kernel port): " + ", ".join(f"{x['name']} ({x['spec_bound']} -> {x['bound']})"
                                                          for x in a.changed[:12])
                 + (", ..." if len(a.changed) > 12 else "") + ".")
        L.append("")


def _ceilings(L, a, fn):
    c = a.ceilings
    L.append("## Ceilings")
    L.append("")
    L += _table(["ceiling", "value", "kind", "used as", "source"],
                [(x.figure.name, f"{_n(x.value)} {x.figure.unit}", x.kind + (f" ({x.dtype})" if x.dtype else ""),
                  _role(x, c), fn.fig(x.figure)) for x in c.all])
    for cs in c.sets():
        if cs.notes:
            L.append(f"{cs.label}: " + "; ".join(cs.notes) + ".")
            L.append("")


def _role(x, c) -> str:
    roles = []
    for s in c.sets():
        if x is s.memory:
            roles.append(f"{s.short}: memory roof" + (" (one PC of a kernel port)" if s.ports is not None else ""))
        if x is s.compute:
            roles.append(f"{s.short}: compute roof (GEMM, attention" +
                         (")" if s.ew_compute is not s.compute else ", elementwise)"))
        if s.ew_compute is not s.compute and x is s.ew_compute:
            roles.append(f"{s.short}: compute roof (elementwise)")
    if roles:
        return "; ".join(roles)
    if x is c.aggregate:
        return "the card's best aggregate over all PCs (drawn, not a kernel's roof)"
    return "drawn only"


def _ports(L, a, fn):
    pm = a.ceilings.run_set.ports
    L.append("## Memory per kernel port")
    L.append("")
    L.append("A kernel's memory time is the maximum over the PCs its ports reach of the bytes through them / "
             "the PC's bandwidth: the bytes of one port cannot use another port's PCs.")
    L.append("")
    rows = []
    for k, ports in pm.kernels.items():
        if k not in ("gemm", "bias_gelu"):
            continue
        for p, banks in ports.items():
            rows.append((f"{k}.{p}", ", ".join(banks), "write" if p in WRITE_PORTS else "read",
                         f"{_n(pm.port_GBps(k, p))} GB/s", fn.fig(pm.per_pc(p))))
    L += _table(["port", "PCs", "direction", "bandwidth", "per-PC source"], rows)
    L.append(f"Connectivity from {pm.origin}.")
    L.append("")
    ach = [r for r in a.rows if r["ceiling_set"] == a.ceilings.run_set.key and r["kind"] != "elementwise"]
    top = sorted(ach, key=lambda r: -r["time_total_s"])[:8]
    if top:
        L += _table(["op", "M x K x N", "bound", "bottleneck", "effective GB/s", "time per call"],
                    [(r["name"], _shape(r), r["bound"], r["memory_bottleneck"], _n(r["memory_GBps"]), _t(r["time_s"]))
                     for r in top])


def _shapes(L, a, fn):
    rs = a.ceilings.run_set
    L.append("## Batch-1 GEMM calls of the latency runs")
    L.append("")
    L.append("Each call's median start-to-wait time, the run's launch cost (empty kernel) and what is left for "
             "the kernel, beside the rooflines and the timing model's parts of that shape.")
    L.append("")
    hdr = ["dtype", "M x K x N", "workload op", "run median", "launch cost", "kernel", "roofline (spec)"]
    if rs is not None:
        hdr.append(f"roofline ({rs.short})")
    hdr += ["model", "tile padding", "memory + round trips", "pipeline refills", "pipeline depth / clock", "source"]
    rows = []
    for g in a.latency_shapes:
        r = [g["dtype"], f"{g['M']}x{g['K']}x{g['N']}", g.get("workload_op") or "-", _t(g["time_s_median"]), _t(g["launch_cost_s"]),
             _t(g["kernel_time_s"]), _t(g.get("roofline_spec_s"))]
        if rs is not None:
            r.append(_t(g.get(f"roofline_{rs.key}_s")))
        r += [_t(g.get("model_time_s")), _t(g.get("tile_padding_s")), _t(g.get("memory_and_roundtrips_s")),
              _t(g.get("pipeline_refills_s")), _t(g.get("pipeline_depth_s")),
              fn.ref(f"{'emulated (model)' if g['emulated'] else g['source']}: {g['detail']}")]
        rows.append(r)
    L += _table(hdr, rows)


def _fusion(L, a, fn):
    L.append("## Fusion")
    L.append("")
    if not a.fusion:
        L.append("No GEMM with a bias or activation after it.")
        L.append("")
        return
    f0 = a.fusion[0]
    L.append(f"Per call: unfused, C is written and read back by separate bias and activation ops (a launch each); "
             f"fused, C stays on chip (one launch). Roofline times under the {short_name(f0['ceiling_set'])} "
             "ceilings; achieved times per shape; the saving includes the launches saved.")
    L.append("")
    L += _table(["op", "epilogue", "M x K x N", "count", "bytes unfused", "bytes fused", "OI unfused", "OI fused",
                 "roofline unfused", "roofline fused", "achieved unfused", "achieved fused", "saving per call",
                 "per inference", "source"],
                [(x["name"], x["epilogue"], f"{x['M']}x{x['K']}x{x['N']}", x["count"], fmt.si(x["unfused_bytes"]),
                  fmt.si(x["fused_bytes"]), _n(x["unfused_oi_FLOPpB"]), _n(x["fused_oi_FLOPpB"]),
                  _t(x["roofline_unfused_time_s"]), _t(x["roofline_fused_time_s"]),
                  _t(x.get("achieved_unfused_time_s")), _t(x.get("achieved_fused_time_s")),
                  _t(x.get("achieved_saved_s")), _t(x.get("achieved_saved_total_s")),
                  fn.ref(f"{x.get('sources', '-')}: fused {x.get('fused_detail', '-')}")) for x in a.fusion])
    if a.fusion_runs:
        L.append("Fused-vs-unfused points of the gemm runs (the kernels' unfused path is gemm, then bias_gelu): the "
                 "run's saving beside the timing model's for that shape.")
        L.append("")
        L += _table(["dtype", "M x K x N", "epilogue", "unfused (median)", "fused (median)", "saving (run)",
                     "saving (model)", "source"],
                    [(x["dtype"], f"{x['M']}x{x['K']}x{x['N']}", x["epilogue"], _t(x["run_unfused_time_s"]),
                      _t(x["run_fused_time_s"]), _t(x["run_saved_s"]), _t(x["model_saved_s"]),
                      fn.ref(f"{'emulated (model)' if x['emulated'] else x['source']}: {x['detail']}"))
                     for x in a.fusion_runs])


def _ops(L, a, fn):
    L.append("## Ops")
    L.append("")
    sets = [cs.key for cs in a.ceilings.sets()]
    by = {}
    for r in a.rows:
        by.setdefault(r["ceiling_set"], {})[r["name"]] = r
    has_ach = "achieved" in by
    hdr = ["stage", "op", "M x K x N", "count", "FLOP", "bytes", "OI (FLOP/B)"]
    for k in sets:
        hdr += [f"{short_name(k)}: bound", f"{short_name(k)}: time"]
    if has_ach:
        hdr += ["achieved: time", "achieved: GFLOP/s", "achieved: source"]
    body = []
    for r in by["spec"].values():
        row = [r["stage"], r["name"], _shape(r), r["count"], fmt.si(r["flop"] * r["count"]),
               fmt.si(r["bytes"] * r["count"]), _n(r["oi_FLOPpB"])]
        for k in sets:
            x = by[k][r["name"]]
            row += [x["bound"], _t(x["time_total_s"])]
        if has_ach:
            x = by["achieved"][r["name"]]
            row += [_t(x["time_total_s"]), _n(x["attained_GFLOPps"]),
                    f"{x['time_source']} {fn.ref(x['time_detail'] if x['run_id'] else x['time_source'] + ': harness.model, the design ' + (a.design.origin if a.design else ''))}"]
        body.append(row)
    L.append("FLOP, bytes and times are per inference (count x one call; k, M, G: 1e3, 1e6, 1e9). Bound: the "
             "roof that binds under each ceiling set.")
    L.append("")
    L += _table(hdr, body)


# ---------------------------------------------------------------- HTML
_INLINE = [(re.compile(r"\[!\[([^\]]*)\]\(([^)]+)\)\]\(([^)]+)\)"), None),
           (re.compile(r"\*\*(.+?)\*\*"), r"<strong>\1</strong>"), (re.compile(r"`(.+?)`"), r"<code>\1</code>"),
           (re.compile(r"\[\^(\d+)\]"), r"<sup><a href='#fn-\1' id='ref-\1'>\1</a></sup>"),
           (re.compile(r"\[([^\]]+)\]\(([^)]+)\)"), r"<a href='\2'>\1</a>")]


def _inline(text: str, png: bytes | None = None) -> str:
    s = html.escape(text, quote=False)
    m = _INLINE[0][0].fullmatch(s)
    if m:
        src = f"data:image/png;base64,{base64.b64encode(png).decode()}" if png is not None else m.group(2)
        return (f"<a href='{m.group(3)}'><img alt='{m.group(1)}' src='{src}'></a>")
    for pat, rep in _INLINE[1:]:
        s = pat.sub(rep, s)
    return s


def to_html(md: str, png: bytes | None = None) -> str:
    """Render the report's markdown subset (headings, tables, lists, footnotes, the linked image) as one HTML file."""
    out = ["<!doctype html><html><head><meta charset='utf-8'><title>roofline report</title><style>",
           "body{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222;line-height:1.4}",
           "table{border-collapse:collapse;font-size:12px;margin:0.5em 0}",
           "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}th{background:#f3f3f3}",
           "td{font-variant-numeric:tabular-nums}li strong{color:#b22222}img{width:100%;height:auto}",
           ".fn{font-size:12px;color:#444}</style></head><body>"]
    lines = md.splitlines()
    i = 0
    while i < len(lines):
        ln = lines[i]
        if ln.startswith("|"):
            block = []
            while i < len(lines) and lines[i].startswith("|"):
                block.append(lines[i])
                i += 1
            cells = [[c.strip() for c in b.strip().strip("|").split("|")] for b in block]
            out.append("<table><tr>" + "".join(f"<th>{_inline(c)}</th>" for c in cells[0]) + "</tr>")
            for row in cells[2:]:
                out.append("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>")
            out.append("</table>")
            continue
        if ln.startswith("[^"):
            out.append("<ol class='fn'>")
            while i < len(lines) and lines[i].startswith("[^"):
                m = re.match(r"\[\^(\d+)\]: (.*)", lines[i])
                out.append(f"<li id='fn-{m.group(1)}'>{_inline(m.group(2))} <a href='#ref-{m.group(1)}'>&#8617;</a></li>")
                i += 1
            out.append("</ol>")
            continue
        if ln.startswith("- "):
            out.append("<ul>")
            while i < len(lines) and lines[i].startswith("- "):
                out.append(f"<li>{_inline(lines[i][2:])}</li>")
                i += 1
            out.append("</ul>")
            continue
        m = re.match(r"^(#+) (.*)$", ln)
        if m:
            n = len(m.group(1))
            anchor = m.group(2).lower().replace(" ", "-").replace(":", "")
            out.append(f"<h{n} id='{html.escape(anchor)}'>{_inline(m.group(2))}</h{n}>")
        elif ln.startswith("[!["):
            out.append(f"<p>{_inline(ln, png)}</p>")
        elif ln.strip():
            out.append(f"<p>{_inline(ln)}</p>")
        i += 1
    out.append("</body></html>")
    return "\n".join(out)
