"""Your kernels on the roofline: the ops `harness bench kernel` runs cover, with their times.

A kernel run (bench 'kernel', a spec's kernel) has one point per shape, each carrying the workload
op names it stands for. For every such op of the workload whose M, K, N match the point's, the op's
time is the point's median start-to-wait time minus the launch cost (the same rule as the gemm and
latency runs, harness.roofline.achieved: dispatch is counted once, as dispatch x launches), with
the run as source and the spec's kernel as `kernel_source`. A run that is functional only (no
time) never gets here: harness.results.reader refuses it.

Several runs covering one op: a hardware run before an emulated one, then the first given; the
others are noted. An op name the workload does not have, or whose shape differs (other workload
parameters than the spec's), is noted and not used.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from harness.roofline.achieved import launch_cost


@dataclass
class Yours:
    """One op's time from a kernel run."""
    op: str
    kernel: str                  # the spec's kernel name (kernel_source)
    spec: str                    # the spec file, as the run recorded it
    time_s: float                # one call, launch cost subtracted
    median_s: float
    cost_s: float
    run: object                  # harness.results.reader.Run
    detail: str


class KernelTimes:
    """Per op name: the time of one call from the kernel runs given."""

    def __init__(self, runs, workload, dispatch_model, hw_dispatch):
        self.by_op: dict[str, Yours] = {}
        self.notes: list[str] = []
        self.clamped: list[str] = []
        if workload is None:          # ceilings only: no op to place
            return
        ops = {o.name: o for o in workload.ops}
        kernel_runs = [r for r in runs if r.bench == "kernel"]
        # hardware runs first, then in the order given
        for r in sorted(kernel_runs, key=lambda r: 0 if r.timing_source == "measured" else 1):
            k = r.context.get("kernel") or {}
            kname, spec = str(k.get("kernel", "?")), str(k.get("file", "?"))
            cost, how = launch_cost(r, dispatch_model, hw_dispatch)
            s = r.verified_summary()
            for _, row in s.iterrows():
                names = [n for n in str(row.get("ops", "")).split(";") if n and n != "nan"]
                med = row.get("time_s_median")
                if not names or med is None or pd.isna(med):
                    continue
                med = float(med)
                for name in names:
                    op = ops.get(name)
                    if op is None:
                        self.notes.append(f"run {r.run_id} ({kname}) covers {name}, which this workload does not "
                                          "have: not used")
                        continue
                    dims = {d: _int(row.get(d)) for d in ("M", "K", "N")}
                    want = {"M": op.M, "N": op.N, "K": op.K if op.kind != "elementwise" else None}
                    if any(want[d] is not None and dims[d] != want[d] for d in want):
                        self.notes.append(f"run {r.run_id} ({kname}) ran {name} as {row.get('dims')}, but this "
                                          f"workload has it as M={op.M}" + (f" K={op.K}" if op.kind != "elementwise"
                                                                           else "") + f" N={op.N}: not used")
                        continue
                    if name in self.by_op:
                        self.notes.append(f"{name} is covered by runs {self.by_op[name].run.run_id} and "
                                          f"{r.run_id}; {self.by_op[name].run.run_id} is used")
                        continue
                    t = med - cost
                    if t <= 0:
                        self.clamped.append(f"{r.run_id} {name}")
                        t = 0.0
                    detail = (f"your kernel {kname} ({spec}), run {r.run_id}: median {med * 1e6:,.1f} us - launch "
                              f"cost {cost * 1e6:,.1f} us ({how})" + (", emulated: the spec's cycle model"
                                                                      if r.emulated else ""))
                    self.by_op[name] = Yours(name, kname, spec, t, med, cost, r, detail)

    def get(self, name: str) -> Yours | None:
        return self.by_op.get(name)

    def __bool__(self) -> bool:
        return bool(self.by_op)


def _int(v):
    try:
        return None if v is None or pd.isna(v) else int(v)
    except (TypeError, ValueError):
        return None


def comparison(rows: list[dict], roof_key: str) -> list[dict]:
    """Per op your kernels cover: your time against its roofline time under `roof_key` (the set the
    achieved rows are placed under) and under the spec ceilings, and the ratios."""
    by_set: dict[str, dict[str, dict]] = {}
    for r in rows:
        by_set.setdefault(r["ceiling_set"], {})[r["name"]] = r
    out = []
    for r in by_set.get("achieved", {}).values():
        if not r.get("kernel_source"):
            continue
        roof = by_set.get(roof_key, {}).get(r["name"])
        if roof is None:
            continue
        spec = by_set.get("spec", {}).get(r["name"], roof)
        out.append({"name": r["name"], "stage": r["stage"], "kind": r["kind"], "kernel": r["kernel_source"],
                    "count": r["count"], "time_s": r["time_s"], "roofline_time_s": roof["time_s"],
                    "ratio": r["time_s"] / roof["time_s"] if roof["time_s"] else None,
                    "spec_roofline_time_s": spec["time_s"],
                    "spec_ratio": r["time_s"] / spec["time_s"] if spec["time_s"] else None,
                    "attained_GFLOPps": r["attained_GFLOPps"], "roofline_GFLOPps": roof["attained_GFLOPps"],
                    "roofline_bound": roof["bound"], "ceiling_set": roof_key, "time_source": r["time_source"],
                    "run_id": r["run_id"], "detail": r["time_detail"]})
    return out
