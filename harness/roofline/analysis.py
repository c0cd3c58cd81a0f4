"""Assemble the roofline: runs + workload + platform -> ceilings, per-shape times, rows, fusion, latency.

Everything here is computed before any file is written (the command writes the outputs only once
this succeeded). Python API: `analyze(runs, "smolvla")` -> Analysis with `.rows`, `.summary`,
`.dataframe()`, `.plot()` (harness/roofline/__init__.py).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from harness.errors import UserError
from harness.roofline import platform as plat
from harness.roofline.achieved import Achieved, RunTimes
from harness.roofline.yours import KernelTimes, comparison
from harness.roofline.ceilings import Ceilings, collect, measured_dispatch
from harness.roofline.classify import COLUMNS, achieved_rows, changed_class, mark_kernel_source, set_rows
from harness.roofline.design import gemm_design
from harness.roofline.fusion import fusion_table, run_pair_table
from harness.roofline.latency import gap_breakdown, gap_components, launches, shape_gaps
from harness.roofline.transfers import per_inference, pick_run
from harness.figures import Figure
from harness.results.reader import Run
from harness.workload.precision import PRECISIONS, ByteConvention, check_precision, element_bytes

SCHEMA_VERSION = 3   # 3: one row per op and ceiling set (ceiling_set column), per-port memory, achieved rows, summary


@dataclass
class PrecisionChoice:
    precision: str
    origin: str                         # how it was chosen
    kernel_dtypes: dict[str, list[str]]  # element type -> run ids of the GEMM/latency/flops runs using it
    warnings: list[str] = field(default_factory=list)


def kernel_dtypes(runs: list[Run]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for r in runs:
        if r.bench not in ("gemm", "latency", "flops", "kernel"):
            continue
        ds = set()
        if r.dtype:
            ds.add(r.dtype)
        s = r.verified_summary()
        if "dtype" in s.columns:
            ds |= {str(d) for d in s["dtype"].dropna().unique()}
        for d in ds:
            out.setdefault(d, []).append(r.run_id)
    return out


def resolve_precision(arg: str | None, runs: list[Run],
                      no_kernel_reason: str = "no GEMM run given, fp32 assumed") -> PrecisionChoice:
    kd = kernel_dtypes(runs)
    gemm_kd = kernel_dtypes([r for r in runs if r.bench == "gemm"]) or kd
    arg = (arg or "auto").lower()
    if arg == "auto":
        if len(gemm_kd) > 1:
            raise UserError(f"the GEMM runs given were built with different element types "
                            f"({', '.join(sorted(gemm_kd))}): give --precision, or one element type's runs")
        if gemm_kd:
            d, ids = next(iter(gemm_kd.items()))
            check_precision(d)
            pc = PrecisionChoice(d, f"auto: the element type of the kernel in run {ids[0]}", kd)
        else:
            pc = PrecisionChoice("fp32", f"auto: {no_kernel_reason}", kd)
            pc.warnings.append("precision auto: no GEMM, latency or flops run gives the kernel's element "
                               "type; bytes are counted at fp32 (assumption) - pass a GEMM run")
    else:
        check_precision(arg)
        pc = PrecisionChoice(arg, "given with --precision", kd)
    others = {d: ids for d, ids in kd.items() if d != pc.precision}
    for d, ids in sorted(others.items()):
        pc.warnings.append(
            f"PRECISION MISMATCH: the workload is counted at {pc.precision} "
            f"({element_bytes(pc.precision)} B/element) but the kernel of run "
            f"{', '.join(ids)} was built with {d} ({element_bytes(d) if d in PRECISIONS else '?'} "
            f"B/element): its operand bytes are off by {_ratio(pc.precision, d)} against these "
            "figures (the seed analysis' flaw); use --precision auto")
    return pc


def _ratio(a: str, b: str) -> str:
    if b not in PRECISIONS:
        return "an unknown factor"
    r = element_bytes(b) / element_bytes(a)
    return f"{r:g}x (too high)" if r > 1 else f"{1 / r:g}x (too low)"


@dataclass
class Analysis:
    platform_name: str
    runs: list[Run]
    precision: PrecisionChoice
    convention: ByteConvention
    workload: object | None
    ceilings: Ceilings
    design: object | None
    derate: float | None
    rows: list[dict]                 # one per op and ceiling set (classify.COLUMNS)
    changed: list[dict]
    fusion: list[dict]
    fusion_runs: list[dict]
    latency: dict                    # the three latencies, launches, the gap and its components
    latency_shapes: list[dict]
    summary: dict
    notices: list[str]               # one line per kind: what a reader must know
    warnings: list[str]              # problems: precision mismatch, figures above their bound
    generated_utc: str
    your_kernels: list[dict] = field(default_factory=list)   # per op your kernels cover: time vs roofline

    @property
    def run_set(self):
        return self.ceilings.run_set

    @property
    def nothing_measured(self) -> bool:
        """True when no figure was timed on the card (no run, or emulated runs only)."""
        return not any(r.timing_source == "measured" for r in self.runs)

    def rows_of(self, ceiling_set: str) -> list[dict]:
        return [r for r in self.rows if r["ceiling_set"] == ceiling_set]

    def dataframe(self):
        """The rows as a pandas DataFrame (columns: harness.roofline.classify.COLUMNS)."""
        import pandas as pd
        return pd.DataFrame(self.rows, columns=COLUMNS)

    def plot(self):
        """The roofline as a matplotlib Figure (close it with matplotlib.pyplot.close)."""
        from harness.roofline.plot import draw
        return draw(self)

    def to_json(self) -> dict:
        c = self.ceilings
        wl = self.workload
        return {
            "schema_version": SCHEMA_VERSION,
            "generated_utc": self.generated_utc,
            "platform": self.platform_name,
            "summary": self.summary,
            "runs": [{"run_id": r.run_id, "bench": r.bench, "timing_source": r.timing_source,
                      "mode": r.context.get("mode"), "dtype": r.dtype, "path": str(r.path)}
                     for r in self.runs],
            "precision": {"element_type": self.precision.precision,
                          "element_bytes": self.convention.operand_bytes,
                          "output_bytes": self.convention.output_bytes,
                          "byte_convention": self.convention.describe(),
                          "origin": self.precision.origin,
                          "kernel_dtypes": self.precision.kernel_dtypes},
            "design": None if self.design is None else {
                "origin": self.design.origin, "dtype": self.design.dtype, "params": self.design.params,
                "clock_mhz": self.design.clock_mhz, "kernels": self.design.kernels, "cus": self.design.cus},
            "ceilings": [x.to_dict() for x in c.all],
            "ceiling_sets": {s.key: s.to_dict() for s in c.sets()},
            "run_ceilings": c.run_set.key if c.run_set else None,
            "aggregate_memory": c.aggregate.key if c.aggregate else None,
            "nothing_measured": self.nothing_measured,
            "no_runs": not self.runs,
            "workload": None if wl is None else {
                "name": wl.name, "config": dict(vars(wl.config)),
                "prefix_tokens": wl.config.prefix_tokens,
                "totals": wl.totals(self.convention),
                "source": "model",
                "detail": "harness.workload (conventions: harness/docs/smolvla.md)"},
            "columns": COLUMNS,
            "points": self.rows,
            "changed_class": self.changed,
            "fusion": self.fusion,
            "fusion_runs": self.fusion_runs,
            "latency": self.latency,
            "latency_shapes": self.latency_shapes,
            "your_kernels": self.your_kernels,
            "notices": self.notices,
            "warnings": self.warnings,
        }


def _platform_name(runs, platform_name):
    names = {str(r.context.get("platform")) for r in runs if r.context.get("platform")}
    names = {n for n in names if n and n != "None"}
    if platform_name is None:
        if len(names) > 1:
            raise UserError(f"the runs come from different platforms ({', '.join(sorted(names))}): "
                            "give the runs of one card")
        platform_name = next(iter(names)) if names else "u280"
    return platform_name


def _notices(runs, ceil, workload) -> list[str]:
    """One line per kind of thing a reader must know."""
    out = []
    emu = [r.run_id for r in runs if r.emulated]
    if emu:
        one = len(emu) == 1
        out.append(f"{'run' if one else 'runs'} {', '.join(emu)} {'is' if one else 'are'} emulated: every figure "
                   f"taken from {'it' if one else 'them'} is a model figure ('emulated (model)'), not a measurement")
    if not runs:
        out.append("nothing was measured: no run given; run `harness bench memcpy|gemm|latency|flops` and pass "
                   "the run directories with --results")
    out += ceil.notes
    return out


def analyze(runs, workload=None, *, precision: str | None = "auto", derate: float | None = None,
            platform_name: str | None = None, extra_compute_dtypes=(),
            no_kernel_reason: str = "no GEMM run given, fp32 assumed") -> Analysis:
    """The roofline of `workload` (a Workload, a name such as "smolvla", or None for ceilings only)
    from `runs` (Run objects or run directories)."""
    if runs and not isinstance(runs[0], Run):
        from harness.results.reader import load_runs
        runs = load_runs(runs)
    runs = list(runs or [])
    if isinstance(workload, str):
        from harness.workload.smolvla import build_workload
        workload = build_workload(workload)
    platform_name = _platform_name(runs, platform_name)
    platform = plat.load_platform(platform_name)

    pc = resolve_precision(precision, runs, no_kernel_reason)
    p = pc.precision
    conv = ByteConvention.of(p)
    design, design_note = gemm_design(runs, p, platform)
    ceil = collect(platform, runs, p, design=design, derate=derate, extra_compute_dtypes=extra_compute_dtypes)
    notices = _notices(runs, ceil, workload)
    warnings = list(pc.warnings) if workload is not None else [w for w in pc.warnings if "MISMATCH" in w]
    if design_note and workload is not None:
        notices.append(design_note + ("" if design is not None else ": no per-shape times"))

    # figures above their physical ceiling are bugs to report, not results
    spec_mem = ceil.spec.memory
    for c in ceil.all:
        if c.kind == "memory" and c.figure.run_id and c.value > spec_mem.value * 1.0001:
            warnings.append(f"{c.figure.name} {c.figure.label()} exceeds the spec peak "
                            f"{spec_mem.figure.label()}: a timing or byte-count bug; report it")
        if c.kind == "compute" and c.figure.run_id and c.dtype:
            sc = ceil.get(f"compute.spec.{c.dtype}")
            if sc and c.value > sc.value * 1.0001:
                warnings.append(f"{c.figure.name} {c.figure.label()} exceeds the spec compute "
                                f"ceiling {sc.figure.label()}: check the platform's MACs per DSP")

    dispatch = (ceil.run_set or ceil.spec).dispatch
    hw_disp = measured_dispatch([r for r in runs if not r.emulated])
    run_times = RunTimes(runs, plat.dispatch_overhead(platform), hw_disp)
    yours = KernelTimes(runs, workload, plat.dispatch_overhead(platform), hw_disp)
    notices += yours.notes
    if yours.clamped:
        warnings.append(f"your kernels' medians at or below the launch cost, counted as 0 s: "
                        f"{', '.join(yours.clamped)}")
    if yours and design is None:
        notices.append("your kernels' runs are not placed: there is no design to time the other ops of the "
                       "inference against")
    achieved = Achieved(platform, design, p, run_times, yours) if design is not None else None
    roof_set = ceil.run_set or ceil.spec

    rows, changed, fus, lat, shapes = [], [], [], {}, []
    n_launch = n_fused = None
    if workload is not None:
        spec_rows = set_rows(workload, conv, ceil.spec)
        rows += spec_rows
        if ceil.run_set is not None:
            run_rows = set_rows(workload, conv, ceil.run_set)
            rows += run_rows
            changed = changed_class(spec_rows, run_rows)
        if achieved is not None:
            ach = achieved_rows(workload, conv, achieved, roof_set)
            rows += ach
            above = [r for r in ach if r["attained_GFLOPps"] and r["compute_roof_GFLOPps"]
                     and r["attained_GFLOPps"] > r["compute_roof_GFLOPps"] * 1.0001]
            timed = [r["name"] for r in above if r["run_id"] and not r.get("kernel_source")]
            yours_above = [r["name"] for r in above if r.get("kernel_source")]
            if yours_above:
                warnings.append(f"{len(yours_above)} op(s) your kernels ran faster than their compute roof allows "
                                f"({', '.join(yours_above[:4])}): check the spec's flop count or cycle model")
            modelled = [r["name"] for r in above if not r["run_id"]]
            if timed:
                warnings.append(f"{len(timed)} op(s) timed by a run above their compute roof ({', '.join(timed[:4])}"
                                f"{', ...' if len(timed) > 4 else ''}): the run's design or timing disagrees "
                                "with the roof; check the run")
            if modelled:
                notices.append(f"{len(modelled)} op(s) modelled above their compute roof ({', '.join(modelled[:4])}"
                               f"{', ...' if len(modelled) > 4 else ''}): the timing model's GEMM design peaks "
                               f"above {roof_set.compute.figure.name} ({roof_set.compute.value:,.1f} GFLOP/s)")
        mark_kernel_source(rows)
        if run_times.clamped:
            warnings.append(f"run medians at or below the launch cost, counted as 0 s: {', '.join(run_times.clamped)}")
        fus = fusion_table(workload, conv, roof_set, achieved, dispatch)
        n_launch, n_fused = launches(workload)
        lat = {"latency_roofline_spec_s": sum(r["time_total_s"] for r in spec_rows),
               "latency_roofline_runs_s": (sum(r["time_total_s"] for r in rows if r["ceiling_set"] == ceil.run_set.key)
                                           if ceil.run_set is not None else None),
               "latency_achieved_s": None, "launches": n_launch, "launches_fused": n_fused,
               "dispatch": dispatch.to_dict(), "gap": None, "components": []}
        xfer = per_inference(workload.config, pick_run(runs))
        xfig = Figure.from_dict(xfer["figure"])
        lat["host_transfers"] = xfer
        lat["host_transfers_s"] = xfig.value
        if achieved is not None:
            a_sum = sum(r["time_total_s"] for r in rows if r["ceiling_set"] == "achieved")
            lat["latency_achieved_s"] = a_sum + dispatch.value * n_launch + xfig.value
            gap = gap_breakdown(workload, conv, achieved, roof_set, dispatch, n_launch, xfig)
            ref = lat["latency_roofline_runs_s"] if ceil.run_set is not None else lat["latency_roofline_spec_s"]
            gap["total_s"] = lat["latency_achieved_s"] - ref
            lat["gap"] = gap
            lat["components"] = gap_components(gap, dispatch, f"harness.model, design {design.origin}", xfig)
    lat_runs = [r for r in runs if r.bench == "latency"]
    if lat_runs:
        shapes = shape_gaps(lat_runs, achieved, ByteConvention.of, ceil.sets(), workload)

    def design_for(d):
        return design if d == p else gemm_design(runs, d, platform)[0]
    fus_runs = run_pair_table([r for r in runs if r.bench == "gemm"], platform, design_for, dispatch)

    from harness.roofline.summary import build_summary
    summary = build_summary(pc, conv, ceil, rows, lat, fus, dispatch, runs, workload is not None)
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    mine = comparison(rows, roof_set.key) if workload is not None else []
    return Analysis(platform_name, runs, pc, conv, workload, ceil, design, derate, rows, changed, fus, fus_runs,
                    lat, shapes, summary, notices, warnings, now, mine)
