"""One row per op and ceiling set: time, bound and attained GFLOP/s (the columns of ops.csv).

Under a ceiling set (spec | measured | emulated | runs), for one call of an op:

    t_compute = FLOP / C          C = the set's compute roof of the op's kind
    t_memory  = bytes / B         spec: B = the aggregate roof;
                                  run sets: max over the kernel's PCs (harness.roofline.ports)
    time_s    = max(t_compute, t_memory)     bound = memory if t_memory > t_compute else compute
    attained_GFLOPps = FLOP / time_s

The `achieved` rows hold the per-shape times (harness.roofline.achieved): time_s is one call of
the op on the design, dispatch excluded; bound is the timing model's class of that shape
(compute | memory | latency); attained_GFLOPps = FLOP / time_s. An op one of your kernels' runs
covers (`harness bench kernel`) takes that run's time instead, `kernel_source` names the kernel
(on the op's rows of every set), and its bound is the roof's class under the set it is placed under. Columns: COLUMNS, in this order,
whatever runs are given (harness/docs/roofline.md); the list lives in harness/roofline/__init__.py.
"""
from __future__ import annotations

from harness.roofline import COLUMNS      # the one list of columns (harness/roofline/__init__.py)
from harness.roofline.ceilings import CeilingSet, source_tag


def op_times(op, conv, cs: CeilingSet) -> dict:
    """Compute and memory time of one call of `op` under `cs`, with what binds."""
    comp = cs.compute_for(op.kind)
    t_c = op.flop / (comp.value * 1e9) if op.flop else 0.0
    t_m, where, mem_fig = cs.memory_time(op, conv)
    bound = "memory" if t_m > t_c else "compute"
    return {"t_compute": t_c, "t_memory": t_m, "time_s": max(t_c, t_m), "bound": bound, "compute": comp,
            "where": where, "memory_figure": mem_fig}


def _base(op, conv, name: str) -> dict:
    w, i, y = op.role_bytes(conv)
    b = w + i + y
    return {"stage": op.stage, "name": op.name, "kind": op.kind, "M": op.M,
            "K": op.K if op.kind != "elementwise" else None, "N": op.N, "count": op.count,
            "launches": op.launches, "element_type": name, "flop": op.flop, "bytes": b, "weight_bytes": w,
            "in_bytes": i, "out_bytes": y, "oi_FLOPpB": op.flop / b if b else None}


def _gflops(flop, t):
    return flop / t / 1e9 if t and t > 0 else None


def set_rows(workload, conv, cs: CeilingSet) -> list[dict]:
    rows = []
    for op in workload.ops:
        x = op_times(op, conv, cs)
        binding = x["compute"].figure if x["bound"] == "compute" else x["memory_figure"]
        r = {"ceiling_set": cs.key, **_base(op, conv, conv.name)}
        r.update({"time_s": x["time_s"], "time_total_s": x["time_s"] * op.count,
                  "time_source": source_tag(binding), "time_detail": f"{binding.name}: {binding.detail}",
                  "run_id": binding.run_id, "bound": x["bound"],
                  "attained_GFLOPps": _gflops(op.flop, x["time_s"]),
                  "compute_roof_GFLOPps": x["compute"].value, "compute_ceiling": x["compute"].key,
                  "memory_GBps": (r["bytes"] / x["t_memory"] / 1e9) if x["t_memory"] else None,
                  "memory_ceiling": cs.memory.key, "memory_bottleneck": x["where"]})
        rows.append(r)
    return _shares(rows)


def achieved_rows(workload, conv, achieved, roof_set: CeilingSet) -> list[dict]:
    """The per-shape times, placed under `roof_set` (the run-derived set, else spec)."""
    rows = []
    for op in workload.ops:
        t = achieved.op(op)
        x = op_times(op, conv, roof_set)
        r = {"ceiling_set": "achieved", **_base(op, conv, conv.name), "kernel_source": t.kernel_source}
        r.update({"time_s": t.time_s, "time_total_s": t.time_s * op.count, "time_source": t.tag,
                  "time_detail": t.detail, "run_id": t.run_id,
                  # your kernel has no model class: the roof's class of the op stands in
                  "bound": t.bound or x["bound"],
                  "attained_GFLOPps": _gflops(op.flop, t.time_s),
                  "compute_roof_GFLOPps": x["compute"].value, "compute_ceiling": x["compute"].key,
                  "memory_GBps": (r["bytes"] / x["t_memory"] / 1e9) if x["t_memory"] else None,
                  "memory_ceiling": roof_set.memory.key, "memory_bottleneck": x["where"]})
        rows.append(r)
    return _shares(rows)


def mark_kernel_source(rows: list[dict]) -> list[dict]:
    """Every row of an op your kernels cover names the kernel (ops.csv `kernel_source`), whatever the set."""
    ks = {r["name"]: r["kernel_source"] for r in rows if r["ceiling_set"] == "achieved" and r.get("kernel_source")}
    for r in rows:
        r["kernel_source"] = ks.get(r["name"], "")
    return rows


def _shares(rows: list[dict]) -> list[dict]:
    total = sum(r["time_total_s"] for r in rows) or 1.0
    for r in rows:
        r["time_share"] = r["time_total_s"] / total
    return [{k: r.get(k) for k in COLUMNS} for r in rows]


def bound_shares(rows: list[dict]) -> dict[str, float]:
    """Share of the summed time of `rows` in each bound class."""
    total = sum(r["time_total_s"] for r in rows)
    out: dict[str, float] = {}
    for r in rows:
        out[r["bound"]] = out.get(r["bound"], 0.0) + r["time_total_s"]
    return {k: (v / total if total else 0.0) for k, v in sorted(out.items())}


def changed_class(spec_rows: list[dict], run_rows: list[dict]) -> list[dict]:
    """Ops whose bound class differs between the spec and the run-derived ceilings."""
    out = []
    for s, r in zip(spec_rows, run_rows):
        if s["bound"] != r["bound"]:
            out.append({"name": s["name"], "stage": s["stage"], "kind": s["kind"], "oi_FLOPpB": s["oi_FLOPpB"],
                        "spec_bound": s["bound"], "ceiling_set": r["ceiling_set"], "bound": r["bound"],
                        "memory_bottleneck": r["memory_bottleneck"], "compute_ceiling": r["compute_ceiling"]})
    return out

