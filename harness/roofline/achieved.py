"""Per-shape times: what each op of one inference takes on the design, shape by shape.

Where a gemm or latency run covers an op (element type, M x K x N, epilogue), the op's time is that
run's median start-to-wait time minus the launch cost of that run (dispatch is counted once, as
dispatch_s x launches), with the run as source. Every other op is timed by the timing model for its
own shape (source `model`): GEMM-kind ops by predict_gemm with the design's params, elementwise ops
by predict_elementwise as one pass of the design's elementwise kernel (bias_gelu: its `in`, `bias`
and `out` ports; an assumption, the design has no other elementwise kernel). No shape's figure is
ever applied to another shape.

Launch cost subtracted from a run's medians: a latency run's own empty-kernel median; an emulated
gemm run's, the model's dispatch (what the emulator charges); a hardware gemm run's, the hardware
latency run's median when given, else the model's (noted).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from harness.figures import Figure
from harness.roofline import platform as plat
from harness.roofline.ceilings import run_dispatch_s, row_dtype
from harness.workload.precision import output_bytes


def launch_cost(r, dispatch_model, hw_dispatch):
    """(seconds, how) of the launch cost to take off a run's median: what that run's timing charges."""
    if r.emulated:
        return dispatch_model.value, "the model's dispatch, which the emulator charges"
    if hw_dispatch is not None:
        return hw_dispatch.value, f"the empty-kernel median of {hw_dispatch.run_id}"
    return dispatch_model.value, "the model's dispatch (no hardware latency run given: an assumption)"

# elementwise op kinds with a deep pipeline (transcendental or a row reduction): the bias_gelu pass
DEEP_ELEMENTWISE = {"gelu", "silu", "layernorm", "rmsnorm", "softmax"}


def norm_epilogue(v) -> str:
    """Kernel epilogue codes and spellings -> 'none' | 'bias' | 'bias+gelu' | ..."""
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return "none"
    s = str(v).strip().lower()
    codes = {"0": "none", "1": "bias", "2": "bias+gelu", "0.0": "none", "1.0": "bias", "2.0": "bias+gelu"}
    if s in codes:
        return codes[s]
    return s.replace("_", "+").replace("-", "+").replace(" ", "")


def model_epilogue(epi: str) -> tuple[str, str | None]:
    """The kernel epilogue that models a chain's epilogue, and the assumption it takes (or None)."""
    acts = [a for a in epi.split("+") if a and a != "none"]
    if not acts:
        return "none", None
    if acts == ["bias"]:
        return "bias", None
    if "gelu" in acts:
        return "bias_gelu", None
    return "bias_gelu", f"the kernel's only activation epilogue is GELU: {epi} modelled as bias_gelu"


@dataclass
class Timed:
    """One call of an op (or a fused chain): its time without dispatch, with the source and the model's parts."""
    time_s: float
    source: str                      # 'measured' | 'model'
    detail: str
    run_id: str | None = None
    emulated: bool = False
    bound: str = ""                  # the model's class of the shape: compute | memory | latency
    model_time_s: float | None = None
    parts: dict = field(default_factory=dict)   # compute_s, memory_s, roundtrip_s, refills_s, overlap_s
    kernel_peak_GFLOPps: float | None = None
    pipeline_depth_s: float | None = None
    kernel_source: str = ""          # your kernel (a `bench kernel` run's spec) that timed this op, if any

    @property
    def tag(self) -> str:
        return "emulated (model)" if self.emulated else self.source

    def figure(self, name: str) -> Figure:
        return Figure(name, self.time_s, "s", self.source, self.detail, self.run_id, self.emulated)


def _parts(pred) -> dict:
    c = float(getattr(pred, "compute_s", 0.0) or 0.0)
    m = float(getattr(pred, "memory_s", 0.0) or 0.0)
    lat = float(getattr(pred, "latency_s", 0.0) or 0.0)
    f = float(getattr(pred, "pipeline_fill_s", 0.0) or 0.0)
    rt = max(lat - f, 0.0)
    # a model whose stages overlap predicts less than the sum of its parts: the overlap is a credit
    overlap = float(pred.time_s) - (c + m + rt + f)
    return {"compute_s": c, "memory_s": m, "roundtrip_s": rt, "refills_s": f, "overlap_s": overlap}


class RunTimes:
    """Medians of the gemm and latency runs per (dtype, M, K, N, epilogue, path), launch cost subtracted."""

    def __init__(self, runs, dispatch_model: Figure, hw_dispatch: Figure | None):
        self.notes: list[str] = []
        self.entries: dict = {}       # key -> list of (priority, time_s, run, detail)
        self.clamped: list[str] = []
        for r in runs:
            if r.bench not in ("gemm", "latency"):
                continue
            s = r.verified_summary()
            if "time_s_median" not in s.columns or not {"M", "K", "N"} <= set(s.columns):
                continue
            if r.bench == "latency":
                own = run_dispatch_s(r)
                if own is not None:
                    cost, how = own, "its own empty-kernel median"
                else:
                    cost, how = launch_cost(r, dispatch_model, hw_dispatch)
            else:
                cost, how = launch_cost(r, dispatch_model, hw_dispatch)
            hw = 0 if r.timing_source == "measured" else 1
            for _, row in s.iterrows():
                if r.bench == "latency" and str(row.get("kind", "gemm")) != "gemm":
                    continue
                try:
                    M, K, N = int(row["M"]), int(row["K"]), int(row["N"])
                except (TypeError, ValueError):
                    continue
                d = row_dtype(r, row)
                epi = norm_epilogue(row.get("epilogue"))
                path = str(row.get("path", "gemm")) if r.bench == "gemm" else "gemm"
                med = float(row["time_s_median"])
                if path == "unfused":
                    g = row.get("gemm_time_s_median")
                    if g is not None and not pd.isna(g):
                        self._add((d, M, K, N, "none", "gemm"), (hw, 2, float(g), cost, r,
                                  f"run {r.run_id}: the GEMM launch of the unfused {epi} point", how))
                    continue
                prio = 0 if r.bench == "latency" else 1
                self._add((d, M, K, N, epi, path), (hw, prio, med, cost, r, f"run {r.run_id}", how))

    def _add(self, key, entry):
        self.entries.setdefault(key, []).append(entry)

    def get(self, dtype, M, K, N, epi="none", path="gemm") -> Timed | None:
        es = self.entries.get((dtype, int(M), int(K), int(N), epi, path))
        if not es:
            return None
        hw, prio, med, cost, r, what, how = sorted(es, key=lambda e: (e[0], e[1]))[0]
        t = med - cost
        detail = f"{what}: median {med * 1e6:,.1f} us - launch cost {cost * 1e6:,.1f} us ({how})"
        if t <= 0:
            self.clamped.append(f"{r.run_id} {M}x{K}x{N}")
            t = 0.0
        prov = r.provenance()
        return Timed(t, prov["source"], detail + (", emulated" if prov["emulated"] else ""), r.run_id,
                     prov["emulated"])

    def covered(self) -> set:
        return set(self.entries)


class Achieved:
    """Per-shape times of the workload's ops (and fused chains) on the GEMM design."""

    def __init__(self, platform, design, precision: str, run_times: RunTimes | None, yours=None):
        """yours: harness.roofline.yours.KernelTimes, the ops your kernels' runs cover."""
        self.platform, self.design, self.precision = platform, design, precision
        self.runs = run_times
        self.yours = yours
        self.notes: list[str] = []

    def model_gemm(self, M, K, N, epilogue="none") -> Timed:
        d = self.design
        p = plat.predict_gemm(self.platform, dtype=self.precision, M=M, K=K, N=N, epilogue=epilogue,
                              params=d.params, clock_mhz=d.clock_mhz, cus=d.cu_count("gemm"))
        return Timed(float(p.time_s), "model", f"harness.model predict_gemm {M}x{K}x{N} "
                     f"epilogue {epilogue}, design {d.origin}", bound=str(getattr(p, "bound", "")),
                     model_time_s=float(p.time_s), parts=_parts(p),
                     kernel_peak_GFLOPps=float(getattr(p, "kernel_peak_GFLOPps", 0.0) or 0.0) or None,
                     pipeline_depth_s=getattr(p, "pipeline_depth_s", None))

    def _model_elementwise(self, op) -> Timed:
        d = self.design
        epi = "bias_gelu" if op.ew in DEEP_ELEMENTWISE else "bias"
        cus = d.cu_count("bias_gelu")
        n = -(-op.N // cus)         # the CUs split N and run together: the time of one CU's share
        p = plat.predict_elementwise(self.platform, M=op.M, N=n, elem_bytes=output_bytes(self.precision),
                                     epilogue=epi, params=d.params, clock_mhz=d.clock_mhz)
        return Timed(float(p.time_s), "model", f"harness.model predict_elementwise {op.M}x{n} ({epi} pass "
                     f"of the design's bias_gelu kernel{f' on each of {cus} CUs' if cus > 1 else ''}; assumption: {op.ew} "
                     "has no kernel of its own), design "
                     f"{d.origin}", bound=str(getattr(p, "bound", "")), model_time_s=float(p.time_s),
                     parts=_parts(p))

    def op(self, op) -> Timed:
        """One call of `op`: your kernel's time where a kernel run covers it, else the design's."""
        y = self.yours.get(op.name) if self.yours else None
        if y is not None:
            prov = y.run.provenance()
            return Timed(y.time_s, prov["source"], y.detail, y.run.run_id, prov["emulated"], kernel_source=y.kernel)
        return self.design_op(op)

    def design_op(self, op) -> Timed:
        """One call of `op` on the harness's design (a gemm/latency run's time, else the model)."""
        if op.kind in ("gemm", "attention"):
            m = self.model_gemm(op.M, op.K, op.N)
            r = self.runs.get(self.precision, op.M, op.K, op.N) if self.runs else None
        else:
            m = self._model_elementwise(op)
            r = None
        if r is None:
            return m
        r.bound, r.model_time_s, r.parts = m.bound, m.model_time_s, m.parts
        r.kernel_peak_GFLOPps, r.pipeline_depth_s = m.kernel_peak_GFLOPps, m.pipeline_depth_s
        return r

    def fused(self, gemm_op, epi: str) -> Timed:
        """One call of a GEMM with its epilogue fused (C kept on chip): a run's fused point, else the model."""
        r = self.runs.get(self.precision, gemm_op.M, gemm_op.K, gemm_op.N, epi, "fused") if self.runs else None
        kepi, why = model_epilogue(epi)
        m = self.model_gemm(gemm_op.M, gemm_op.K, gemm_op.N, kepi)
        if why:
            m.detail += f"; assumption: {why}"
        if r is not None:
            r.bound, r.model_time_s, r.parts = m.bound, m.model_time_s, m.parts
            return r
        g = self.runs.get(self.precision, gemm_op.M, gemm_op.K, gemm_op.N) if self.runs else None
        if g is not None:
            # the run's GEMM time + the model's cost of the epilogue: the same source as the unfused GEMM
            m0 = self.model_gemm(gemm_op.M, gemm_op.K, gemm_op.N)
            m.detail = (f"{g.detail} + the model's epilogue increment "
                        f"{(m.time_s - m0.time_s) * 1e6:,.1f} us ({m.detail})")
            m.model_time_s = m.time_s
            m.time_s = g.time_s + (m.time_s - m0.time_s)
            m.run_id = g.run_id
        return m
