"""`harness plot RUN_DIR`: what one run holds, drawn (verified measured repetitions only).

memcpy: bandwidth against size per direction and PC count, and the same per CU (and, for a run with
--target-pc, a port PC x target PC heat map beside the model's); stride and random
points: bandwidth against transaction size per pattern, measured beside the model's figure; gemm: GFLOP/s per
shape and path (median, with the best and worst repetition); latency: the launch-time CDF of the
empty kernel and each GEMM shape's distribution; flops: GFLOP/s against operational intensity;
transfer: bandwidth and time per transfer against size, per direction and bank, each beside the
model's (dashed, labelled modeled).
"""
from __future__ import annotations

import numpy as np

from harness.errors import UserError
from harness.results.points import key_columns, label, measured


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _source(run) -> str:
    return "EMULATED (model): not timed on a card" if run.emulated else "measured on the card"


def draw(run):
    plt = _plt()
    m = measured(run)
    if m.empty:
        raise UserError(f"run {run.run_id} has no verified measured repetition to draw")
    fn = {"memcpy": _memcpy, "gemm": _gemm, "latency": _latency, "flops": _flops,
          "transfer": _transfer}.get(run.bench)
    if fn is None:
        raise UserError(f"no plot for bench {run.bench!r}")
    fig = fn(plt, run, m)
    fig.suptitle(f"{run.bench} run {run.run_id} - {_source(run)}", x=0.01, ha="left", fontsize=11,
                 color="#b22222" if run.emulated else "#222222")
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return fig


def _memcpy(plt, run, m):
    m = m.copy()
    m["bandwidth_GBps"] = m["bytes"] / m["time_s"] / 1e9 if "bandwidth_GBps" not in m else m["bandwidth_GBps"]
    cus = m["cus"] if "cus" in m else np.ceil(m["pcs"] / 2).where(m["direction"] == "copy", m["pcs"])
    m["per_cu_GBps"] = m["bandwidth_GBps"] / cus
    patterned = m["pattern"].astype(str) != "seq" if "pattern" in m else np.zeros(len(m), bool)
    seq, pats = m[~patterned], m[patterned]
    pattern_names = [p for p in ("stride", "random") if (pats["pattern"] == p).any()] if len(pats) else []
    # Size sweep: a column per direction (read, write, copy), aggregate above per CU; pattern panels in
    # a row of their own. Within a panel each series sits a little left or right of the others around
    # each size, and its model's figure just right of it, so series with equal figures (as they are
    # in emulation, where the figure is the model's) stay visible.
    dirs = list(dict.fromkeys(d for d in ("read", "write", "copy", *seq["direction"]) if (seq["direction"] == d).any()))
    ncols = max(len(dirs), 2 if pattern_names else 1)
    nrows = (2 if len(seq) else 0) + int(len(pattern_names) > 0)
    fig, axes = plt.subplots(nrows, ncols, figsize=(max(12, 5.0 * ncols), 4.8 * nrows), squeeze=False)
    row = 0
    if len(seq):
        seq = seq.copy()
        seq["model_bandwidth_GBps"] = _model_GBps(seq)
        seq["model_per_cu_GBps"] = seq["model_bandwidth_GBps"] / cus[~patterned]
        where = _target_columns(seq)
        if where and len(seq[where].drop_duplicates()) > MAX_TARGET_SERIES:
            # a matrix (--port-pc, --target-pc all): a series per switch relation, the median over its
            # cells; every cell is in the heat map (<run>-switch.png)
            from harness import model
            plat = model.load_platform(str(run.context.get("platform") or "u280"))
            seq["relation"] = [model.switch_target(plat, int(p), int(t))
                               for p, t in zip(seq["port_pc"], seq["target_pc"])]
            where = ["relation"]
        colors = plt_colors()
        for j, d in enumerate(dirs):
            # one series per PC count and target: a cross-switch run's local and other-group points never
            # share a median
            groups = list(seq[seq["direction"] == d].groupby(["direction", "pcs", *where], dropna=False))
            for r, (col, what) in enumerate((("bandwidth_GBps", "aggregate"), ("per_cu_GBps", "per CU"))):
                ax = axes[r][j]
                for k, (key, g) in enumerate(groups):
                    pcs = key[1]
                    tag = f"{d}, {int(pcs)} PC{'s' if pcs > 1 else ''}" + _target_tag(key[2:], where)
                    med = g.groupby("bytes_per_pc")[[col, "model_" + col]].median()
                    c = colors[k % len(colors)]
                    spread = 0.12 * (k - (len(groups) - 1) / 2)
                    ax.plot(med.index * 2.0 ** (spread - 0.03), med[col].values, marker="o", ms=5, color=c,
                            label=f"{tag}: {_what(run)}")
                    if med["model_" + col].notna().any():
                        ax.plot(med.index * 2.0 ** (spread + 0.03), med["model_" + col].values, ls="--",
                                marker="s", ms=5, markerfacecolor="none", color=c, alpha=0.8, label=f"{tag}: model")
                ax.set_xscale("log", base=2)
                # half an octave either side of the sizes: the offsets stay small beside the axis,
                # even for a run of one size
                sizes = seq["bytes_per_pc"].astype(float)
                ax.set_xlim(sizes.min() / 2 ** 0.5, sizes.max() * 2 ** 0.5)
                # from zero, with headroom: a flat series is not blown up to noise nor clipped
                top = max([float(np.nanmax(ln.get_ydata())) for ln in ax.lines
                           if np.isfinite(np.asarray(ln.get_ydata(), float)).any()] or [1.0])
                ax.set_ylim(0, 1.15 * top)
                ax.ticklabel_format(axis="y", style="plain", useOffset=False)
                ax.set_xlabel("bytes per PC (each series a little apart; model just right of it)", fontsize=8)
                ax.set_ylabel(f"bandwidth {what} (GB/s, median)")
                ax.set_title(f"{d}: {what}", fontsize=10)
                ax.grid(True, color="#e3e3e3")
                ax.legend(fontsize=7, loc="lower right")     # bandwidth plateaus high: the low right is free
        for j in range(len(dirs), ncols):
            axes[0][j].set_visible(False)
            axes[1][j].set_visible(False)
        row = 2
    for i, name in enumerate(pattern_names):
        _pattern_panel(axes[row][i], run, pats[pats["pattern"] == name], name)
    if pattern_names:
        for j in range(len(pattern_names), ncols):
            axes[row][j].set_visible(False)
    return fig


def _what(run) -> str:
    return "emulated (model)" if run.emulated else "measured"


def _model_GBps(g):
    """harness.model's figure for each repetition's point: its bytes over model_time_s + one dispatch
    (start() to wait() includes the launch), NaN where the run has no model time."""
    from harness import model
    if "model_time_s" not in g:
        return np.nan
    dispatch = model.dispatch_overhead(model.load_platform("u280")).value
    return g["bytes"] / (g["model_time_s"].astype(float) + dispatch) / 1e9


def _target_columns(g) -> list[str]:
    """port_pc/target_pc when the run placed buffers away from their ports (--target-pc)."""
    if "target_pc" not in g or "port_pc" not in g:
        return []
    t, p = g["target_pc"], g["port_pc"]
    return ["port_pc", "target_pc"] if bool((t.notna() & p.notna() & (t != p)).any()) else []


MAX_TARGET_SERIES = 8      # more (port PC, target PC) pairs than this: a series per switch relation


def _target_tag(values, where) -> str:
    if not where:
        return ""
    if where == ["relation"]:
        return f", {values[0]} (median of its cells)"
    pp, tp = values
    if pp != pp or tp != tp or int(pp) == int(tp):
        return ", local"
    return f", port HBM[{int(pp)}] -> HBM[{int(tp)}]"


def _pattern_panel(ax, run, g, name: str) -> None:
    """Bandwidth against transaction size for one pattern: each series' verified median (solid, filled)
    beside the model's figure for the same points (dashed, hollow): bytes / (model_time_s + dispatch)."""
    from harness import model
    dispatch = model.dispatch_overhead(model.load_platform("u280")).value
    g = g.copy()
    g["model_GBps"] = g["bytes"] / (g["model_time_s"] + dispatch) / 1e9
    pairs = g[["txn_bytes", "stride_bytes"]].drop_duplicates() if name == "stride" else None
    per_txn_stride = pairs is not None and pairs["stride_bytes"].nunique() == len(pairs) and len(pairs) > 1
    if name == "stride":       # a stride per transaction size (the default 2 x txn) or a fixed stride
        g["series"] = (g["stride_bytes"] / g["txn_bytes"]).map(lambda r: f"stride {r:g} x txn") if per_txn_stride \
            else g["stride_bytes"].map(lambda b: f"stride {int(b):,} B")
    else:
        g["series"] = ""
    colors = plt_colors()
    what = "emulated (model)" if run.emulated else "measured"
    where = _target_columns(g)
    for k, (key, s) in enumerate(g.groupby(["direction", "pcs", "bytes_per_pc", "series", *where], dropna=False)):
        d, pcs, size, series = key[:4]
        med = s.groupby("txn_bytes")[["bandwidth_GBps", "model_GBps"]].median()
        c = colors[k % len(colors)]
        tag = f"{d}, {int(pcs)} PC{'s' if pcs > 1 else ''}, {_bytes(size)}/PC" + (f", {series}" if series else "") \
            + _target_tag(key[4:], where)
        x = med.index.to_numpy(float)
        # dodged sideways (x 2^-+DODGE) so a run that matches its model still shows both, side by side
        ax.plot(x * 2 ** -DODGE, med["bandwidth_GBps"], color=c, marker="o", label=f"{tag}: {what}")
        ax.plot(x * 2 ** DODGE, med["model_GBps"], color=c, marker="s", markerfacecolor="none", linestyle="--",
                label=f"{tag}: model")
    ax.set_xscale("log", base=2)
    sizes = sorted(g["txn_bytes"].astype(int).unique())
    ax.set_xticks(sizes, [_bytes(t) for t in sizes])
    ax.minorticks_off()
    ax.set_xlabel("transaction size (bytes; measured left of each size, model right)")
    ax.set_ylabel("bandwidth (GB/s, median)")
    ax.set_title(f"{name} access: {what} beside the model", fontsize=10)
    ax.grid(True, color="#e3e3e3")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=1, frameon=False)


DODGE = 0.07      # log2 units: measured and model markers sit this far left and right of their size


def plt_colors() -> list:
    return ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf", "#7f7f7f"]


def _bytes(n) -> str:
    n = int(n)
    for unit, k in (("G", 30), ("M", 20), ("K", 10)):
        if n >= 1 << k and n % (1 << k) == 0:
            return f"{n >> k} {unit}iB"
    return f"{n} B"

def _transfer(plt, run, m):
    from matplotlib.ticker import LogFormatterSciNotation, LogLocator, ScalarFormatter
    fig, axes = plt.subplots(1, 2, figsize=(12, 5))
    src = "emulated (model)" if run.emulated else "measured"
    colour = {"h2d": "#1f77b4", "d2h": "#d62728"}     # one colour per direction, in both panels
    banks = list(dict.fromkeys(m["bank"]))
    for ax, col, ylabel in ((axes[0], "bandwidth_GBps", "bandwidth (GB/s, decimal, median)"),
                            (axes[1], "time_s", "time per transfer (us, median)")):
        drawn = set()
        for (d, bank), g in m.groupby(["direction", "bank"], sort=False):
            med = g.groupby("bytes")[col].median()
            model_t = g.groupby("bytes")["model_time_s"].first()
            scale = 1e6 if col == "time_s" else 1.0
            # banks side by side around each size (2^(+-0.08) apart), so equal figures stay visible
            shift = 2.0 ** (0.16 * (banks.index(bank) - (len(banks) - 1) / 2))
            ax.plot(med.index * shift, med.values * scale, marker="o" if d == "h2d" else "s", ms=4,
                    color=colour.get(d), alpha=0.85, fillstyle="full" if banks.index(bank) % 2 == 0 else "none",
                    label=f"{d} {bank} ({src})")
            if d not in drawn:           # the model is the same for every bank: once per direction, on top
                drawn.add(d)
                mv = model_t * 1e6 if col == "time_s" else model_t.index / model_t / 1e9
                ax.plot(model_t.index, mv.values, ls="--", lw=1.2, color="black" if d == "h2d" else "#555555",
                        zorder=5, label=f"{d} model (harness.model)")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        if col == "time_s":          # 10, 20, 50, 100 us ...: plain numbers, a few per decade
            ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1, 2, 5)))
            ax.yaxis.set_major_formatter(ScalarFormatter())
        else:
            ax.yaxis.set_major_formatter(LogFormatterSciNotation())
        ax.yaxis.set_minor_formatter(plt.NullFormatter())
        ax.set_xlabel("bytes per transfer (one bo.sync)")
        ax.set_ylabel(ylabel)
        ax.grid(True, color="#e3e3e3")
        ax.legend(fontsize=7)
    return fig


def _gemm(plt, run, m):
    keys = [k for k in key_columns(run) if k in m]
    groups = list(m.groupby(keys, dropna=False))
    fig, ax = plt.subplots(figsize=(max(7, 0.6 * len(groups) + 3), 5))
    names, med, lo, hi = [], [], [], []
    for k, g in groups:
        kd = dict(zip(keys, k if isinstance(k, tuple) else (k,)))
        names.append(f"{int(kd['M'])}x{int(kd['K'])}x{int(kd['N'])}\n{kd.get('path', '')} {kd.get('epilogue', '')}")
        v = g["throughput_GFLOPps"].to_numpy(float)
        med.append(np.median(v))
        lo.append(np.median(v) - v.min())
        hi.append(v.max() - np.median(v))
    ax.bar(range(len(names)), med, yerr=[lo, hi], color="#1f77b4", capsize=3)
    ax.set_xticks(range(len(names)), names, fontsize=7, rotation=45, ha="right")
    ax.set_ylabel("GFLOP/s (median; bars: worst and best repetition)")
    ax.grid(True, axis="y", color="#e3e3e3")
    return fig


def _latency(plt, run, m):
    disp = m[m["kind"].astype(str) == "dispatch"]
    gemm = m[m["kind"].astype(str) == "gemm"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 5))
    ax = axes[0]
    if len(disp):
        t = np.sort(disp["time_s"].to_numpy(float)) * 1e6
        ax.step(t, np.arange(1, t.size + 1) / t.size, where="post")
        ax.set_xlabel("launch time of the empty kernel, start to wait (us)")
        ax.set_ylabel("fraction of launches")
        ax.set_title(f"dispatch: {t.size} launches, median {np.median(t):,.1f} us", fontsize=9)
    ax.grid(True, color="#e3e3e3")
    ax = axes[1]
    if len(gemm):
        groups = list(gemm.groupby(["M", "K", "N"]))
        ax.boxplot([g["time_s"].to_numpy(float) * 1e6 for _, g in groups])
        ax.set_xticks(range(1, len(groups) + 1), [f"{int(a)}x{int(b)}x{int(c)}" for (a, b, c), _ in groups],
                      fontsize=8, rotation=30, ha="right")
        ax.set_yscale("log")
        ax.set_ylabel("batch-1 GEMM time, start to wait (us)")
    ax.grid(True, color="#e3e3e3")
    return fig


def _flops(plt, run, m):
    fig, ax = plt.subplots(figsize=(7, 5))
    for d, g in m.groupby("dtype") if "dtype" in m else [(run.dtype, m)]:
        med = g.groupby("oi_FLOPpB")["throughput_GFLOPps"].median() if "oi_FLOPpB" in g else None
        if med is not None:
            ax.plot(med.index, med.values, marker="o", label=str(d))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("operational intensity (FLOP/B)")
    ax.set_ylabel("GFLOP/s (median)")
    ax.grid(True, color="#e3e3e3")
    ax.legend()
    return fig


def _same(col, v):
    """Rows of `col` equal to the key value v (NaN matches NaN: a seq point has no txn_bytes)."""
    if v is None or (isinstance(v, float) and v != v):
        return col.isna()
    return col == v


def is_cross_switch(run) -> bool:
    """A memcpy run that placed buffers away from their ports (--target-pc): it gets a heat map."""
    s = run.summary
    if run.bench != "memcpy" or "target_pc" not in s or "port_pc" not in s:
        return False
    t, p = s["target_pc"], s["port_pc"]
    return bool((t.notna() & p.notna() & (t != p)).any())


def switch_heatmap(run):
    """Port PC x target PC, GB/s per CU: the run's figure (verified measured repetitions, median)
    beside harness.model's at the same points; one row of panels per direction, CU count and access,
    at the largest size of each. Rows: the port under test of bw_memcpy_1 (every CU at the same place
    from its own port), or with --port-pc of each CU driven alone."""
    from harness import model
    from harness.results.points import modeled_memcpy_GBps as modeled_GBps
    plt = _plt()
    m = measured(run)
    if m.empty:
        raise UserError(f"run {run.run_id} has no verified measured repetition to draw")
    m = m[m["port_pc"].notna() & m["target_pc"].notna()].copy()
    plat = model.load_platform(str(run.context.get("platform") or "u280"))
    dispatch_s = model.dispatch_overhead(plat).value
    group_pcs = plat.group("hbm").switch_group_pcs or 0
    combos = []
    # Cells come from every point of the run (the summary), so a point that failed verification keeps
    # its cell (drawn as failed) instead of silently dropping its port or target from the matrix.
    summ = run.summary[run.summary["port_pc"].notna() & run.summary["target_pc"].notna()]
    access = [k for k in ("pattern", "txn_bytes", "stride_bytes") if k in summ]   # one panel per access too
    keys = ["direction", "cus", *access]
    for key, g in summ.groupby(keys, sort=False, dropna=False):
        d, cus = key[0], key[1]
        how = "" if not access or key[2] == "seq" else " " + " ".join(
            [str(key[2])] + [_size_label(int(v)) for v in key[3:] if v == v and v is not None])
        size = g["bytes_per_pc"].max()
        g = g[g["bytes_per_pc"] == size]
        mine = m[(m["bytes_per_pc"] == size)
                 & np.logical_and.reduce([_same(m[k], v) for k, v in zip(keys, key)])]
        cells = {}
        for _, row in g.iterrows():
            pp, tp = int(row["port_pc"]), int(row["target_pc"])
            c = mine[(mine["port_pc"] == pp) & (mine["target_pc"] == tp)]
            got = float(np.median(c["bandwidth_GBps"])) / int(cus) if len(c) else FAILED
            cells[(pp, tp)] = (got, (modeled_GBps(row, dispatch_s) or np.nan) / int(cus))
        combos.append((d + how, int(cus), int(size), cells))
    nrows = max(len({p for p, _ in c}) for _, _, _, c in combos)
    ncols = max(len({t for _, t in c}) for _, _, _, c in combos)
    text = nrows <= MAX_TEXT_ROWS          # a figure in each cell while there is room for it
    panel_w = 2.6 + ncols * (0.6 if text else 0.22)
    panel_h = 1.9 + nrows * (0.5 if text else 0.22)
    # measured and model side by side while both fit a page's width, else the model under the measured
    stacked = 2 * panel_w > MAX_FIG_W_IN
    if stacked:
        fig, grid_axes = plt.subplots(2 * len(combos), 1, squeeze=False,
                                      figsize=(max(9.0, panel_w), 1.0 + 2 * panel_h * len(combos)))
        axes = grid_axes.reshape(len(combos), 2)
    else:
        fig, axes = plt.subplots(len(combos), 2, squeeze=False,
                                 figsize=(max(9.0, 2 * panel_w), 1.0 + panel_h * len(combos)))
    what = "emulated (model)" if run.emulated else "measured"
    for row_axes, (d, cus, size, cells) in zip(axes, combos):
        ports = sorted({p for p, _ in cells})
        targets = sorted({t for _, t in cells})
        vmax = max(v for pair in cells.values() for v in pair if v == v and v != FAILED)
        for ax, k, name in ((row_axes[0], 0, what), (row_axes[1], 1, "model")):
            grid = np.full((len(ports), len(targets)), np.nan)
            failed = []
            for (p, t), pair in cells.items():
                if pair[k] == FAILED:
                    failed.append((ports.index(p), targets.index(t)))
                else:
                    grid[ports.index(p), targets.index(t)] = pair[k]
            im = matrix_panel(ax, grid, ports, targets, vmax, group_pcs, text)
            for i, j in failed:        # no figure: the point failed verification (kept, never drawn as a value)
                ax.text(j, i, "x", ha="center", va="center", fontsize=9, color="#b22222", fontweight="bold")
            if failed:
                ax.set_xlabel(ax.get_xlabel() + f";  x: failed verification ({len(failed)} cell"
                              f"{'s' if len(failed) != 1 else ''}, no figure)", fontsize=8)
            ax.set_title(f"{name}: {d}, {cus} CU{'s' if cus > 1 else ''}, {_size_label(size)} per PC",
                         fontsize=9)
            fig.colorbar(im, ax=ax, label="GB/s per CU (decimal)", shrink=0.9)
    rows = ("rows: the port under test of each CU, driven alone (--port-pc)" if "port_pc" in run.context
            else "rows: bw_memcpy_1's port under test (every CU at the same place from its own port)")
    fig.suptitle(f"memcpy run {run.run_id}: cross-switch, GB/s per CU - {_source(run)}\n{rows}"
                 + (f"; lines: {group_pcs}-PC switch groups" if group_pcs else ""),
                 x=0.01, ha="left", fontsize=10, color="#b22222" if run.emulated else "#222222")
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.6 / fig.get_figheight()))
    return fig


FAILED = -1.0             # a heat-map cell whose point failed verification (drawn as an x, never a value)
MAX_TEXT_ROWS = 4          # heat-map rows up to which each cell carries its figure (more: the colour bar)
MAX_TICKS = 16             # more PCs than this on an axis: a label at each switch group's first PC
MAX_FIG_W_IN = 18.0        # wider than this, a matrix's measured and model panels are stacked


def matrix_panel(ax, grid, ports: list[int], targets: list[int], vmax: float, group_pcs: int, text: bool):
    """One port PC x target PC matrix: cells coloured 0..vmax, PC labels (every one, or each switch
    group's first past MAX_TICKS), a line between switch groups, and the figures if `text`."""
    im = ax.imshow(grid, cmap="viridis", vmin=0, vmax=vmax, aspect="auto", interpolation="nearest")
    if text:
        font = 8 if len(targets) <= 12 else 6.5
        for i in range(len(ports)):
            for j in range(len(targets)):
                v = grid[i, j]
                if v == v:
                    ax.text(j, i, f"{v:.1f}", ha="center", va="center", fontsize=font,
                            color="white" if v < 0.6 * vmax else "black")
    for axis, pcs, line in ((ax.xaxis, targets, ax.axvline), (ax.yaxis, ports, ax.axhline)):
        shown = [(i, pc) for i, pc in enumerate(pcs)
                 if len(pcs) <= MAX_TICKS or not group_pcs or pc % group_pcs == 0 or i == 0]
        axis.set_ticks([i for i, _ in shown], [str(pc) for _, pc in shown], fontsize=8)
        if group_pcs:
            for i in range(len(pcs) - 1):
                if pcs[i] // group_pcs != pcs[i + 1] // group_pcs:
                    line(i + 0.5, color="white", linewidth=0.8)
    ax.set_xlabel("target PC (where the buffer lies)", fontsize=8)
    ax.set_ylabel("port PC (switch port)", fontsize=8)
    return im


def _size_label(n: int) -> str:
    for unit, k in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << k and n % (1 << k) == 0:
            return f"{n >> k} {unit}"
    return f"{n} B"


def describe(run) -> str:
    return f"{run.bench} run {run.run_id}: {len(measured(run))} verified repetitions over " \
           f"{measured(run).groupby(key_columns(run), dropna=False).ngroups} points"


__all__ = ["draw", "describe", "label", "is_cross_switch", "matrix_panel", "switch_heatmap"]
