"""Assemble the roofline: runs + workload + platform -> ceilings, classes, fusion, latency.

Everything here is computed before any file is written (the command writes the
outputs only once this succeeded).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from harness.errors import UserError
from harness.roofline import platform as plat
from harness.roofline.ceilings import Ceiling, CeilingSet, Ceilings, collect, measured_compute, with_compute
from harness.roofline.classify import changed_class, classify
from harness.roofline.fusion import fusion_table, run_pair_table
from harness.roofline.latency import inference_latency, latency_gap
from harness.results.reader import Run
from harness.workload.precision import PRECISIONS, check_precision, element_bytes

SCHEMA_VERSION = 2     # 2: ceiling-set keys measured|emulated|runs, per-op compute roofs, run_* sources


@dataclass
class PrecisionChoice:
    precision: str
    origin: str                         # how it was chosen
    kernel_dtypes: dict[str, list[str]]  # element type -> run ids of the GEMM/latency runs using it
    warnings: list[str] = field(default_factory=list)


def kernel_dtypes(runs: list[Run]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for r in runs:
        if r.bench not in ("gemm", "latency"):
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
            pc = PrecisionChoice(d, f"auto: the element type of the GEMM kernel in run {ids[0]}", kd)
        else:
            pc = PrecisionChoice("fp32", f"auto: {no_kernel_reason}", kd)
            pc.warnings.append("precision auto: no GEMM or latency run gives the kernel's element "
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
            f"B/element): every operational intensity is off by "
            f"{_ratio(pc.precision, d)} against these ceilings (the seed analysis' flaw); "
            "use --precision auto")
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
    workload: object | None
    ceilings: Ceilings
    derate: float | None
    rows: list[dict]
    changed: list[dict]
    fusion: list[dict]
    fusion_runs: list[dict]
    latency: list[dict]
    gap: list[dict]
    warnings: list[str]
    generated_utc: str

    @property
    def run_set(self) -> CeilingSet | None:
        return self.ceilings.run_set

    @property
    def nothing_measured(self) -> bool:
        """True when no figure was timed on the card (no run, or emulated runs only)."""
        return not any(r.timing_source == "measured" for r in self.runs)

    def to_json(self) -> dict:
        c = self.ceilings
        wl = self.workload
        return {
            "schema_version": SCHEMA_VERSION,
            "generated_utc": self.generated_utc,
            "platform": self.platform_name,
            "runs": [{"run_id": r.run_id, "bench": r.bench, "timing_source": r.timing_source,
                      "mode": r.context.get("mode"), "dtype": r.dtype, "path": str(r.path)}
                     for r in self.runs],
            "precision": {"element_type": self.precision.precision,
                          "element_bytes": element_bytes(self.precision.precision),
                          "origin": self.precision.origin,
                          "kernel_dtypes": self.precision.kernel_dtypes},
            "ceilings": [x.to_dict() for x in c.all],
            "ceiling_sets": {s.key: s.to_dict() for s in c.sets()},
            "run_ceilings": c.run_set.key if c.run_set else None,
            "aggregate_memory": c.aggregate.key if c.aggregate else None,
            "nothing_measured": self.nothing_measured,
            "no_runs": not self.runs,
            "workload": None if wl is None else {
                "name": wl.name, "config": dict(vars(wl.config)),
                "prefix_tokens": wl.config.prefix_tokens,
                "totals": wl.totals(self.precision.precision),
                "source": "model",
                "detail": "harness.workload (conventions: harness/docs/smolvla.md)"},
            "points": self.rows,
            "changed_class": self.changed,
            "fusion": self.fusion,
            "fusion_runs": self.fusion_runs,
            "latency": self.latency,
            "latency_gap": self.gap,
            "warnings": self.warnings,
        }


def analyze(runs: list[Run], workload=None, *, precision: str | None = "auto",
            derate: float | None = None, platform_name: str | None = None,
            extra_compute_dtypes=(), no_kernel_reason: str = "no GEMM run given, fp32 assumed") -> Analysis:
    names = {str(r.context.get("platform")) for r in runs if r.context.get("platform")}
    names = {n for n in names if n and n != "None"}
    if platform_name is None:
        if len(names) > 1:
            raise UserError(f"the runs come from different platforms ({', '.join(sorted(names))}): "
                            "give the runs of one card")
        platform_name = next(iter(names)) if names else "u280"
    platform = plat.load_platform(platform_name)

    pc = resolve_precision(precision, runs, no_kernel_reason)
    p = pc.precision
    ceil = collect(platform, runs, p, derate=derate, extra_compute_dtypes=extra_compute_dtypes)
    warnings = list(pc.warnings)
    for r in runs:
        if r.timing_source == "model":
            warnings.append(f"run {r.run_id} is emulated: its figures are model figures "
                            "(source 'model'), not measurements")
    warnings += ceil.notes
    if ceil.run_set:
        warnings += [f"{ceil.run_set.label}: {n}" for n in ceil.run_set.notes]
    # a figure above its physical ceiling is a bug to report, not a result
    spec_mem = ceil.spec.memory
    for c in ceil.all:
        if c.kind == "memory" and c.source in ("measured", "model") and c.value > spec_mem.value * 1.0001:
            warnings.append(f"{c.figure.name} {c.figure.label()} exceeds the spec peak "
                            f"{spec_mem.figure.label()}: a timing or byte-count bug; report it")
        if c.kind == "compute" and c.source in ("measured", "model"):
            sc = ceil.get(f"compute.spec.{c.dtype}")
            if sc and c.value > sc.value * 1.0001:
                warnings.append(f"{c.figure.name} {c.figure.label()} exceeds the spec compute "
                                f"ceiling {sc.figure.label()}: check the platform's MACs per DSP")

    sets = ceil.sets()
    rows, changed, fus, lat = [], [], [], []
    if workload is not None:
        rows = classify(workload, p, sets)
        changed = changed_class(rows, ceil.run_set)
        fus = fusion_table(workload, p, ceil.run_set or ceil.spec, [r for r in runs if r.bench == "gemm"])
        lat = inference_latency(workload, p, rows, sets)

    meas_comp = measured_compute(runs)

    def spec_compute_for(d):
        try:
            return Ceiling(f"compute.spec.{d}", "compute", plat.spec_compute(platform, d), d)
        except (KeyError, ValueError, UserError):
            return ceil.spec.compute

    def spec_for_dtype(d):
        return with_compute(ceil.spec, spec_compute_for(d), spec_compute_for(d))

    def runs_for_dtype(d):
        m = ceil.run_set
        if m is None:
            return None
        if d == p:
            return m
        return with_compute(m, meas_comp.get(d) or spec_compute_for(d), spec_compute_for(d))

    fus_runs = run_pair_table([r for r in runs if r.bench == "gemm"],
                              lambda d: runs_for_dtype(d) or spec_for_dtype(d))
    gap = latency_gap(platform, [r for r in runs if r.bench == "latency"], workload,
                      spec_for_dtype, runs_for_dtype)
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return Analysis(platform_name, runs, pc, workload, ceil, derate, rows, changed, fus, fus_runs,
                    lat, gap, warnings, now)
