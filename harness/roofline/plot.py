"""The log-log roofline plot (headless): ceilings labelled with value and source, ops as points."""
from __future__ import annotations

import io
import math
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from harness.roofline.ceilings import source_tag  # noqa: E402

STAGE_COLOURS = {"vision": "#1f77b4", "prefix": "#ff7f0e", "expert": "#2ca02c"}
# GEMM-kind ops sit under the GEMM compute roof, elementwise ops under their own (ceilings.GEMM_KINDS)
KIND_MARKERS = {"gemm": "o", "attention": "o", "elementwise": "^"}
_MEM_COLOURS = {"memory.spec": "#444444", "memory.derated": "#888888", "memory.measured": "#6a3d9a",
                "memory.emulated": "#6a3d9a",
                "memory.connectivity": "#d62728", "memory.connectivity.spec": "#d62728"}
_COMP_COLOURS = ["#17becf", "#bcbd22", "#e377c2", "#8c564b", "#7f7f7f"]


def _style(source: str) -> str:
    return {"spec": "--", "assumption": ":"}.get(source, "-")


def _short(v: float, unit: str) -> str:
    txt = f"{v:,.0f}" if v >= 100 else (f"{v:,.1f}" if v >= 10 else f"{v:.3g}")
    return f"{txt} {unit}"


def _source_tag(fig) -> str:
    return source_tag(fig)


def _panel(ax, fig, analysis, ceilings, cset, rows, share_key, scales):
    """One roofline panel: `ceilings` drawn, the roof of `cset` emphasised, ops at cset's attainable."""
    x_lo, x_hi, y_lo, y_hi = scales
    mems = [c for c in ceilings if c.kind == "memory"]
    comps = [c for c in ceilings if c.kind == "compute"]
    cmax = max(c.value for c in comps)
    mmax = max(c.value for c in mems)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo, y_hi)
    ax.grid(True, which="major", color="#dddddd", linewidth=0.6)
    ax.grid(True, which="minor", color="#f4f4f4", linewidth=0.4)
    ax.set_xlabel("operational intensity (FLOP/B)")
    roof = {cset.memory.key, cset.compute.key, cset.ew_compute.key}
    handles = []
    for i, c in enumerate(mems):
        colour = _MEM_COLOURS.get(c.key, "#6a3d9a")
        xs = [x_lo, min(cmax / c.value, x_hi)]
        ys = [c.value * x for x in xs]
        ln, = ax.plot(xs, ys, _style(c.source), color=colour, linewidth=2.4 if c.key in roof else 1.2,
                      alpha=1.0 if c.key in roof else 0.75, label=_legend_label(c))
        handles.append((c.key, ln))
        _inline(ax, fig, xs, ys, f"{_short(c.value, 'GB/s')} ({_source_tag(c.figure)})", colour,
                1.8 * 2.0 ** i, below=c.source == "assumption")
    for i, c in enumerate(comps):
        colour = _COMP_COLOURS[i % len(_COMP_COLOURS)]
        x0 = max(c.value / mmax, x_lo)
        ln, = ax.plot([x0, x_hi], [c.value, c.value], _style(c.source), color=colour,
                      linewidth=2.4 if c.key in roof else 1.2, alpha=1.0 if c.key in roof else 0.75,
                      label=_legend_label(c))
        handles.append((c.key, ln))
        ax.text(x0 * 1.15, c.value * 1.07, f"{_short(c.value, 'GFLOP/s')} {c.dtype} ({_source_tag(c.figure)})",
                ha="left", va="bottom", fontsize=7.5, color=colour)
    perf_key = f"{cset.key}_attainable_GFLOPps"
    for stage, colour in STAGE_COLOURS.items():
        for marker in sorted(set(KIND_MARKERS.values())):
            sr = [r for r in rows if r["stage"] == stage and KIND_MARKERS.get(r["kind"], "o") == marker]
            if sr:
                ew = marker != "o"
                ax.scatter([r["oi_FLOPpB"] for r in sr], [r[perf_key] for r in sr],
                           s=[(22 if ew else 10) + 900 * r[share_key] for r in sr], c=colour,
                           alpha=0.75 if ew else 0.6, marker=marker,
                           edgecolors="#333333" if ew else "white", linewidths=0.5 if ew else 0.6, zorder=3)
    top = sorted(rows, key=lambda r: -r[share_key])[:5]
    lines = []
    spots: dict = {}
    for k, r in enumerate(top, 1):
        key = (round(math.log10(r["oi_FLOPpB"]), 1), round(math.log10(max(r[perf_key], 1e-9)), 1))
        spots.setdefault(key, (r, []))[1].append(str(k))
        lines.append(f"{k}  {r['name']}  {100 * r[share_key]:.0f}%")
    for r, ks in spots.values():
        ax.annotate(",".join(ks), (r["oi_FLOPpB"], r[perf_key]), xytext=(0, -9), textcoords="offset points",
                    fontsize=7, color="#222222", ha="center", va="top", fontweight="bold")
    if lines:
        ax.text(0.98, 0.03, "largest shares of the predicted time\n" + "\n".join(lines),
                transform=ax.transAxes, ha="right", va="bottom", fontsize=7.2, family="monospace",
                bbox={"boxstyle": "round,pad=0.4", "facecolor": "white", "edgecolor": "#cccccc", "alpha": 0.9})
    if cset.ew_compute is not cset.compute:
        title = (f"under the {cset.label}: ridge {cset.ridge_FLOPpB:.1f} FLOP/B for GEMM/attention (o), "
                 f"{cset.ridge_elementwise_FLOPpB:.1f} FLOP/B for elementwise ops (^, under "
                 f"{_short(cset.ew_compute.value, 'GFLOP/s')} {cset.ew_compute.source})")
    else:
        title = f"under the {cset.label}: ridge {cset.ridge_FLOPpB:.1f} FLOP/B"
    ax.set_title("\n".join(textwrap.wrap(title, 95)), fontsize=9.5, loc="left")
    return handles


def _legend_label(c, width=105) -> str:
    unit = "GB/s" if c.kind == "memory" else "GFLOP/s"
    text = f"{c.figure.name}: {_short(c.value, unit)} [{_source_tag(c.figure)}: {c.figure.detail}]"
    return "\n    ".join(textwrap.wrap(text, width))


def draw(analysis, title: str | None = None):
    """The matplotlib Figure of an Analysis: one panel per ceiling set (spec, then measured)."""
    ceil = analysis.ceilings
    rows = [r for r in analysis.rows if r["flop"] > 0 and math.isfinite(r["oi_FLOPpB"])]
    mems = [c for c in ceil.all if c.kind == "memory"]
    comps = [c for c in ceil.all if c.kind == "compute"]
    cmax = max(c.value for c in comps)
    mmin = min(c.value for c in mems)
    ois = [r["oi_FLOPpB"] for r in rows]
    ridges = [c.value / m.value for c in comps for m in mems]
    x_lo = min(ois + [min(ridges) / 20]) / 2
    x_hi = max(ois + [max(ridges) * 4]) * 2
    perfs = [r[f"{s.key}_attainable_GFLOPps"] for r in rows for s in ceil.sets()]
    y_lo = min([mmin * x_lo] + perfs) / 2
    y_hi = cmax * 3
    scales = (x_lo, x_hi, y_lo, y_hi)

    sets = ceil.sets()
    n = len(sets)
    fig = plt.figure(figsize=(max(7.2 * n + 1.2, 11.0), 9.6))
    gs = fig.add_gridspec(2, n, height_ratios=[3.0, 1.0], left=0.075, right=0.98, top=0.88, bottom=0.03,
                          hspace=0.18, wspace=0.08)
    all_handles = {}
    ax0 = None
    for i, cs in enumerate(sets):
        ax = fig.add_subplot(gs[0, i], sharey=ax0)
        ax0 = ax0 or ax
        if i == 0:
            ax.set_ylabel("performance (GFLOP/s)")
        else:
            plt.setp(ax.get_yticklabels(), visible=False)
        shown = [c for c in ceil.all if cs.key != "spec" or c.source in ("spec", "assumption")]
        share_key = f"{cs.key}_time_share"
        for key, h in _panel(ax, fig, analysis, shown, cs, rows, share_key, scales):
            all_handles.setdefault(key, h)

    lax = fig.add_subplot(gs[1, :])
    lax.axis("off")
    width = 105 if n > 1 else 78
    handles = [all_handles[c.key] for c in ceil.all if c.key in all_handles]
    for c in ceil.all:
        if c.key in all_handles:
            all_handles[c.key].set_label(_legend_label(c, width))
    leg1 = lax.legend(handles=handles, title="\n".join(textwrap.wrap(
                      "ceilings: value [source: detail]  -  dashed spec, solid measured or emulated (model), "
                      "dotted assumption; thick: the roof the ops are placed under", width + 15)),
                      loc="upper left", bbox_to_anchor=(0.0, 1.0), fontsize=7.3, title_fontsize=8,
                      frameon=False, alignment="left")
    lax.add_artist(leg1)
    stage_handles = [Line2D([], [], marker="o", linestyle="", color=c, alpha=0.6, markersize=8,
                            label=f"{s} ops") for s, c in STAGE_COLOURS.items()
                     if any(r["stage"] == s for r in rows)]
    if rows:
        stage_handles += [
            Line2D([], [], marker="o", linestyle="", color="#777777", alpha=0.6, markersize=7,
                   label="GEMM / attention ops:\nunder the GEMM compute roof"),
            Line2D([], [], marker="^", linestyle="", color="#777777", alpha=0.6, markersize=7,
                   label="elementwise ops: under the\nelementwise roof (spec compute)")]
        stage_handles.append(Line2D([], [], linestyle="", label="marker area: share of the predicted\n"
                                    "time of one inference; points at\nattainable GFLOP/s"))
        lax.legend(handles=stage_handles, loc="upper right", bbox_to_anchor=(1.0, 1.0), fontsize=7.5,
                   frameon=False)

    p = analysis.precision
    wl = analysis.workload
    head = title or (f"{'smolVLA, batch 1' if wl is not None else 'Roofline ceilings'} on the "
                     f"{analysis.platform_name.upper()}, operands {p.precision} ({p.origin})")
    fig.suptitle(head, fontsize=11.5, x=0.075, ha="left", y=0.975)
    sub = ("nothing measured: spec ceilings only" if ceil.run_set is None
           else f"{ceil.run_set.label} from runs " + ", ".join(r.run_id for r in analysis.runs))
    if ceil.run_set is not None and analysis.nothing_measured:
        sub += "  -  EMULATED: nothing was timed on the card"
    warn = any(w.startswith("PRECISION MISMATCH") for w in analysis.warnings)
    if warn:
        sub = "WARNING: precision mismatch between workload and kernels (see report)  |  " + sub
    fig.text(0.075, 0.935, "\n".join(textwrap.wrap(sub, 95 * n + 40)), fontsize=8.5,
             color="#b22222" if warn else "#555555", va="top")
    return fig


def _inline(ax, fig, xs, ys, text, colour, factor=2.2, below=False):
    """Value label along a memory line, near its left end, rotated to its slope on screen."""
    x = xs[0] * factor
    if x > xs[1] / 1.5:
        return
    y = ys[0] / xs[0] * x
    lo, hi = ax.get_ylim()
    if not lo < y < hi:
        return
    p1 = ax.transData.transform((xs[0], ys[0]))
    p2 = ax.transData.transform((xs[1], ys[1]))
    angle = math.degrees(math.atan2(p2[1] - p1[1], p2[0] - p1[0]))
    ax.text(x, y / 1.15 if below else y * 1.12, text, rotation=angle, rotation_mode="anchor", fontsize=7,
            color=colour, ha="left", va="top" if below else "bottom")


def render(analysis) -> tuple[bytes, bytes]:
    """(png bytes, svg bytes)."""
    fig = draw(analysis)
    png, svg = io.BytesIO(), io.BytesIO()
    fig.savefig(png, format="png", dpi=150)
    fig.savefig(svg, format="svg")
    plt.close(fig)
    return png.getvalue(), svg.getvalue()
