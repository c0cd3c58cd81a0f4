"""report.md / report.html: every figure with its source, warnings first."""
from __future__ import annotations

import base64
import html
import re

from harness.roofline.ceilings import source_tag
from harness.workload.smolvla import STAGES


def _f(v, digits=3) -> str:
    if v is None or v == "":
        return "-"
    if isinstance(v, str):
        return v
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 10:
        return f"{v:,.1f}"
    return f"{v:.{digits}g}"


def _t(s) -> str:
    """Seconds, human-scaled."""
    if s is None:
        return "-"
    a = abs(s)
    if a >= 1:
        return f"{s:.3g} s"
    if a >= 1e-3:
        return f"{s * 1e3:.3g} ms"
    return f"{s * 1e6:.3g} us"


def _table(headers, rows) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(x).replace("|", "/") for x in r) + " |")
    out.append("")
    return out


def _src(fig_dict_or_fig) -> str:
    d = fig_dict_or_fig if isinstance(fig_dict_or_fig, dict) else fig_dict_or_fig.to_dict()
    return f"{source_tag(d)}: {d['detail']}"


def _ceiling_name(c, key: str) -> str:
    x = c.get(key)
    return x.figure.name if x is not None else key


def _role(x, c) -> str:
    """What a ceiling is used as: the roof of which set and op kind, or drawn only."""
    roles = []
    for s in c.sets():
        if x is s.memory:
            roles.append(f"{s.short}: memory roof")
        if x is s.compute:
            roles.append(f"{s.short}: compute roof (GEMM, attention" +
                         (")" if s.ew_compute is not s.compute else ", elementwise)"))
        if s.ew_compute is not s.compute and x is s.ew_compute:
            roles.append(f"{s.short}: compute roof (elementwise)")
    if roles:
        return "; ".join(roles)
    if x is c.aggregate:
        return "best aggregate over all PCs (drawn, not a roof)"
    return "drawn only"


def markdown(analysis, image="roofline.png") -> str:
    a = analysis
    c = a.ceilings
    L: list[str] = []
    wl = a.workload
    L.append(f"# Roofline: {'smolVLA at batch size 1' if wl is not None else 'ceilings'} "
             f"on the {a.platform_name.upper()}")
    L.append("")
    L.append(f"Generated {a.generated_utc} by `harness roofline`. Element type **{a.precision.precision}** "
             f"({a.precision.origin}). Decimal units: GB/s = 1e9 B/s, MB = 1e6 B.")
    L.append("")
    if a.runs:
        L += _table(["run", "bench", "timing source", "mode", "dtype"],
                    [(r.run_id, r.bench, "emulated (model)" if r.timing_source == "model" else r.timing_source,
                      r.context.get("mode", ""), r.dtype or "") for r in a.runs])
        if a.nothing_measured:
            L.append("**Nothing here was timed on the card**: every run given is emulated, so every figure "
                     "taken from a run is a model figure, labelled 'emulated (model)'.")
            L.append("")
    else:
        L.append("**Nothing was measured**: no run was given, so only spec ceilings are drawn and every "
                 "class and time below comes from the spec sheet.")
        L.append("")
    L.append("## Warnings")
    L.append("")
    if a.warnings:
        L += [f"- **WARNING** {w}" if w.startswith("PRECISION MISMATCH") else f"- {w}" for w in a.warnings]
    else:
        L.append("- none")
    L.append("")
    L.append(f"![roofline]({image})")
    L.append("")

    L.append("## Ceilings")
    L.append("")
    L += _table(["ceiling", "key", "kind", "value", "unit", "source", "detail", "used as"],
                [(x.figure.name, x.key, x.kind + (f" ({x.dtype})" if x.dtype else ""), _f(x.value), x.figure.unit,
                  source_tag(x.figure), x.figure.detail, _role(x, c)) for x in c.all])
    if c.aggregate is not None and c.run_set is not None and c.run_set.memory is not c.aggregate:
        L.append(f"Memory: the ceiling taken from the runs (best verified aggregate bandwidth over all PCs) is "
                 f"{_f(c.aggregate.value)} GB/s ({_src(c.aggregate.figure)}); ops are classified under "
                 f"{c.run_set.memory.figure.name} {_f(c.run_set.memory.value)} GB/s "
                 f"({_src(c.run_set.memory.figure)}), the bandwidth the GEMM kernel's ports can reach.")
        L.append("")
    L.append("Ceiling sets used to classify ops (ridge = compute / memory; `key` prefixes their columns in "
             "ops.csv and roofline.json). GEMM and attention products sit under the GEMM compute roof, "
             "elementwise ops (bias, activations, norms, softmax, RoPE, residual adds) under the elementwise "
             "one:")
    L.append("")
    L += _table(["set", "key", "memory ceiling", "compute: GEMM, attention", "compute: elementwise",
                 "ridge GEMM (FLOP/B)", "ridge elementwise (FLOP/B)", "dispatch per launch", "notes"],
                [(s.label, s.key, f"{s.memory.figure.name} {_f(s.memory.value)} GB/s ({_src(s.memory.figure)})",
                  f"{s.compute.figure.name} {_f(s.compute.value)} GFLOP/s ({_src(s.compute.figure)})",
                  (f"{s.ew_compute.figure.name} {_f(s.ew_compute.value)} GFLOP/s ({_src(s.ew_compute.figure)})"
                   if s.ew_compute is not s.compute else "same"),
                  _f(s.ridge_FLOPpB), _f(s.ridge_elementwise_FLOPpB),
                  f"{_t(s.dispatch.value)} ({_src(s.dispatch)})",
                  "; ".join(s.notes) or "-") for s in c.sets()])
    if wl is None:
        L.append("No workload given (`--workload smolvla` places smolVLA's ops on these ceilings).")
        L.append("")
        return "\n".join(L)

    sets = c.sets()
    p = a.precision.precision
    t = wl.totals(p)
    L.append(f"## Workload: one smolVLA inference ({p}, source: model)")
    L.append("")
    cfg = wl.config
    L.append(f"{cfg.cameras} cameras, {cfg.lang_tokens} language tokens, prefix P = {cfg.prefix_tokens} tokens, "
             f"{cfg.num_steps} denoising steps over {cfg.chunk_size} action tokens, "
             f"{cfg.vision_layers} vision / {cfg.vlm_layers} text / {cfg.n_expert_layers} expert layers "
             "(counting conventions: harness/docs/smolvla.md).")
    L.append("")
    L += _table(["stage", "GFLOP", "of which GEMM", "MB moved", "OI (FLOP/B)", "launches"],
                [(s, _f(t[s]["gflop"]), _f(t[s]["gemm_gflop"]), _f(t[s]["mb"]), _f(t[s]["oi_FLOPpB"]),
                  t[s]["launches"]) for s in (*STAGES, "overall")])

    L.append("## Latency of one inference")
    L.append("")
    L.append("latency = sum of op roofline times + launches x dispatch overhead per launch. "
             "'epilogues fused' folds every bias and activation that follows a GEMM into it; the gemm kernel "
             "here fuses bias and GELU only, so the SiLU fusions are what a kernel with that epilogue would get.")
    L.append("")
    L += _table(["ceilings", "variant", "roofline time", "launches", "dispatch", "predicted latency"],
                [(x["label"], x["variant"], _t(x["roofline_time_s"]), x["launches"],
                  f"{_t(x['dispatch_time_s'])} ({x['launches']} x {_t(x['dispatch_per_launch_s'])}, "
                  f"{source_tag({'source': x['dispatch_source'], 'emulated': x.get('dispatch_emulated')})})",
                  f"**{_t(x['latency_s'])}**") for x in a.latency])
    rs = c.run_set
    if a.gap:
        L.append("### Latency gap: batch-1 GEMM calls of the latency runs beside the roofline")
        L.append("")
        L.append("The run's time is measured only for a hardware run; an emulated run's time is the "
                 "model's (source column).")
        L.append("")
        L += _table(["dtype", "M x K x N", "workload op", "run median", "source",
                     "roofline (spec)", f"roofline ({rs.short if rs else 'runs'})", "pipeline fill: depth / clock (model)",
                     "gap", "launch cost (run)", "gap minus launch", "run / roofline"],
                    [(g["dtype"], f"{g['M']}x{g['K']}x{g['N']}", g["workload_op"] or "-",
                      _t(g["time_s_median"]), _src(g),
                      _t(g["spec_roofline_time_s"]),
                      _t(g.get(f"{g['ceilings']}_roofline_time_s")) if g.get("ceilings") else "-",
                      _t(g["pipeline_depth_s"]), _t(g["gap_s"]),
                      _t(g["dispatch_s"]) if g.get("dispatch_s") is not None else "-",
                      _t(g["gap_after_dispatch_s"]) if g.get("gap_after_dispatch_s") is not None else "-",
                      f"{g['gap_ratio']:.1f}x" if g["gap_ratio"] else "-") for g in a.gap])

    L.append(f"## Bound class: spec vs {rs.short if rs else 'run'} ceilings")
    L.append("")
    if rs is None:
        L.append("No run was given: classes are under the spec ceilings only.")
    elif a.changed:
        L.append(f"{len(a.changed)} ops change class when the {rs.label} replace the spec ones:")
        L.append("")
        L += _table(["op", "stage", "kind", "OI (FLOP/B)", "spec", rs.short, f"{rs.short}: compute roof"],
                    [(x["name"], x["stage"], x["kind"], _f(x["oi_FLOPpB"]), x["spec_bound"], x[f"{rs.key}_bound"],
                      _ceiling_name(c, x[f"{rs.key}_compute_ceiling"])) for x in a.changed])
    else:
        L.append(f"No op changes class when the {rs.label} replace the spec ones.")
    L.append("")

    L.append("## Ops")
    L.append("")
    hdr = ["stage", "op", "kind", "M x K x N", "count", "GFLOP", "MB", "OI (FLOP/B)"]
    detailed = {s.key: s.key != "spec" or s.ew_compute is not s.compute for s in sets}
    for s in sets:
        hdr += [f"{s.short}: bound"]
        if detailed[s.key]:
            hdr += [f"{s.short}: compute roof", f"{s.short}: source"]
        hdr += [f"{s.short}: GFLOP/s", f"{s.short}: time"]
    body = []
    for r in a.rows:
        shape = f"{r['M']}x{r['K']}x{r['N']}" if r["K"] != "" else f"{r['M']}x{r['N']}"
        row = [r["stage"], r["name"], r["kind"], shape, r["count"], _f(r["flop_total"] / 1e9),
               _f(r["bytes_total"] / 1e6), _f(r["oi_FLOPpB"])]
        for s in sets:
            k = s.key
            row += [r[f"{k}_bound"]]
            if detailed[k]:
                row += [_ceiling_name(c, r[f"{k}_compute_ceiling"]), r[f"{k}_source"]]
            row += [_f(r[f"{k}_attainable_GFLOPps"]), _t(r[f"{k}_time_total_s"])]
        body.append(row)
    if any(detailed.values()):
        L.append("compute roof: the compute ceiling the op is placed under; source: the source of the roof "
                 "that binds it (memory or compute).")
        L.append("")
    L += _table(hdr, body)

    L.append("## Fusion: GEMM + bias + activation")
    L.append("")
    if a.fusion:
        cs = c.run_set or c.spec
        L.append(f"Per call; unfused = C written and read back by separate epilogue ops (one launch each); "
                 f"fused = C kept on chip. Predicted times under the {cs.label}, including the launches saved "
                 f"(unfused epilogue ops under the elementwise compute roof, the fused chain under the GEMM "
                 f"one). 'saving from a run' = unfused - fused median of a gemm run of the same shape, with "
                 f"its source.")
        L.append("")
        L += _table(["op", "epilogue", "M x K x N", "count", "bytes unfused", "bytes fused", "OI unfused",
                     "OI fused", "time unfused", "time fused", "predicted saving", "per inference",
                     "saving from a run"],
                    [(x["name"], x["epilogue"], f"{x['M']}x{x['K']}x{x['N']}", x["count"],
                      _f(x["unfused_bytes"]), _f(x["fused_bytes"]), _f(x["unfused_oi_FLOPpB"]),
                      _f(x["fused_oi_FLOPpB"]), _t(x["unfused_time_s"]), _t(x["fused_time_s"]),
                      _t(x["predicted_saved_s"]), _t(x["predicted_saved_total_s"]),
                      f"{_t(x['run_saved_s'])} ({x['run_saved_tag']}: run {x['run_id']})"
                      if x["run_saved_s"] is not None else "-") for x in a.fusion])
    if a.fusion_runs:
        L.append("Fused-vs-unfused GEMM runs: the run's saving (unfused - fused median) beside the prediction "
                 "(a hardware run's times are measured; an emulated run's are the model's):")
        L.append("")
        L += _table(["dtype", "M x K x N", "epilogue", "unfused (median)", "fused (median)", "saving (run)",
                     "predicted saving", "source"],
                    [(x["dtype"], f"{x['M']}x{x['K']}x{x['N']}", x["epilogue"], _t(x["run_unfused_time_s"]),
                      _t(x["run_fused_time_s"]), _t(x["run_saved_s"]), _t(x["predicted_saved_s"]),
                      _src(x)) for x in a.fusion_runs])
    else:
        L.append("No fused-vs-unfused GEMM run given: savings are predicted only.")
        L.append("")
    L.append("How these figures are computed: harness/docs/roofline.md.")
    L.append("")
    return "\n".join(L)


_INLINE = [(re.compile(r"\*\*(.+?)\*\*"), r"<strong>\1</strong>"), (re.compile(r"`(.+?)`"), r"<code>\1</code>")]


def _inline(text: str) -> str:
    s = html.escape(text, quote=False)
    for pat, rep in _INLINE:
        s = pat.sub(rep, s)
    return s


def to_html(md: str, png: bytes | None = None, image="roofline.png") -> str:
    """Render the report's markdown subset (headings, tables, lists, image) as one HTML file."""
    out = ["<!doctype html><html><head><meta charset='utf-8'><title>roofline report</title><style>",
           "body{font-family:sans-serif;max-width:1400px;margin:2em auto;color:#222}",
           "table{border-collapse:collapse;font-size:12px;margin:0.5em 0}",
           "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}th{background:#f3f3f3}",
           "li strong{color:#b22222}img{max-width:100%}</style></head><body>"]
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
            out.append(f"<h{n}>{_inline(m.group(2))}</h{n}>")
        elif ln.startswith("!["):
            if png is not None:
                b64 = base64.b64encode(png).decode()
                out.append(f"<p><img alt='roofline' src='data:image/png;base64,{b64}'></p>")
            else:
                out.append(f"<p><img alt='roofline' src='{html.escape(image)}'></p>")
        elif ln.strip():
            out.append(f"<p>{_inline(ln)}</p>")
        i += 1
    out.append("</body></html>")
    return "\n".join(out)
