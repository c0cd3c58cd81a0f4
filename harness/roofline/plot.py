"""The log-log roofline plot (headless): ceilings labelled with value and source, ops as points."""
from __future__ import annotations

import io
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

STAGE_COLOURS = {"vision": "#1f77b4", "prefix": "#ff7f0e", "expert": "#2ca02c"}
_MEM_COLOURS = {"memory.spec": "#444444", "memory.derated": "#888888", "memory.measured": "#6a3d9a",
                "memory.connectivity": "#d62728", "memory.connectivity.spec": "#d62728"}
_COMP_COLOURS = ["#17becf", "#bcbd22", "#e377c2", "#8c564b", "#7f7f7f"]


def _style(source: str) -> str:
    return {"spec": "--", "assumption": ":"}.get(source, "-")


def _short(v: float, unit: str) -> str:
    txt = f"{v:,.0f}" if v >= 100 else (f"{v:,.1f}" if v >= 10 else f"{v:.3g}")
    return f"{txt} {unit}"


def _source_tag(fig) -> str:
    if fig.source == "model":
        return "emulated (model)"
    return fig.source


def draw(analysis, title: str | None = None):
    """The matplotlib Figure of an Analysis."""
    ceil = analysis.ceilings
    rows = [r for r in analysis.rows if r["flop"] > 0 and math.isfinite(r["oi_FLOPpB"])]
    mems = [c for c in ceil.all if c.kind == "memory"]
    comps = [c for c in ceil.all if c.kind == "compute"]
    cmax = max(c.value for c in comps)
    cmin = min(c.value for c in comps)
    mmax = max(c.value for c in mems)
    mmin = min(c.value for c in mems)

    ois = [r["oi_FLOPpB"] for r in rows]
    ridges = [c.value / m.value for c in comps for m in mems]
    x_lo = min(ois + [min(ridges) / 20]) / 2
    x_hi = max(ois + [max(ridges) * 4]) * 2
    y_hi = cmax * 3
    y_lo = min([mmin * x_lo] + [r.get("spec_attainable_GFLOPps", cmin) for r in rows]) / 2

    fig, ax = plt.subplots(figsize=(13, 7.2))
    fig.subplots_adjust(left=0.07, right=0.60, top=0.90, bottom=0.09)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo, y_hi)
    ax.grid(True, which="major", color="#dddddd", linewidth=0.6)
    ax.grid(True, which="minor", color="#f2f2f2", linewidth=0.4)
    ax.set_xlabel("operational intensity (FLOP/B)")
    ax.set_ylabel("performance (GFLOP/s)")

    handles = []
    # memory ceilings: from the left edge up to the highest compute ceiling
    for c in mems:
        colour = _MEM_COLOURS.get(c.key, "#6a3d9a")
        x_end = cmax / c.value
        xs = [x_lo, min(x_end, x_hi)]
        ys = [c.value * x for x in xs]
        ln, = ax.plot(xs, ys, _style(c.source), color=colour, linewidth=1.6,
                      label=f"{c.figure.name}: {_short(c.value, 'GB/s')} "
                            f"[{_source_tag(c.figure)}: {c.figure.detail}]")
        handles.append(ln)
        _inline(ax, fig, xs, ys, f"{_short(c.value, 'GB/s')} ({_source_tag(c.figure)})", colour)
    # compute ceilings: from the fastest memory ceiling to the right edge
    for i, c in enumerate(comps):
        colour = _COMP_COLOURS[i % len(_COMP_COLOURS)]
        x0 = max(c.value / mmax, x_lo)
        ln, = ax.plot([x0, x_hi], [c.value, c.value], _style(c.source), color=colour, linewidth=1.6,
                      label=f"{c.figure.name}: {_short(c.value, 'GFLOP/s')} "
                            f"[{_source_tag(c.figure)}: {c.figure.detail}]")
        handles.append(ln)
        ax.text(x_hi / 1.08, c.value * 1.06, f"{_short(c.value, 'GFLOP/s')} {c.dtype} "
                f"({_source_tag(c.figure)})", ha="right", va="bottom", fontsize=7.5, color=colour)

    # ops: colour by stage, marker area by share of the inference's time
    share_key = "measured_time_share" if rows and "measured_time_share" in rows[0] else "spec_time_share"
    perf_key = "measured_attainable_GFLOPps" if share_key.startswith("measured") else "spec_attainable_GFLOPps"
    stage_handles = []
    for stage, colour in STAGE_COLOURS.items():
        sr = [r for r in rows if r["stage"] == stage]
        if not sr:
            continue
        ax.scatter([r["oi_FLOPpB"] for r in sr], [r[perf_key] for r in sr],
                   s=[12 + 900 * r[share_key] for r in sr], c=colour, alpha=0.65,
                   edgecolors="white", linewidths=0.6, zorder=3)
        stage_handles.append(Line2D([], [], marker="o", linestyle="", color=colour, alpha=0.65,
                                    markersize=8, label=f"{stage} ops"))
    for r in sorted(rows, key=lambda r: -r[share_key])[:4]:
        ax.annotate(f"{r['name']} ({100 * r[share_key]:.0f}%)", (r["oi_FLOPpB"], r[perf_key]),
                    xytext=(6, -10), textcoords="offset points", fontsize=7, color="#333333")

    style_handles = [Line2D([], [], linestyle="--", color="black", label="spec (dashed)"),
                     Line2D([], [], linestyle="-", color="black", label="measured / emulated (solid)")]
    if any(c.source == "assumption" for c in ceil.all):
        style_handles.append(Line2D([], [], linestyle=":", color="black", label="assumption (dotted)"))
    leg1 = ax.legend(handles=handles, title="ceilings: value [source: detail]", loc="upper left",
                     bbox_to_anchor=(1.02, 1.0), fontsize=7.2, title_fontsize=8, frameon=False)
    ax.add_artist(leg1)
    extra = stage_handles + style_handles
    if rows:
        extra.append(Line2D([], [], linestyle="", label=f"marker area: share of predicted time "
                            f"({'measured' if share_key.startswith('measured') else 'spec'} ceilings); "
                            f"points at attainable GFLOP/s"))
    ax.legend(handles=extra, loc="lower left", bbox_to_anchor=(1.02, 0.0), fontsize=7.5, frameon=False)

    p = analysis.precision
    wl = analysis.workload
    head = title or (f"{'smolVLA, batch 1' if wl is not None else 'Ceilings'} on {analysis.platform_name.upper()}"
                     f" - {p.precision} ({p.origin})")
    fig.suptitle(head, fontsize=11, x=0.07, ha="left")
    sub = ("nothing measured: spec ceilings only" if ceil.measured is None
           else f"{ceil.measured.label}: runs " + ", ".join(r.run_id for r in analysis.runs))
    if any(w.startswith("PRECISION MISMATCH") for w in analysis.warnings):
        sub = "WARNING precision mismatch (see report) - " + sub
    fig.text(0.07, 0.925, sub, fontsize=8.5, color="#b22222" if "WARNING" in sub else "#555555")
    return fig


def _inline(ax, fig, xs, ys, text, colour):
    """Value label along a memory line, near its left end, rotated to its slope on screen."""
    fig.canvas.draw_idle()
    x = xs[0] * 2.2
    y = ys[0] / xs[0] * x
    lo, hi = ax.get_ylim()
    if not lo < y < hi:
        return
    p1 = ax.transData.transform((xs[0], ys[0]))
    p2 = ax.transData.transform((xs[1], ys[1]))
    angle = math.degrees(math.atan2(p2[1] - p1[1], p2[0] - p1[0]))
    ax.text(x, y * 1.12, text, rotation=angle, rotation_mode="anchor", fontsize=7, color=colour,
            ha="left", va="bottom")


def render(analysis) -> tuple[bytes, bytes]:
    """(png bytes, svg bytes)."""
    fig = draw(analysis)
    png, svg = io.BytesIO(), io.BytesIO()
    fig.savefig(png, format="png", dpi=150)
    fig.savefig(svg, format="svg")
    plt.close(fig)
    return png.getvalue(), svg.getvalue()
