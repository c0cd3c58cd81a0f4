"""The log-log roofline plot (headless).

Two panels: the spec ceilings with every op at its roofline bound, and the run-derived ceilings
(memory per kernel port, the flops run's or the design's compute roof) with every op at its
achieved GFLOP/s (per-shape times: filled markers timed by a run, hollow ones by the timing model;
ops your kernels time, from `harness bench kernel` runs, ringed with a diamond: "your kernels").
Roofs stop at their ridge. Value labels are placed where they overlap no other label and cross no
line (placement.place); one that finds no such place is left to the legend. The legend sits below
the panels, inside the figure, whatever ceilings are drawn; its labels are short (sources are in
the report).
"""
from __future__ import annotations

import io
import math
import textwrap

from harness.roofline import fmt

STAGE_COLOURS = {"vision": "#1f77b4", "prefix": "#ff7f0e", "expert": "#2ca02c"}
KIND_MARKERS = {"gemm": "o", "attention": "s", "elementwise": "^"}
_MEM_COLOURS = {"spec": "#444444", "derated": "#888888", "agg": "#6a3d9a", "pc": "#d62728"}
_COMP_COLOURS = {"spec": "#17becf", "design": "#bcbd22", "flops": "#e377c2", "other": "#8c564b"}
YOURS_COLOUR = "#000000"   # the ring of an op your kernels time
N_TAGGED = 5          # ops numbered on each panel: the largest shares of its time
LABEL_PT = 8.5        # labels, legend and key: readable when the PNG is shown at page width


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _style(source: str) -> str:
    return {"spec": "--", "assumption": ":"}.get(source, "-")


def _value(c) -> str:
    unit = "GB/s" if c.kind == "memory" else "GFLOP/s"
    return f"{fmt.num(c.value)} {unit}"


def legend_label(c) -> str:
    """Short: what, value, source tag (the detail goes to the report)."""
    tag = c.figure.tag
    return f"{c.figure.name}: {_value(c)}" + ("" if tag == "spec" else f" ({tag})")


def _colour(c) -> str:
    if c.kind == "memory":
        if c.key == "memory.spec":
            return _MEM_COLOURS["spec"]
        if c.key == "memory.derated":
            return _MEM_COLOURS["derated"]
        if c.key.startswith("memory.pc"):
            return _MEM_COLOURS["pc"]
        return _MEM_COLOURS["agg"]
    if c.key.startswith("compute.spec"):
        return _COMP_COLOURS["spec"]
    if c.key.startswith("compute.design"):
        return _COMP_COLOURS["design"]
    return _COMP_COLOURS["flops"]


class Panel:
    """What one panel draws: its ceilings, its roof pair, its rows."""

    def __init__(self, title, mems, comps, roof_mem, roof_comp, rows, hollow_model=False, curves=(),
                 highlight=()):
        self.title, self.mems, self.comps = title, mems, comps
        self.roof_mem, self.roof_comp = roof_mem, roof_comp
        self.rows, self.hollow_model, self.curves = rows, hollow_model, curves
        self.highlight = list(highlight)     # (op name, label): an op called out on the panel


def panels(analysis) -> list[Panel]:
    c = analysis.ceilings
    spec, rs = c.spec, c.run_set
    derated = [x for x in c.all if x.key == "memory.derated"]
    spec_rows = [r for r in analysis.rows if r["ceiling_set"] == "spec"]
    ach = [r for r in analysis.rows if r["ceiling_set"] == "achieved"]
    out = [Panel(f"spec ceilings: every op at its roofline bound (ridge {spec.ridge_FLOPpB:.1f} FLOP/B)",
                 [spec.memory] + derated, [spec.compute], spec.memory, spec.compute, spec_rows)]
    if rs is None and not ach:
        return out
    roof = rs or spec
    mems = [spec.memory] + derated + ([c.aggregate] if c.aggregate else []) + (
        [rs.memory] if rs is not None else [])
    comps = [spec.compute] + ([rs.compute] if rs is not None and rs.compute is not spec.compute else [])
    comps += [x for x in c.all if x.kind == "compute" and x.figure.run_id and x not in comps]
    if rs is not None:
        what = (f"{rs.label}: memory per kernel port, ops at their achieved GFLOP/s "
                f"(ridge at one port {rs.ridge_FLOPpB:.1f} FLOP/B)")
    else:
        what = "no run ceilings: ops at their achieved GFLOP/s by the timing model"
    curves = [(r, d, pts) for r, d, pts in c.flops_curves]
    out.append(Panel(what, mems, comps, roof.memory, roof.compute, ach or [], hollow_model=True, curves=curves))
    return out


# ---------------------------------------------------------------- label placement
def _seg_hits_box(p, q, box) -> bool:
    """Does the segment p-q (display coords) meet the rectangle box = (x0, y0, x1, y1)? (Liang-Barsky)"""
    x0, y0, x1, y1 = box
    dx, dy = q[0] - p[0], q[1] - p[1]
    t0, t1 = 0.0, 1.0
    for pk, qk in ((-dx, p[0] - x0), (dx, x1 - p[0]), (-dy, p[1] - y0), (dy, y1 - p[1])):
        if pk == 0:
            if qk < 0:
                return False
        else:
            t = qk / pk
            if pk < 0:
                t0 = max(t0, t)
            else:
                t1 = min(t1, t)
            if t0 > t1:
                return False
    return True


def line_segments(ax) -> list:
    """Every segment of the axes' lines, in display coordinates."""
    segs = []
    for ln in ax.lines:
        if not ln.get_visible():
            continue
        xy = ln.get_transform().transform(ln.get_xydata())
        segs += [(tuple(xy[i]), tuple(xy[i + 1])) for i in range(len(xy) - 1)]
    return segs


def _box(t, renderer, pad=2.0):
    b = t.get_window_extent(renderer)
    return (b.x0 - pad, b.y0 - pad, b.x1 + pad, b.y1 + pad)


def _overlap(a, b) -> bool:
    return not (a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1])


class Placer:
    """Places texts in an axes where they overlap no placed text, cross no line and stay inside."""

    def __init__(self, ax, renderer):
        self.ax, self.r = ax, renderer
        self.boxes = []
        self.segs = line_segments(ax)
        b = ax.get_window_extent(renderer)
        self.frame = (b.x0, b.y0, b.x1, b.y1)

    def fits(self, box) -> bool:
        f = self.frame
        if box[0] < f[0] or box[1] < f[1] or box[2] > f[2] or box[3] > f[3]:
            return False
        if any(_overlap(box, o) for o in self.boxes):
            return False
        return not any(_seg_hits_box(p, q, box) for p, q in self.segs)

    def place(self, candidates, text, **kw):
        """candidates: [(x, y, dx_pt, dy_pt, ha, va)] in data coords + offset points; first that fits."""
        for x, y, dx, dy, ha, va in candidates:
            t = self.ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points", ha=ha, va=va,
                                 annotation_clip=False, **kw)
            box = _box(t, self.r)
            if self.fits(box):
                self.boxes.append(box)
                return t
            t.remove()
        return None


# ---------------------------------------------------------------- drawing
def _scales(pans):
    xs, ys = [], []
    for p in pans:
        for r in p.rows:
            if r["oi_FLOPpB"] and r["attained_GFLOPps"]:
                xs.append(r["oi_FLOPpB"])
                ys.append(r["attained_GFLOPps"])
        for m in p.mems:
            for cc in p.comps:
                xs.append(cc.value / m.value)
        for _, _, pts in p.curves:
            xs += [a for a, _ in pts]
            ys += [b for _, b in pts]
        ys += [cc.value for cc in p.comps]
    x_lo = min(xs) / 4 if xs else 0.01
    x_hi = max(xs) * 4 if xs else 1000
    mmin = min(m.value for p in pans for m in p.mems)
    y_lo = min(ys + [mmin * x_lo]) / 3
    y_hi = max(ys) * 4
    return x_lo, x_hi, y_lo, y_hi


def _draw_panel(ax, p: Panel, scales):
    x_lo, x_hi, y_lo, y_hi = scales
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo, y_hi)
    ax.grid(True, which="major", color="#e3e3e3", linewidth=0.6)
    ax.set_xlabel("operational intensity (FLOP/B)")
    ax.tick_params(labelsize=9)
    cmax = max(c.value for c in p.comps)
    mmax = max(m.value for m in p.mems)
    handles = {}
    for m in p.mems:
        is_roof = m is p.roof_mem
        x_end = (p.roof_comp.value if is_roof else cmax) / m.value
        ln, = ax.plot([x_lo, x_end], [m.value * x_lo, m.value * x_end], _style(m.source), color=_colour(m),
                      linewidth=2.6 if is_roof else 1.2, alpha=1.0 if is_roof else 0.8, zorder=2)
        handles[m.key] = (ln, m)
    for c in p.comps:
        is_roof = c is p.roof_comp
        x0 = c.value / (p.roof_mem.value if is_roof else mmax)
        ln, = ax.plot([x0, x_hi], [c.value, c.value], _style(c.source), color=_colour(c),
                      linewidth=2.6 if is_roof else 1.2, alpha=1.0 if is_roof else 0.8, zorder=2)
        handles[c.key] = (ln, c)
    for run, d, pts in p.curves:
        ln, = ax.plot([a for a, _ in pts], [b for _, b in pts], "-", color=_COMP_COLOURS["flops"], marker=".",
                      linewidth=0.9, markersize=4, zorder=2)
        handles[f"curve.{run.run_id}"] = (ln, None)
    share_key = "time_share"
    for stage, colour in STAGE_COLOURS.items():
        for kind, marker in KIND_MARKERS.items():
            for from_run in (True, False):
                sr = [r for r in p.rows if r["stage"] == stage and r["kind"] == kind and r["oi_FLOPpB"]
                      and r["attained_GFLOPps"] and bool(r["run_id"] and r["ceiling_set"] == "achieved") == from_run]
                if not sr:
                    continue
                hollow = p.hollow_model and not from_run
                ax.scatter([r["oi_FLOPpB"] for r in sr], [r["attained_GFLOPps"] for r in sr],
                           s=[14 + 700 * (r[share_key] or 0) for r in sr], marker=marker, zorder=3,
                           facecolors="none" if hollow else colour, edgecolors=colour if hollow else "#333333",
                           linewidths=1.0 if hollow else 0.4, alpha=0.85)
    mine = your_rows(p)
    if mine:      # your kernels (`harness bench kernel` runs): ringed, at their achieved GFLOP/s
        ax.scatter([r["oi_FLOPpB"] for r in mine], [r["attained_GFLOPps"] for r in mine],
                   s=[60 + 700 * (r[share_key] or 0) for r in mine], marker="D", facecolors="none",
                   edgecolors=YOURS_COLOUR, linewidths=1.4, zorder=4)
    ax.set_title("\n".join(textwrap.wrap(p.title, 70)), fontsize=10, loc="left")
    return handles


def your_rows(p: Panel) -> list[dict]:
    """The panel's ops timed by your kernels' runs."""
    return [r for r in p.rows if r.get("kernel_source") and r["ceiling_set"] == "achieved" and r["oi_FLOPpB"]
            and r["attained_GFLOPps"]]


def _label_ceilings(placer, p: Panel, scales):
    """A short value label on each ceiling, where it fits; else the legend carries it."""
    x_lo, x_hi, y_lo, y_hi = scales
    cmax = max(c.value for c in p.comps)
    mmax = max(m.value for m in p.mems)
    for m in p.mems:
        x_end = (p.roof_comp.value if m is p.roof_mem else cmax) / m.value
        cands = []
        for f in (0.08, 0.2, 0.35, 0.5, 0.65, 0.8):
            x = math.exp(math.log(x_lo) + f * (math.log(x_end) - math.log(x_lo)))
            y = m.value * x
            if y_lo < y < y_hi:
                cands += [(x, y, -4, 4, "right", "bottom"), (x, y, 4, -4, "left", "top")]
        placer.place(cands, f"{fmt.num(m.value)} GB/s", fontsize=LABEL_PT, color=_colour(m))
    for c in p.comps:
        x0 = c.value / (p.roof_mem.value if c is p.roof_comp else mmax)
        cands = []
        for f in (0.05, 0.3, 0.55, 0.8):
            x = math.exp(math.log(max(x0, x_lo)) + f * (math.log(x_hi) - math.log(max(x0, x_lo))))
            cands += [(x, c.value, 0, 4, "left", "bottom"), (x, c.value, 0, -4, "left", "top")]
        placer.place(cands, f"{fmt.num(c.value)} GFLOP/s", fontsize=LABEL_PT, color=_colour(c))


def _top(p: Panel) -> list[dict]:
    rows = [r for r in p.rows if r["oi_FLOPpB"] and r["attained_GFLOPps"]]
    return sorted(rows, key=lambda r: -(r["time_share"] or 0))[:N_TAGGED]


def _tag_ops(placer, p: Panel) -> list[bool]:
    """Number the ops with the largest shares of the panel's time; which ones found a place."""
    out = []
    for k, r in enumerate(_top(p), 1):
        x, y = r["oi_FLOPpB"], r["attained_GFLOPps"]
        cands = [(x, y, dx, dy, ha, va) for dx, dy, ha, va in
                 ((0, -7, "center", "top"), (0, 7, "center", "bottom"), (7, 0, "left", "center"),
                  (-7, 0, "right", "center"), (6, -6, "left", "top"), (-6, 6, "right", "bottom"),
                  (6, 6, "left", "bottom"), (-6, -6, "right", "top"), (0, -16, "center", "top"),
                  (0, 16, "center", "bottom"), (14, -12, "left", "top"), (-14, 12, "right", "bottom"))]
        out.append(placer.place(cands, str(k), fontsize=LABEL_PT, fontweight="bold", color="#222222") is not None)
    return out


def _highlight(ax, placer, p: Panel):
    """Ring the called-out ops and label them where a label fits."""
    for name, label in p.highlight:
        r = next((x for x in p.rows if x["name"] == name and x["oi_FLOPpB"] and x["attained_GFLOPps"]), None)
        if r is None:
            continue
        x, y = r["oi_FLOPpB"], r["attained_GFLOPps"]
        ax.scatter([x], [y], s=260, facecolors="none", edgecolors="#b22222", linewidths=1.4, zorder=4)
        cands = [(x, y, dx, dy, ha, va) for dx, dy in ((0, -30), (0, -45), (-30, -30), (30, -30), (0, 30), (0, 45),
                                                       (-40, 20), (40, 20), (0, -60))
                 for ha, va in (("center", "top" if dy < 0 else "bottom"),)]
        placer.place(cands, label, fontsize=8, color="#b22222", fontweight="bold")


def _key_text(pans, placed=None) -> str:
    """The numbered ops of each panel, one rank per line, panels side by side."""
    cols = []
    for i, p in enumerate(pans):
        col = []
        for k, r in enumerate(_top(p), 1):
            mark = "" if placed is None or placed[i][k - 1] else "*"
            col.append(f"{k} {r['name']}{mark} {100 * (r['time_share'] or 0):.0f}%")
        cols.append(col)
    if not any(cols):
        return ""
    width = max(len(x) for c in cols for x in c) if any(cols) else 0
    head = "   ".join(f"{'largest shares of the time, ' + ('left' if i == 0 else 'right') + ' panel':<{width}}"
                      for i in range(len(pans)) if cols[i])
    lines = [head]
    for k in range(max(len(c) for c in cols)):
        lines.append("   ".join(f"{(c[k] if k < len(c) else ''):<{width}}" for c in cols if c))
    if placed is not None and not all(all(x) for x in placed):
        lines.append("* not numbered on the plot: no free place")
    return "\n".join(lines)


def draw(analysis, title: str | None = None):
    """The matplotlib Figure of an Analysis."""
    pans = panels(analysis)
    p = analysis.precision
    wl = analysis.workload
    head = title or (f"{'smolVLA, batch 1' if wl is not None else 'Roofline ceilings'} on the "
                     f"{analysis.platform_name.upper()}: {p.precision}")
    sub = ("EMULATED: nothing was timed on the card" if analysis.nothing_measured and analysis.runs else
           "nothing measured: spec ceilings and the timing model only" if not analysis.runs else
           "timed on the card: " + ", ".join(r.run_id for r in analysis.runs if not r.emulated))
    warn = any(w.startswith("PRECISION MISMATCH") for w in analysis.warnings)
    if warn:
        sub = "WARNING: precision mismatch between workload and kernels (see report)  |  " + sub
    return figure(pans, head, sub, alert=warn or "EMULATED" in sub)


def figure(pans: list[Panel], head: str, sub: str, alert: bool = False):
    """Panels side by side, the legend and the numbered ops below them, all inside the figure."""
    plt = _plt()
    from matplotlib.lines import Line2D
    scales = _scales(pans)
    n = len(pans)
    W = 5.9 * n + 0.8       # about 12.6 in for two panels: 8.5 pt text stays readable at page width
    fig = plt.figure(figsize=(W, 8.0))
    axes = []
    ax0 = None
    for i in range(n):
        ax = fig.add_subplot(1, n, i + 1, sharey=ax0)
        ax0 = ax0 or ax
        axes.append(ax)
    axes[0].set_ylabel("performance (GFLOP/s)")
    handles = {}
    for ax, p in zip(axes, pans):
        handles.update(_draw_panel(ax, p, scales))

    # legend: ceilings (short labels), then markers; below the panels, inside the figure
    ch, cl = [], []
    for key, (ln, c) in handles.items():
        ch.append(ln)
        cl.append(legend_label(c) if c is not None else f"flops run {key.split('.', 1)[1]} (empirical)")
    mk = [Line2D([], [], marker="o", linestyle="", color=c, markersize=7, label=f"{s} ops")
          for s, c in STAGE_COLOURS.items() if any(r["stage"] == s for p in pans for r in p.rows)]
    if any(p.rows for p in pans):
        mk += [Line2D([], [], marker=m, linestyle="", color="#777777", markersize=7, label=f"{k} op")
               for k, m in KIND_MARKERS.items()]
        if any(p_.hollow_model for p_ in pans):
            mk += [Line2D([], [], marker="o", linestyle="", color="#777777", markersize=7,
                          label="timed by a run"),
                   Line2D([], [], marker="o", linestyle="", markerfacecolor="none", color="#777777",
                          markersize=7, label="timed by the model")]
        if any(your_rows(p_) for p_ in pans):
            kernels = sorted({r["kernel_source"] for p_ in pans for r in your_rows(p_)})
            mk += [Line2D([], [], marker="D", linestyle="", markerfacecolor="none", color=YOURS_COLOUR,
                          markersize=7, label=f"your kernels ({', '.join(kernels)})")]
    title_txt = ("dashed: spec, solid: from a run or the model, dotted: assumption; thick: the roof the "
                 "panel's ops are placed under; marker area: share of the panel's time")
    leg = fig.legend(ch + mk, cl + [h.get_label() for h in mk], loc="lower left", bbox_to_anchor=(0.01, 0.005),
                     ncol=3 if n > 1 else 2, fontsize=LABEL_PT, frameon=False,
                     title="\n".join(textwrap.wrap(title_txt, 130 if n > 1 else 80)),
                     title_fontsize=LABEL_PT, alignment="left")
    key = fig.text(0.01, 0.0, _key_text(pans), fontsize=LABEL_PT - 0.5, ha="left", va="bottom", family="monospace",
                   color="#333333")

    t1 = fig.text(0.01, 0.99, head, fontsize=12, ha="left", va="top")
    t2 = fig.text(0.01, 0.95, sub, fontsize=8.5, ha="left", va="top", color="#b22222" if alert else "#555555")

    # heights in inches, bottom up: legend, the op key, x labels, panels, titles
    renderer = fig.canvas.get_renderer()
    leg_h = leg.get_window_extent(renderer).height / fig.dpi
    key_h = key.get_window_extent(renderer).height / fig.dpi if key.get_text() else 0.0
    ptitle = max(len(textwrap.wrap(p_.title, 70)) for p_ in pans)
    head_h = 0.62 + 0.17 * ptitle
    plot_h = 5.0
    H = 0.05 + leg_h + 0.12 + key_h + 0.62 + plot_h + head_h
    fig.set_size_inches(W, H)
    fig.subplots_adjust(left=0.62 / W, right=1 - 0.12 / W, top=1 - head_h / H,
                        bottom=(0.05 + leg_h + 0.12 + key_h + 0.62) / H, wspace=0.05)
    leg.set_bbox_to_anchor((0.01, 0.05 / H), transform=fig.transFigure)
    key.set_position((0.01, (0.05 + leg_h + 0.12) / H))
    t1.set_position((0.01, 1 - 0.08 / H))
    t2.set_position((0.01, 1 - 0.34 / H))
    for ax in axes[1:]:
        ax.tick_params(labelleft=False)
    fig.canvas.draw()
    placed = []
    for ax, p_ in zip(axes, pans):
        placer = Placer(ax, renderer)
        _label_ceilings(placer, p_, scales)
        placed.append(_tag_ops(placer, p_))
        _highlight(ax, placer, p_)
    key.set_text(_key_text(pans, placed))
    return fig


def render(analysis) -> tuple[bytes, bytes]:
    """(png bytes, svg bytes)."""
    plt = _plt()
    fig = draw(analysis)
    png, svg = io.BytesIO(), io.BytesIO()
    fig.savefig(png, format="png", dpi=150)
    fig.savefig(svg, format="svg")
    plt.close(fig)
    return png.getvalue(), svg.getvalue()
