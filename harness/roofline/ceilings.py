"""Ceilings as data: every line on the roofline is a Figure with its source.

- memory, spec: the platform's HBM peak (460 GB/s, spec document).
- memory, derated: spec x F (--derate F), an assumption with its reason.
- memory, run aggregate: best verified memcpy bandwidth over the PCs of a run
  (source 'measured' for hardware timing, 'model' for an emulated run; key
  memory.measured or memory.emulated accordingly).
- memory, GEMM connectivity: the sum of the per-PC bandwidth of the PCs the
  GEMM kernel's ports are connected to (what that kernel can actually get).
- compute, spec per precision: DSPs x clock x MACs/DSP x 2 (platform data).
- compute, run per precision: best verified GEMM throughput of a run (key
  compute.measured.<dtype> or compute.emulated.<dtype>). It applies to GEMM-kind
  ops (linear layers, attention products) only: elementwise ops keep the spec
  compute ceiling of the precision.

A ceiling set's `key` names what its run-derived figures are: 'spec' (no run),
'measured' (every figure taken from a run was timed on the card), 'emulated'
(every one comes from an emulated run: a model figure) or 'runs' (both). Every
column and JSON key derived from a set is prefixed by that key (harness/docs/roofline.md).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd

from harness.errors import UserError
from harness.figures import Figure, tag_of
from harness.roofline import platform as plat
from harness.results.reader import Run, check_ceiling_source


@dataclass(frozen=True)
class Ceiling:
    key: str              # unique id, e.g. "memory.spec", "compute.measured.fp32"
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
                **self.figure.to_dict(), "label": self.figure.label()}


GEMM_KINDS = ("gemm", "attention")        # op kinds the GEMM kernel's throughput applies to

_SHORT = {"spec": "spec", "measured": "measured", "emulated": "emulated (model)",
          "runs": "measured + emulated (model)"}
_LABEL = {"spec": "spec ceilings", "measured": "measured ceilings",
          "emulated": "emulated ceilings (model)",
          "runs": "run ceilings (measured and emulated (model) figures mixed)"}


@dataclass
class CeilingSet:
    """The ceilings that ops are classified under: one memory roof, a compute roof per op kind."""
    key: str              # spec | measured | emulated | runs: the prefix of every column derived from it
    label: str            # e.g. "measured ceilings" or "emulated ceilings (model)"
    memory: Ceiling
    compute: Ceiling      # GEMM-kind ops (linear layers, attention products)
    dispatch: Figure
    notes: list[str] = field(default_factory=list)
    compute_elementwise: Ceiling | None = None   # elementwise ops; None = the same as `compute`
    run_figures: tuple = ()   # the figures of this set taken from runs (they decide `key`)

    @property
    def short(self) -> str:
        """The set's name in table headers: 'spec', 'measured', 'emulated (model)', ..."""
        return _SHORT.get(self.key, self.key)

    @property
    def ew_compute(self) -> Ceiling:
        return self.compute_elementwise or self.compute

    def compute_for(self, kind: str) -> Ceiling:
        """The compute roof of an op kind: the GEMM one for gemm/attention, else the elementwise one."""
        return self.compute if kind in GEMM_KINDS else self.ew_compute

    @property
    def ridge_FLOPpB(self) -> float:
        return self.compute.value / self.memory.value

    @property
    def ridge_elementwise_FLOPpB(self) -> float:
        return self.ew_compute.value / self.memory.value

    def to_dict(self) -> dict:
        return {"key": self.key, "label": self.label, "memory": self.memory.key,
                "compute": self.compute.key, "compute_elementwise": self.ew_compute.key,
                "ridge_FLOPpB": self.ridge_FLOPpB,
                "ridge_elementwise_FLOPpB": self.ridge_elementwise_FLOPpB,
                "dispatch": self.dispatch.to_dict(), "notes": list(self.notes)}


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
    aggregate: Ceiling | None = None    # best verified aggregate memcpy bandwidth over all PCs

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


def _best_row(runs: list[Run], column: str, where=None):
    """(run, row) with the largest verified `column` over `runs`; (None, None) when none."""
    best = (None, None, -1.0)
    for r in runs:
        s = r.verified_summary()
        if column not in s.columns:
            continue
        if where is not None:
            s = s[s.apply(lambda row: where(r, row), axis=1)] if len(s) else s
        for _, row in s.iterrows():
            v = _num(row[column])
            if v is not None and v > best[2]:
                best = (r, row, v)
    return best[0], best[1]


def _fmt(v: float) -> str:
    return f"{v:,.1f}" if abs(v) >= 10 else f"{v:.3g}"


def row_dtype(run: Run, row) -> str | None:
    d = row.get("dtype") if hasattr(row, "get") else None
    if d is None or (isinstance(d, float) and pd.isna(d)) or d == "":
        return run.dtype
    return str(d)


def measured_memcpy(runs: list[Run]) -> Ceiling | None:
    mem = _prefer_hardware([r for r in runs if r.bench == "memcpy"])
    run, row = _best_row(mem, "bandwidth_GBps_best")
    if run is None:
        return None
    pcs = row.get("pcs", "")
    what = f"memcpy {row.get('direction', '')}, {pcs} PCs".strip()
    fig = run.figure("HBM aggregate, memcpy best", float(row["bandwidth_GBps_best"]), "GB/s", what)
    return Ceiling(f"memory.{fig.origin}", "memory", fig)


def measured_per_pc(runs: list[Run]) -> tuple[Figure, Run] | None:
    """Per-PC bandwidth: best verified single-PC memcpy point, else best aggregate / its PCs."""
    mem = _prefer_hardware([r for r in runs if r.bench == "memcpy"])

    def one_pc(_run, row):
        return _num(row.get("pcs")) == 1
    run, row = _best_row(mem, "bandwidth_GBps_best", where=one_pc)
    if run is not None:
        return run.figure("HBM per-PC bandwidth", float(row["bandwidth_GBps_best"]), "GB/s",
                          f"memcpy {row.get('direction', '')}, 1 PC"), run
    run, row = _best_row(mem, "bandwidth_GBps_best")
    if run is None:
        return None
    pcs = _num(row.get("pcs"))
    if not pcs:
        return None
    return run.figure("HBM per-PC bandwidth", float(row["bandwidth_GBps_best"]) / pcs, "GB/s",
                      f"memcpy {row.get('direction', '')} aggregate / {int(pcs)} PCs"), run


def measured_compute(runs: list[Run]) -> dict[str, Ceiling]:
    """Best verified GEMM GFLOP/s per element type."""
    gemm = [r for r in runs if r.bench == "gemm"]
    dtypes = set()
    for r in gemm:
        for _, row in r.verified_summary().iterrows():
            d = row_dtype(r, row)
            if d:
                dtypes.add(d)
    out = {}
    for d in sorted(dtypes):
        pool = _prefer_hardware([r for r in gemm
                                 if any(row_dtype(r, row) == d for _, row in r.verified_summary().iterrows())])
        run, row = _best_row(pool, "throughput_GFLOPps_best", where=lambda r, row: row_dtype(r, row) == d)
        if run is None:
            continue
        shape = "x".join(str(int(_num(row.get(k)) or 0)) for k in ("M", "K", "N"))
        path = row.get("path", "")
        fig = run.figure(f"GEMM {d}, best", float(row["throughput_GFLOPps_best"]), "GFLOP/s",
                         f"{shape} {path}".strip())
        out[d] = Ceiling(f"compute.{fig.origin}.{d}", "compute", fig, d)
    return out


def measured_dispatch(runs: list[Run]) -> Figure | None:
    lat = _prefer_hardware([r for r in runs if r.bench == "latency"])
    best = None
    for r in lat:
        s = r.verified_summary()
        if "kind" not in s.columns or "time_s_median" not in s.columns:
            continue
        for _, row in s[s["kind"].astype(str) == "dispatch"].iterrows():
            v = _num(row["time_s_median"])
            if v is not None and (best is None or v < best[0]):
                best = (v, r)
    if best is None:
        return None
    return best[1].figure("dispatch overhead, median", best[0], "s", "empty kernel start-to-wait")


@dataclass
class Connectivity:
    kernel: str
    ports: dict[str, list[str]]     # port -> banks (one per CU)
    origin: str                     # "run <id>" or "kernels/designs/gemm.toml"

    @property
    def pcs(self) -> list[tuple[str, int]]:
        seen = []
        for banks in self.ports.values():
            for b in banks:
                for pc in plat.parse_banks(b):
                    if pc not in seen:
                        seen.append(pc)
        return seen

    def describe(self) -> str:
        return ", ".join(f"{p}->{'/'.join(b)}" for p, b in self.ports.items())


def _ports_from_context(design: dict, kernel: str = "gemm") -> dict[str, list[str]] | None:
    k = (design or {}).get("kernels", {}).get(kernel)
    if not k:
        return None
    ports = {}
    for name, banks in (k.get("args") or {}).items():
        if isinstance(banks, str):
            banks = [banks] if plat.parse_banks(banks) else []
        if isinstance(banks, list) and banks and all(isinstance(b, str) for b in banks):
            if all(plat.parse_banks(b) for b in banks):
                ports[name] = banks
    return ports or None


def gemm_connectivity(runs: list[Run], precision: str | None) -> Connectivity | None:
    """The GEMM kernel's port -> bank map: from a gemm (or latency) run, else the design file."""
    for bench in ("gemm", "latency"):
        for r in runs:
            if r.bench == bench:
                ports = _ports_from_context(r.context.get("design"))
                if ports:
                    return Connectivity("gemm", ports, f"run {r.run_id}")
    try:
        from harness.designs import load_design
        d = load_design("gemm", dtype=precision)
        ports = _ports_from_context(d.to_context())
        if ports:
            return Connectivity("gemm", ports, f"kernels/designs/{getattr(d, 'base', 'gemm')}.toml")
    except Exception:  # noqa: BLE001 - design files are optional for the roofline
        return None
    return None


def collect(platform, runs: list[Run], precision: str, *, derate: float | None = None,
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

    conn = gemm_connectivity(runs, precision)
    conn_ceiling = None
    if conn and conn.pcs:
        n = len(conn.pcs)
        hbm_pcs = [pc for pc in conn.pcs if pc[0] == "HBM"]
        per = measured_per_pc(runs)
        if per and len(hbm_pcs) == n:
            fig, _ = per
            value = n * fig.value
            if agg:
                value = min(value, agg.value)
            conn_ceiling = Ceiling("memory.connectivity", "memory", fig.derived(
                f"GEMM ports ({n} PCs)", value,
                f"{n} x {_fmt(fig.value)} GB/s per PC ({fig.detail}); ports {conn.describe()} "
                f"({conn.origin})"))
        elif len(hbm_pcs) == n:
            pc_spec = plat.hbm_pc_spec(platform)
            if pc_spec:
                conn_ceiling = Ceiling("memory.connectivity.spec", "memory", Figure(
                    f"GEMM ports ({n} PCs), spec", n * pc_spec.value, "GB/s", "spec",
                    f"{n} x {_fmt(pc_spec.value)} GB/s per PC ({pc_spec.detail}); ports "
                    f"{conn.describe()} ({conn.origin})"))
        if conn_ceiling:
            all_.append(conn_ceiling)

    spec_dtypes = [precision] + [d for d in extra_compute_dtypes if d != precision]
    meas = measured_compute(runs)
    for d in meas:
        if d not in spec_dtypes:
            spec_dtypes.append(d)
    spec_comp = {}
    for d in spec_dtypes:
        try:
            spec_comp[d] = Ceiling(f"compute.spec.{d}", "compute", plat.spec_compute(platform, d), d)
        except (KeyError, ValueError, UserError) as exc:
            notes.append(f"no spec compute ceiling for {d} in the platform data ({exc})")
            continue
        all_.append(spec_comp[d])
    all_.extend(meas.values())
    if precision not in spec_comp:
        raise UserError(f"the platform has no compute figure for {precision}: use one of the "
                        "element types in harness/platforms/u280.toml")

    dispatch_model = plat.dispatch_overhead(platform)
    spec_set = CeilingSet("spec", set_label("spec"), spec_mem, spec_comp[precision], dispatch_model)

    run_set = None
    run_mem = None
    if conn_ceiling is not None and conn_ceiling.source != "spec":
        run_mem = conn_ceiling
    elif agg is not None:
        run_mem = agg
    comp = meas.get(precision)
    set_notes = []
    if comp is None and meas:
        # the kernels measured were built for another element type: use what they achieve
        comp = next(iter(meas.values()))
        set_notes.append(f"compute ceiling from the {comp.dtype} GEMM run: no {precision} GEMM run given")
    disp = measured_dispatch(runs)
    if run_mem is not None or comp is not None or disp is not None:
        run_figures = [c.figure for c in (run_mem, comp) if c is not None] + ([disp] if disp else [])
        if run_mem is None:
            run_mem = conn_ceiling or spec_mem
            set_notes.append(f"no memcpy run given: memory ceiling is {run_mem.figure.name} "
                             f"({run_mem.source})")
        elif run_mem is conn_ceiling and agg is not None:
            set_notes.append(
                f"memory roof used to classify: {conn_ceiling.figure.name} {_fmt(conn_ceiling.value)} GB/s "
                f"(the GEMM kernel's connectivity); the best verified aggregate over all PCs taken from "
                f"the runs, {_fmt(agg.value)} GB/s ({source_tag(agg.figure)}), is drawn but not used")
        if comp is None:
            comp = spec_comp[precision]
            set_notes.append(f"no GEMM run given: compute ceiling is the {precision} spec figure")
        if disp is None:
            disp = dispatch_model
            set_notes.append("no latency run given: dispatch overhead is the model's")
        ew = spec_comp[precision]
        if comp is not ew:
            set_notes.append(
                f"elementwise ops (bias, activations, norms, softmax, RoPE, residual adds) are placed under "
                f"the {precision} spec compute ceiling ({_fmt(ew.value)} GFLOP/s): the GEMM kernel's "
                f"throughput applies to GEMM and attention products only, and no run or harness.model "
                f"figure gives an elementwise kernel's GFLOP/s")
        key = set_key(run_figures)
        run_set = CeilingSet(key, set_label(key), run_mem, comp, disp, set_notes, compute_elementwise=ew,
                             run_figures=tuple(run_figures))
    else:
        notes.append("nothing was measured: only spec ceilings are drawn; run "
                     "`harness bench memcpy|gemm|latency` and pass the run directories with --results")
    return Ceilings(all_, spec_set, run_set, notes, agg)


def _from_run(c: Ceiling) -> bool:
    return c.figure.run_id is not None


def with_compute(cs: CeilingSet, comp: Ceiling, ew: Ceiling | None = None) -> CeilingSet:
    """A copy of `cs` whose GEMM compute roof is `comp` (and elementwise roof `ew`), for a point of
    another element type; the key is recomputed from the run-derived figures it then holds."""
    if cs.key == "spec":
        return replace(cs, compute=comp, compute_elementwise=ew or cs.compute_elementwise)
    figs = [f for f in cs.run_figures if f is not cs.compute.figure]
    if _from_run(comp):
        figs.append(comp.figure)
    key = set_key(figs)
    return replace(cs, key=key, label=cs.label if key == cs.key else set_label(key), compute=comp,
                   compute_elementwise=ew or cs.compute_elementwise, run_figures=tuple(figs))


def source_tag(fig) -> str:
    """How a figure's source is shown (a Figure, or a dict of its fields): from its fields."""
    return tag_of(fig)
