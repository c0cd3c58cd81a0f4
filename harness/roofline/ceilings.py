"""Ceilings as data: every line on the roofline is a Figure with its source.

Memory:
- `memory.spec`: the platform's HBM peak (460 GB/s, spec document): the card's.
- `memory.derated`: spec x F (--derate F), an assumption with its reason.
- `memory.measured` / `memory.emulated`: the best verified aggregate memcpy bandwidth over all PCs of
  a run: the card's, drawn; it is not what one kernel gets.
- `memory.pc.<origin>`: one PC (what one kernel port on one PC gets): the memcpy run's best per-PC
  read figure (origin measured | emulated), else the PC's spec figure (`memory.pc.spec`).
Compute:
- `compute.spec.<dtype>`: DSPs available to kernels x clock x MACs/DSP x 2 (platform data; the
  device total is noted in the detail).
- `compute.<origin>.<dtype>`: the best verified GFLOP/s of a `flops` run of that element type.
- `compute.design.<dtype>`: the GEMM design's peak by the timing model (its MACs x 2 x clock), the
  compute roof of GEMM-kind ops when no flops run of the element type is given.
A GEMM run's figures are never a ceiling: each is the achieved time of its own shape (achieved.py).

Ceiling sets: `spec` (the card's spec roofline: 460 GB/s aggregate, spec compute) and at most one
run-derived set whose key names its run figures: `measured` (all timed on the card), `emulated` (all
from emulated runs: model figures) or `runs` (both). In the run-derived set memory is per port
(harness.roofline.ports); GEMM-kind ops sit under the flops run's or the design's compute roof,
elementwise ops under the spec compute of the element type.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from harness.errors import UserError
from harness.figures import Figure, tag_of
from harness.roofline import platform as plat
from harness.roofline.ports import PortModel, kernel_of
from harness.results.reader import Run, check_ceiling_source


@dataclass(frozen=True)
class Ceiling:
    key: str              # unique id, e.g. "memory.spec", "compute.design.fp32"
    kind: str             # "memory" (GB/s) | "compute" (GFLOP/s)
    figure: Figure
    dtype: str | None = None

    @property
    def value(self) -> float:
        return self.figure.value

    @property
    def source(self) -> str:
        return self.figure.source

    def to_dict(self) -> dict:
        return {"key": self.key, "kind": self.kind, "dtype": self.dtype,
                **self.figure.to_dict(), "tag": self.figure.tag}


GEMM_KINDS = ("gemm", "attention")        # op kinds the GEMM kernel runs

_SHORT = {"spec": "spec", "measured": "measured", "emulated": "emulated (model)",
          "runs": "measured + emulated (model)", "achieved": "achieved"}
_LABEL = {"spec": "spec ceilings", "measured": "measured ceilings",
          "emulated": "emulated ceilings (model)",
          "runs": "run ceilings (measured and emulated (model) figures mixed)"}


def short_name(key: str) -> str:
    return _SHORT.get(key, key)


@dataclass
class CeilingSet:
    """The ceilings ops are placed under: a memory roof (aggregate, or per port), a compute roof per op kind."""
    key: str              # spec | measured | emulated | runs: the ceiling_set of its rows
    label: str
    memory: Ceiling       # the aggregate roof (spec) or the one-PC roof of a kernel port (run set; drawn)
    compute: Ceiling      # GEMM-kind ops (linear layers, attention products)
    dispatch: Figure
    notes: list[str] = field(default_factory=list)
    compute_elementwise: Ceiling | None = None   # elementwise ops; None = the same as `compute`
    run_figures: tuple = ()   # the figures of this set taken from runs (they decide `key`)
    ports: PortModel | None = None               # per-port memory (run set); None = aggregate roof

    @property
    def short(self) -> str:
        return short_name(self.key)

    @property
    def ew_compute(self) -> Ceiling:
        return self.compute_elementwise or self.compute

    def compute_for(self, kind: str) -> Ceiling:
        return self.compute if kind in GEMM_KINDS else self.ew_compute

    def memory_time(self, op, conv) -> tuple[float, str, Figure]:
        """(seconds, where, binding figure) of one call's bytes: through the kernel's ports, or at the
        aggregate roof."""
        return self.streams_time(kernel_of(op.kind), op.streams(conv))

    def streams_time(self, kernel: str, streams: dict) -> tuple[float, str, Figure]:
        if self.ports is not None:
            return self.ports.time(kernel, streams)
        return sum(streams.values()) / (self.memory.value * 1e9), self.memory.key, self.memory.figure

    @property
    def ridge_FLOPpB(self) -> float:
        return self.compute.value / self.memory.value

    @property
    def ridge_elementwise_FLOPpB(self) -> float:
        return self.ew_compute.value / self.memory.value

    def to_dict(self) -> dict:
        d = {"key": self.key, "label": self.label, "memory": self.memory.key,
             "memory_per_port": self.ports is not None,
             "compute": self.compute.key, "compute_elementwise": self.ew_compute.key,
             "ridge_FLOPpB": self.ridge_FLOPpB,
             "ridge_elementwise_FLOPpB": self.ridge_elementwise_FLOPpB,
             "dispatch": self.dispatch.to_dict(), "notes": list(self.notes)}
        if self.ports is not None:
            d["ports"] = {"origin": self.ports.origin, "kernels": self.ports.kernels,
                          "per_pc_read": self.ports.read.to_dict(), "per_pc_write": self.ports.write.to_dict()}
        return d


def set_key(run_figures) -> str:
    """'measured' | 'emulated' | 'runs' from the origins of the figures a set took from runs;
    'spec' when it took none (a set of spec and model figures is never called measured)."""
    srcs = {("measured" if f.origin == "measured" else "emulated") for f in run_figures}
    if not srcs:
        return "spec"
    if srcs == {"measured"}:
        return "measured"
    if "measured" in srcs:
        return "runs"
    return "emulated"


def set_label(key: str) -> str:
    return _LABEL.get(key, f"{key} ceilings")


@dataclass
class Ceilings:
    all: list[Ceiling]
    spec: CeilingSet
    run_set: CeilingSet | None      # the set taken from the runs (key measured | emulated | runs)
    notes: list[str]
    aggregate: Ceiling | None = None    # best verified aggregate memcpy bandwidth over all PCs (the card's)
    flops_curves: list = field(default_factory=list)   # (run, [(oi, GFLOP/s)]) of flops runs: drawn

    def get(self, key: str) -> Ceiling | None:
        for c in self.all:
            if c.key == key:
                return c
        return None

    def sets(self) -> list[CeilingSet]:
        return [self.spec] + ([self.run_set] if self.run_set else [])


def _num(v) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if pd.isna(f) else f


def _prefer_hardware(runs: list[Run]) -> list[Run]:
    hw = [r for r in runs if r.timing_source == "measured"]
    return hw or runs


def row_dtype(run: Run, row) -> str | None:
    d = row.get("dtype") if hasattr(row, "get") else None
    if d is None or (isinstance(d, float) and pd.isna(d)) or d == "":
        return run.dtype
    return str(d)


def _fmt(v: float) -> str:
    return f"{v:,.1f}" if abs(v) >= 10 else f"{v:.3g}"


def measured_memcpy(runs: list[Run]) -> Ceiling | None:
    """The best verified aggregate memcpy bandwidth over all PCs (the card's, drawn)."""
    best = None
    for r in _prefer_hardware([r for r in runs if r.bench == "memcpy"]):
        s = _sequential(r.verified_summary())
        if "bandwidth_GBps_best" not in s.columns:
            continue
        for _, row in s.iterrows():
            v = _num(row["bandwidth_GBps_best"])
            if v is not None and (best is None or v > best[0]):
                best = (v, r, row)
    if best is None:
        return None
    v, r, row = best
    fig = r.figure("HBM aggregate, memcpy best", v, "GB/s",
                   f"memcpy {row.get('direction', '')}, {_int(row.get('pcs'))} PCs")
    return Ceiling(f"memory.{fig.origin}", "memory", fig)


def _sequential(s):
    """The seq points of a memcpy summary: the ceilings are streaming figures, never a stride or
    random point's (`harness bench memcpy --pattern`)."""
    return s[s["pattern"].astype(str) == "seq"] if "pattern" in s.columns else s


def _int(v) -> str:
    n = _num(v)
    return str(int(n)) if n is not None else "?"


def per_pc(runs: list[Run], direction: str) -> Figure | None:
    """Best verified bandwidth of one PC in `direction`: max over memcpy points of bandwidth / PCs."""
    best = None
    for r in _prefer_hardware([r for r in runs if r.bench == "memcpy"]):
        s = _sequential(r.verified_summary())
        if not {"bandwidth_GBps_best", "pcs", "direction"} <= set(s.columns):
            continue
        for _, row in s[s["direction"].astype(str) == direction].iterrows():
            v, n = _num(row["bandwidth_GBps_best"]), _num(row["pcs"])
            if v is not None and n:
                if best is None or v / n > best[0]:
                    best = (v / n, r, row, n)
    if best is None:
        return None
    v, r, row, n = best
    how = f"memcpy {direction}, {int(n)} PC" + ("" if n == 1 else f"s: {_fmt(v * n)} GB/s / {int(n)}")
    return r.figure(f"HBM one PC, {direction}", v, "GB/s", how)


def flops_compute(runs: list[Run]) -> dict[str, Ceiling]:
    """Best verified GFLOP/s of the `flops` runs, per element type (the empirical compute roof)."""
    out = {}
    fl = [r for r in runs if r.bench == "flops"]
    dtypes = sorted({row_dtype(r, row) for r in fl for _, row in r.verified_summary().iterrows()} - {None})
    for d in dtypes:
        best = None
        for r in _prefer_hardware([r for r in fl if any(row_dtype(r, row) == d
                                                        for _, row in r.verified_summary().iterrows())]):
            s = r.verified_summary()
            if "throughput_GFLOPps_best" not in s.columns:
                continue
            for _, row in s.iterrows():
                v = _num(row["throughput_GFLOPps_best"])
                if row_dtype(r, row) == d and v is not None and (best is None or v > best[0]):
                    best = (v, r, row)
        if best is None:
            continue
        v, r, row = best
        what = f"flops kernel, {_int(row.get('flops_per_element'))} FLOP/element"
        oi = _num(row.get("oi_FLOPpB"))
        if oi is not None:
            what += f", OI {oi:.3g} FLOP/B"
        fig = r.figure(f"flops {d}, best", v, "GFLOP/s", what)
        out[d] = Ceiling(f"compute.{fig.origin}.{d}", "compute", fig, d)
    return out


def flops_curves(runs: list[Run]) -> list:
    """(run, dtype, [(oi, GFLOP/s), ...]) of every flops run: its empirical roofline, drawn."""
    out = []
    for r in runs:
        if r.bench != "flops":
            continue
        s = r.verified_summary()
        if not {"oi_FLOPpB", "throughput_GFLOPps_best"} <= set(s.columns):
            continue
        pts = sorted((float(a), float(b)) for a, b in zip(s["oi_FLOPpB"], s["throughput_GFLOPps_best"])
                     if _num(a) and _num(b))
        if pts:
            out.append((r, r.dtype, pts))
    return out


def measured_dispatch(runs: list[Run]) -> Figure | None:
    """Median start-to-wait time of the empty kernel (the smallest over latency runs, hardware first)."""
    best = None
    for r in _prefer_hardware([r for r in runs if r.bench == "latency"]):
        v = run_dispatch_s(r)
        if v is not None and (best is None or v < best[0]):
            best = (v, r)
    if best is None:
        return None
    return best[1].figure("dispatch overhead, median", best[0], "s", "empty kernel start-to-wait")


def run_dispatch_s(run: Run) -> float | None:
    s = run.verified_summary()
    if "kind" not in s.columns or "time_s_median" not in s.columns:
        return None
    vals = [v for v in (_num(x) for x in s[s["kind"].astype(str) == "dispatch"]["time_s_median"]) if v is not None]
    return min(vals) if vals else None


def collect(platform, runs: list[Run], precision: str, *, design=None, derate: float | None = None,
            extra_compute_dtypes=()) -> Ceilings:
    for r in runs:                       # XRT emulation times never become a ceiling
        check_ceiling_source(r)
    notes: list[str] = []
    all_: list[Ceiling] = []

    spec_mem = Ceiling("memory.spec", "memory", plat.hbm_peak(platform))
    all_.append(spec_mem)
    if derate is not None:
        if not 0 < derate <= 1:
            raise UserError(f"--derate must be in (0, 1], e.g. 0.8; got {derate}")
        all_.append(Ceiling("memory.derated", "memory",
                            Figure("HBM derated", spec_mem.value * derate, "GB/s", "assumption",
                                   f"{derate:g} x spec peak (--derate): protocol and controller "
                                   "losses, not measured")))
    agg = measured_memcpy(runs)
    if agg:
        all_.append(agg)

    spec_dtypes = [precision] + [d for d in extra_compute_dtypes if d != precision]
    spec_comp = {}
    for d in spec_dtypes:
        try:
            spec_comp[d] = Ceiling(f"compute.spec.{d}", "compute", plat.spec_compute(platform, d), d)
        except (KeyError, ValueError, UserError) as exc:
            notes.append(f"no spec compute ceiling for {d} in the platform data ({exc})")
            continue
        all_.append(spec_comp[d])
    if precision not in spec_comp:
        raise UserError(f"the platform has no compute figure for {precision}: use one of the "
                        "element types in harness/platforms/u280.toml")

    dispatch_model = plat.dispatch_overhead(platform)
    spec_set = CeilingSet("spec", set_label("spec"), spec_mem, spec_comp[precision], dispatch_model)

    # the run-derived set: per-port memory, the flops run's (or the design's) compute roof, measured dispatch
    rd, wr = per_pc(runs, "read"), per_pc(runs, "write")
    set_notes: list[str] = []
    if wr is None and rd is not None:
        wr = per_pc(runs, "copy")
        if wr is not None:
            set_notes.append("no memcpy write point: write ports get the per-PC copy figure")
        else:
            wr = rd
            set_notes.append("no memcpy write or copy point: write ports get the per-PC read figure")
    flops = flops_compute(runs)
    for d, c in flops.items():
        if d != precision:
            all_.append(c)
            notes.append(f"flops run of {d} drawn; it is not the compute roof of the {precision} workload")
    comp = flops.get(precision)
    disp = measured_dispatch(runs)
    run_figures = [f for f in (rd, wr if wr is not rd else None, agg.figure if agg else None,
                               comp.figure if comp else None, disp) if f is not None]
    run_set = None
    if run_figures:
        if rd is None:
            pc = plat.hbm_pc_spec(platform)
            rd = wr = Figure("HBM one PC", pc.value, "GB/s", pc.source, f"spec: {pc.detail}", document=pc.document)
            set_notes.append("no memcpy run given: kernel ports get the spec bandwidth of one PC")
        pc_ceiling = Ceiling(f"memory.pc.{rd.origin}", "memory", Figure(
            "one kernel port (1 PC)", rd.value, "GB/s", rd.source, rd.detail, rd.run_id, rd.emulated, rd.document))
        all_.append(pc_ceiling)
        if comp is None:
            if design is not None:
                dp = plat.design_peak(platform, dtype=precision, params=design.params, clock_mhz=design.clock_mhz,
                                      origin=design.origin, cus=design.cu_count("gemm"))
                comp = Ceiling(f"compute.design.{precision}", "compute", dp, precision)
                all_.append(comp)
                set_notes.append(f"no flops run of {precision}: the compute roof of GEMM and attention ops is "
                                 f"the GEMM design's peak by the timing model, {_fmt(dp.value)} GFLOP/s")
            else:
                comp = spec_comp[precision]
                set_notes.append(f"no flops run and no GEMM design of {precision}: GEMM compute roof is the spec")
        else:
            all_.append(comp)
        if disp is None:
            disp = dispatch_model
            set_notes.append("no latency run given: dispatch overhead is the model's")
        ports = None
        if design is not None and design.kernels:
            ports = PortModel(design.kernels, rd, wr, design.origin)
        else:
            set_notes.append("no GEMM design known: memory time at one PC per op")
        ew = spec_comp[precision]
        key = set_key(run_figures)
        run_set = CeilingSet(key, set_label(key), pc_ceiling, comp, disp, set_notes, compute_elementwise=ew,
                             run_figures=tuple(run_figures), ports=ports)
    return Ceilings(all_, spec_set, run_set, notes, agg, flops_curves(runs))


def source_tag(fig) -> str:
    """How a figure's source is shown (a Figure, or a dict of its fields): from its fields."""
    return tag_of(fig)
