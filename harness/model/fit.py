"""`harness predict --fit RUN_DIR ...`: the timing model's efficiency and latency parameters, fitted
to runs measured on a card, written as a parameter file for `--params FILE`.

Each verified point of the runs (the median time_s of its verified measured repetitions) is
predicted by the same functions the benches and the emulator use (harness.model); the candidate
parameters the points depend on are fitted by least squares on the log of predicted / measured
time (relative errors, so a 4 KiB point counts as much as a 256 MiB one). A parameter is kept
only if the runs pin it: one no point depends on, one confounded with another (the start-up of
a memcpy launch and its dispatch both add a constant), one that moves fewer than MIN_SUPPORT
points' times, one whose relative standard error is above MAX_REL_SE, or one the points fit as well
without (back at its previous value the squared error grows by less than NEEDED x the noise) is left
at its previous value, with the reason. Runs are read with the strict
reader; a run not measured on a card is refused (its times are the model's own, or a simulator's).
Equations and the file format: harness/docs/model.md, README "Fitting the model to your card".
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from harness.errors import UserError
from harness.model import data

FIT_BENCHES = ("memcpy", "gemm", "latency", "transfer")
MAX_REL_SE = 0.10          # a fitted value must be pinned to within 10% (one standard error)
MIN_SUPPORT = 3            # ... and move at least this many points' predicted times
NEEDED = 4.0              # ... and explain at least this many times the noise variance (chi-squared, 1 dof: ~95%)
MAX_FACTOR = 20.0          # a fit may move a parameter by at most this factor either way
# Parameters a run can pin, with the points that pin them (for the report of what was left).
CANDIDATES = {
    ("memory", "hbm", "efficiency"): "sequential memcpy points (their steady bandwidth per PC)",
    ("memory", "hbm", "random_txn_ns"): "memcpy points with --pattern random (or stride) and small transactions",
    ("memory", "hbm", "lateral_efficiency"): "memcpy points with --target-pc in another switch group (other-group) "
                                             "large enough to stream, beside local ones",
    ("memory", "hbm", "lateral_latency_ns"): "other-group memcpy points whose round trip binds (--pattern random "
                                             "with small --txn-bytes), beside local ones",
    ("axi", "read_overhead_ns"): "small memcpy read/copy points, once the dispatch is known",
    ("axi", "write_overhead_ns"): "small memcpy write points, once the dispatch is known",
    ("dispatch", "overhead_s"): "latency runs' dispatch points, or the intercept of memcpy/gemm launch times",
    ("gemm", "loop_overhead_cycles"): "gemm points with many tiles and K chunks",
    ("pcie", "h2d_bandwidth_GBps"): "h2d transfer points of large buffers",
    ("pcie", "bandwidth_GBps"): "d2h transfer points of large buffers (d2h has no key of its own)",
    ("pcie", "latency_s"): "transfer points of small buffers (both directions)",
}
NOT_FITTED = ("memory.hbm.idle_latency_ns is a spec figure (Shuhai): a launch shows only idle latency + AXI "
              "overhead, so the overheads take the difference; every other parameter of "
              "harness/data/model_params.toml is kept (no run here measures it)")


def _name(path: tuple) -> str:
    return ".".join(path)


@dataclass
class Point:
    run_id: str
    bench: str
    label: str
    measured_s: float
    predict: Callable[[], float]
    uses: tuple                 # candidate parameters its prediction depends on


@dataclass
class FitResult:
    points: list
    before: np.ndarray          # predicted / measured - 1 per point, with the starting parameters
    after: np.ndarray
    fitted: dict                # path -> {"value", "previous", "stderr", "residual", "points", "run_ids"}
    left: dict                  # path -> reason
    notes: list = field(default_factory=list)
    runs: list = field(default_factory=list)


# ---------------------------------------------------------------- runs -> points
def _refuse_unmeasured(run) -> None:
    ts = run.timing_source
    if ts == "measured":
        return
    why = {"model": "its times are the timing model's own output (the emulator), so fitting them would fit "
                    "the model to itself",
           "emulation": "its times are an XRT simulator's, not a card's",
           "none": "it has no time (functional only)"}.get(ts, f"timing_source is {ts!r}")
    raise UserError(f"{run.path}: run {run.run_id} is not measured on a card (timing_source {ts}): {why}; "
                    "give runs of `harness bench ... --mode hw`")


def _verified_points(run):
    """(point, first sample row, median time_s of its verified measured repetitions) per verified point."""
    s = run.samples
    ok = s[(s["phase"] == "measure") & s["verified"].astype(bool)]
    for pt in run.verified_summary()["point"]:
        rows = ok[ok["point"] == pt]
        if len(rows):
            yield int(pt), rows.iloc[0], float(np.median(rows["time_s"].to_numpy(float)))


def _design_params(ctx: dict, kernel: str) -> dict:
    d = ctx.get("design") or {}
    k = (d.get("kernels") or {}).get(kernel) or {}
    return {**(d.get("params") or {}), **(k.get("params") or {})}


def _present(row, col):
    if col not in row.index:
        return None
    v = row[col]
    return None if (isinstance(v, float) and math.isnan(v)) else v


def _switch_homes(ctx: dict) -> dict | None:
    """{port: [PC next to each CU's switch port]} of bw_memcpy from the run's own connectivity
    (context.json design.kernels.bw_memcpy.args, e.g. in: ["HBM[0:31].0", ...]: `.N` is the switch port
    next to PC N; a port on one PC, HBM[a], is next to it); None if the run does not say."""
    import re
    args = (((ctx.get("design") or {}).get("kernels") or {}).get("bw_memcpy") or {}).get("args") or {}
    out = {}
    for port in ("in", "out"):
        tags = args.get(port)
        if not isinstance(tags, list) or not tags:
            return None
        homes = []
        for tag in tags:
            m = re.fullmatch(r"HBM\[(\d+)(?::\d+)?\](?:\.(\d+))?", str(tag))
            if not m:
                return None
            homes.append(int(m.group(2) if m.group(2) is not None else m.group(1)))
        out[port] = homes
    return out


def _switch_point(plat, homes: dict, kw: dict, r, target: str):
    """(predict, uses, label) of a point whose buffers lay away from its port (--target-pc, --port-pc),
    predicted as the bench predicts it (harness.bench.memcpy.predict_point: the same
    harness.model.predict_memcpy_placed): the CUs it drove (the one whose port is port_pc, or the first
    `cus`), each buffer under test placed at `target` from its own switch port."""
    from harness.model import MEMCPY_PORTS, dispatch_overhead_s, predict_memcpy_placed, switch_target, target_pc_for
    direction, port, target_pc = str(r["direction"]), int(r["port_pc"]), int(r["target_pc"])
    ports = MEMCPY_PORTS[direction]
    cus = int(r["cus"])
    first = homes[ports[0]].index(port) if cus == 1 and port in homes[ports[0]] else 0
    cu_homes = {(cu, p): homes[p][cu] for cu in range(first, first + cus) for p in ports}
    where = {k: target_pc_for(plat, target, h) for k, h in cu_homes.items()}
    kw = {k: v for k, v in kw.items() if k != "ports"}
    uses = [("memory", "hbm", "efficiency"), ("dispatch", "overhead_s"),
            ("axi", "write_overhead_ns" if direction == "write" else "read_overhead_ns")]
    if kw.get("pattern", "seq") != "seq":
        uses.append(("memory", "hbm", "random_txn_ns"))
    if switch_target(plat, port, target_pc) == "other-group" or any(
            switch_target(plat, cu_homes[k], where[k]) == "other-group" for k in where):
        uses += [("memory", "hbm", "lateral_efficiency"), ("memory", "hbm", "lateral_latency_ns")]
    return (lambda: dispatch_overhead_s() + predict_memcpy_placed(plat, homes=cu_homes, where=where, **kw).time_s,
            tuple(uses), f" port {port} -> PC {target_pc}")


def _memcpy_points(run, plat, notes) -> list[Point]:
    from harness import model
    from harness.model import dispatch_overhead_s, predict_memcpy
    from harness.model.memory import PATTERNS
    ctx = run.context
    params = _design_params(ctx, "bw_memcpy")
    clock = float(ctx["clock_mhz"])
    homes = _switch_homes(ctx)
    requested = [str(v) for v in ctx.get("target_pc") or []]
    out = []
    for pt, r, t in _verified_points(run):
        direction = str(r["direction"])
        pattern = str(_present(r, "pattern") or "seq")
        txn, stride = _present(r, "txn_bytes"), _present(r, "stride_bytes")
        target = _present(r, "target_pc")
        if pattern not in PATTERNS:
            notes.append(f"run {run.run_id} point {pt}: pattern {pattern} is not modeled; left out")
            continue
        label = (f"memcpy {direction} {int(r['pcs'])} PC {_size(int(r['bytes_per_pc']))} x{int(r['kernel_reps'])}"
                 + (f" {pattern} {_size(int(txn))}" if pattern != "seq" else "")
                 + (f"/{_size(int(stride))}" if pattern == "stride" else ""))
        port = _present(r, "port_pc")
        where = model.target_of(plat, port, target, requested or None)
        if where.isdigit() and int(where) == int(port) and direction != "copy" and int(r["cus"]) == 1:
            where = "local"          # one CU's one buffer in its own PC (copy: both there; more CUs: shared)
        if direction == "copy" and where != "local" and str(int(target)) in requested \
                and model.switch_target(plat, int(port), int(target)) in requested:
            # --target-pc other-group,7 from port 0: both put the in buffer in PC 7, one the out buffer too
            notes.append(f"run {run.run_id} point {pt}: copy to PC {int(target)} was asked for both as a PC and as "
                         "its relation; the columns do not say which placed the out buffer; left out")
            continue
        # the bench's own call (harness.bench.memcpy.predict_point): access scalars only off seq
        access = {} if pattern == "seq" else {"pattern": pattern, "txn_bytes": int(txn),
                                              "stride_bytes": int(stride) if pattern == "stride" else None}
        kw = dict(memory="hbm", ports=2 if direction == "copy" else 1, direction=direction, width_bits=512,
                  clock_mhz=clock, burst=int(params.get("MEMCPY_BURST", 64)),
                  outstanding=int(params.get("MEMCPY_OUTSTANDING", 32)),
                  bytes=int(r["bytes_per_pc"]) * int(r["kernel_reps"]), **access)
        if where != "local":
            # buffers away from the port: placed from the run's own connectivity, as the bench placed them
            if homes is None:
                notes.append(f"run {run.run_id} point {pt}: target PC {int(target)} (cross-switch), but context.json "
                             "has no bw_memcpy connectivity to place it by; left out")
                continue
            predict, uses, there = _switch_point(plat, homes, kw, r, where)
            out.append(Point(run.run_id, "memcpy", label + there, t, predict, uses))
            continue
        uses = [("memory", "hbm", "efficiency"), ("dispatch", "overhead_s"),
                ("axi", "write_overhead_ns" if direction == "write" else "read_overhead_ns")]
        if pattern != "seq":
            uses.append(("memory", "hbm", "random_txn_ns"))
        out.append(Point(run.run_id, "memcpy", label, t,
                         lambda kw=kw: dispatch_overhead_s() + predict_memcpy(plat, **kw).time_s, tuple(uses)))
    return out


def _gemm_points(run, plat, notes) -> list[Point]:
    from harness.model import dispatch_overhead_s, predict_gemm
    ctx = run.context
    params = _design_params(ctx, "gemm")
    cus = int(((ctx["design"].get("kernels") or {}).get("gemm") or {}).get("cus") or 1)
    clock = float(ctx["clock_mhz"])
    out, skipped = [], 0
    for pt, r, t in _verified_points(run):
        if str(r["path"]) not in ("gemm", "fused"):      # one launch each; unfused is two
            skipped += 1
            continue
        kw = dict(dtype=str(r["dtype"]), M=int(r["M"]), K=int(r["K"]), N=int(r["N"]), epilogue=str(r["epilogue"]),
                  params=params, cus=cus, clock_mhz=clock)
        uses = (("gemm", "loop_overhead_cycles"), ("dispatch", "overhead_s"), ("memory", "hbm", "efficiency"),
                ("axi", "read_overhead_ns"), ("axi", "write_overhead_ns"))
        out.append(Point(run.run_id, "gemm", f"gemm {kw['dtype']} {kw['M']}x{kw['K']}x{kw['N']} {kw['epilogue']}", t,
                         lambda kw=kw: dispatch_overhead_s() + predict_gemm(plat, **kw).time_s, uses))
    if skipped:
        notes.append(f"run {run.run_id}: {skipped} unfused point(s) left out (two launches, each with its dispatch; "
                     "the fused and plain ones carry the same parameters)")
    return out


def _latency_points(run, plat, notes) -> list[Point]:
    from harness.model import dispatch_overhead_s
    out, skipped = [], 0
    for pt, r, t in _verified_points(run):
        if str(r["kind"]) != "dispatch":
            skipped += 1
            continue
        out.append(Point(run.run_id, "latency", "dispatch (empty kernel)", t, dispatch_overhead_s,
                         (("dispatch", "overhead_s"),)))
    if skipped:
        notes.append(f"run {run.run_id}: {skipped} GEMM call point(s) left out (its dispatch points are used; "
                     "give a gemm run for the GEMM parameters)")
    return out


def _transfer_points(run, plat, notes) -> list[Point]:
    """Points of `harness bench transfer` (direction h2d|d2h, bank, bytes, time_s): one bo.sync each."""
    from harness.model.transfer import predict_transfer
    out = []
    for pt, r, t in _verified_points(run):
        n, d = int(r["bytes"]), str(r["direction"])
        # the shared keys unless the parameters give this direction its own (harness.model.transfer)
        uses = tuple(c for c in (("pcie", f"{d}_bandwidth_GBps"), ("pcie", "bandwidth_GBps"), ("pcie", "latency_s"))
                     if c in CANDIDATES)
        out.append(Point(run.run_id, "transfer", f"transfer {d} {r['bank']} {_size(n)}", t,
                         lambda n=n, d=d: predict_transfer(n, d).time_s, uses))
    return out


POINTS = {"memcpy": _memcpy_points, "gemm": _gemm_points, "latency": _latency_points, "transfer": _transfer_points}


def _size(n: int) -> str:
    for unit, shift in (("G", 30), ("M", 20), ("K", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift}{unit}"
    return f"{n}B"


def load_fit_runs(paths) -> tuple[list, list[Point], list[str]]:
    """The runs (strictly read, measured on a card, each once) and their points."""
    from harness.model import load_platform
    from harness.results.reader import load_run
    if not paths:
        raise UserError("--fit needs at least one run directory measured on the card")
    runs, seen = [], set()
    for p in paths:
        run = load_run(p)
        _refuse_unmeasured(run)
        if run.bench not in FIT_BENCHES:
            raise UserError(f"{run.path}: run {run.run_id} is a {run.bench} run; --fit takes "
                            f"{', '.join(FIT_BENCHES)} runs")
        if run.run_id in seen:
            raise UserError(f"run {run.run_id} is given twice: give each run directory once")
        seen.add(run.run_id)
        runs.append(run)
    notes, points = [], []
    for run in runs:
        plat = load_platform(run.context.get("platform") or "u280")
        points += POINTS[run.bench](run, plat, notes)
    if not points:
        raise UserError("the runs have no point the model can predict; give memcpy, gemm, latency or transfer runs "
                        "with verified points")
    return runs, points, notes


# ---------------------------------------------------------------- the fit
def _predict_all(points, values: dict) -> np.ndarray:
    with data.trial(values):
        return np.array([p.predict() for p in points])


SCAN = (0.5, 0.67, 0.8, 0.9, 1.1, 1.25, 1.5, 2.0)


def _scan(resid, x0, lo, hi, sweeps: int = 2):
    x = np.array(x0, float)
    best = float(np.sum(resid(x) ** 2))
    for _ in range(sweeps):
        for j in range(len(x)):
            base = x[j]
            for f in SCAN:
                y = x.copy()
                y[j] = min(max(base + math.log(f), lo[j]), hi[j] - 1e-12)
                c = float(np.sum(resid(y) ** 2))
                if c < best:
                    best, x = c, y
    return x


def fit_points(points: list[Point], notes: list | None = None) -> FitResult:
    """Fit the candidate parameters the points depend on; keep only those they pin."""
    from scipy.optimize import least_squares
    meas = np.array([p.measured_s for p in points])
    start = {c: float(data.value(*c)) for c in CANDIDATES}
    before = _predict_all(points, {}) / meas - 1
    left = {}
    used = {c for p in points for c in p.uses}
    for c, how in CANDIDATES.items():
        if c not in used:
            left[c] = f"no run given pins it (needs {how})"
    active = [c for c in CANDIDATES if c in used]
    x = {c: 0.0 for c in active}
    res = None
    first = True
    while active:
        lo = np.array([-math.log(MAX_FACTOR)] * len(active))
        hi = np.array([math.log(min(MAX_FACTOR, 1 / start[c]) if c[-1].endswith("efficiency") else MAX_FACTOR)
                       for c in active])
        x0 = np.clip(np.array([x[c] for c in active]), lo, hi - 1e-12)

        def resid(v, act=tuple(active)):
            vals = {c: start[c] * math.exp(xi) for c, xi in zip(act, v)}
            return np.log(_predict_all(points, vals) / meas)

        if first:
            # The model is a minimum of ceilings: at the start a parameter may sit where another ceiling
            # binds (zero gradient) although the measurements need it to bind. A coarse scan of each
            # parameter first (factors SCAN, twice over) starts the local fit near the right ceiling.
            x0 = _scan(resid, x0, lo, hi)
            first = False
        res = least_squares(resid, x0, bounds=(lo, hi), diff_step=1e-6, x_scale=1.0, method="trf")
        for c, xi in zip(active, res.x):
            x[c] = float(xi)
        J, r = res.jac, res.fun
        n, k = J.shape
        norms = np.linalg.norm(J, axis=0)
        dead = [c for c, nm in zip(active, norms) if nm < 1e-9]
        if dead:
            for c in dead:
                left[c] = "no point's predicted time changes with it (another ceiling binds every point)"
                active.remove(c)
            continue
        if n <= k:
            worst = min(active, key=lambda c: norms[active.index(c)])
            left[worst] = f"{n} point(s) for {k} parameter(s): nothing left to judge the fit by"
            active.remove(worst)
            continue
        _, S, Vt = np.linalg.svd(J / norms, full_matrices=False)
        if S[-1] < 1e-6 * S[0]:
            # the parameters of the degenerate direction: keep the one that moves the times most
            v = np.abs(Vt[-1])
            group = [i for i in range(k) if v[i] > 0.1]
            worst = active[min(group, key=lambda i: norms[i])]
            other = active[max(group, key=lambda i: norms[i])]
            left[worst] = (f"confounded with {_name(other)}: the points change with both the same way, so only "
                           "their combination shows")
            active.remove(worst)
            continue
        # a parameter that moves only one or two points' times (e.g. where its ceiling just meets
        # another) would fit their noise, not the card
        absj = np.abs(J)
        support = [(int((absj[:, i] > 0.01 * absj[:, i].max()).sum()), i) for i in range(k)]
        few, i = min(support)
        if few < MIN_SUPPORT:
            left[active[i]] = (f"it moves the time of only {few} point(s) (fewer than {MIN_SUPPORT}): too few "
                               f"to tell it from their noise (needs {CANDIDATES[active[i]]})")
            active.remove(active[i])
            continue
        s2 = float(r @ r) / (n - k)
        # a parameter the points do not need: back at its previous value (the others as fitted) the
        # squared error grows by less than NEEDED x the noise (e.g. moved to where its ceiling meets
        # another's, it fits nothing but noise there)
        gain = []
        for i in range(k):
            y = res.x.copy()
            y[i] = 0.0
            gain.append((float(np.sum(resid(y) ** 2)) - float(r @ r)) / max(s2, 1e-30))
        i = int(np.argmin(gain))
        if gain[i] < NEEDED:
            c = active[i]
            left[c] = (f"the runs fit as well with its previous value (moving it to "
                       f"{start[c] * math.exp(res.x[i]):.4g} explains only {max(gain[i], 0):.1f} x the noise, "
                       f"less than {NEEDED:g}; needs {CANDIDATES[c]})")
            active.remove(c)
            continue
        cov = s2 * np.linalg.inv(J.T @ J)
        se = np.sqrt(np.clip(np.diag(cov), 0, None))
        j = int(np.argmax(se))
        if se[j] > MAX_REL_SE:
            left[active[j]] = (f"the runs pin it only to +-{se[j]:.0%} (relative standard error; more points "
                               f"where it matters would: {CANDIDATES[active[j]]})")
            active.remove(active[j])
            continue
        break
    final = {c: start[c] * math.exp(x[c]) for c in active}
    after = _predict_all(points, final) / meas - 1
    fitted = {}
    if active:
        J = res.jac
        s2 = float(res.fun @ res.fun) / max(1, J.shape[0] - J.shape[1])
        se = np.sqrt(np.clip(np.diag(s2 * np.linalg.inv(J.T @ J)), 0, None))
        for i, c in enumerate(active):
            col = np.abs(J[:, i])
            mask = col > 0.01 * col.max()
            fitted[c] = {"value": final[c], "previous": start[c], "stderr": float(se[i]),
                         "residual": float(np.sqrt(np.mean(after[mask] ** 2))), "points": int(mask.sum()),
                         "run_ids": sorted({p.run_id for p, m in zip(points, mask) if m})}
    for c in left:
        x.pop(c, None)
    return FitResult(points, before, after, fitted, left, list(notes or []))


# ---------------------------------------------------------------- the parameter file
def _toml_str(s: str) -> str:
    return json.dumps(str(s), ensure_ascii=False)


def _toml_val(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_val(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_toml_str(k)} = {_toml_val(x)}" for k, x in v.items()) + " }"
    return _toml_str(v)


def _file_hashes(run) -> dict:
    return {name: hashlib.sha256((Path(run.path) / name).read_bytes()).hexdigest()
            for name in ("context.json", "samples.csv", "summary.csv")}


def params_toml(result: FitResult, runs: list, when: dt.datetime) -> str:
    from harness import __version__
    start = data.params_file()
    lines = ["# Timing-model parameters fitted by `harness predict --fit` to runs measured on a card.",
             "# Use them with --params FILE (harness predict, harness bench --mode emu, harness roofline).",
             "# Only the parameters below replace harness/data/model_params.toml's; [fit] says where they came from.",
             "", "[fit]",
             f"date = {_toml_str(when.isoformat())}",
             f"model_version = {_toml_str(data.base_version())}",
             f"harness_version = {_toml_str(__version__)}",
             f"start = {_toml_val({'file': start['file'], 'sha256': start['sha256']})}",
             f"runs = {_toml_val([str(r.path) for r in runs])}",
             f"run_ids = {_toml_val([r.run_id for r in runs])}",
             f"points = {len(result.points)}",
             f"rms_error_before = {float(np.sqrt(np.mean(result.before ** 2)))!r}",
             f"rms_error_after = {float(np.sqrt(np.mean(result.after ** 2)))!r}",
             "", "[fit.files]  # SHA-256 of each run's files"]
    lines += [f"{_toml_str(r.run_id)} = {_toml_val(_file_hashes(r))}" for r in runs]
    lines += ["", "[fit.left]  # candidate parameters kept at their previous value, and why"]
    lines += [f"{_toml_str(_name(c))} = {_toml_str(why)}" for c, why in result.left.items()]
    groups: dict = {}
    for c, f in result.fitted.items():
        groups.setdefault(c[:-1], []).append((c[-1], f))
    # values of the --params file the fit started from that it did not refit: kept, so this file
    # alone gives the model the fit saw
    for c, entry in data.overlay_entries():
        if c not in result.fitted:
            groups.setdefault(c[:-1], []).append((c[-1], {"carried": entry}))
    for table, items in groups.items():
        lines += ["", f"[{'.'.join(table)}]"]
        for key, f in items:
            if "carried" in f:
                lines.append(f"{key} = {_toml_val(f['carried'])}  # from {start['file']}")
                continue
            fig = data.figure(*table, key)
            detail = (f"fitted by harness predict --fit to {f['points']} point(s) of run(s) {', '.join(f['run_ids'])}: "
                      f"residual {f['residual']:.2%} RMS, standard error {f['stderr']:.2%}; was {f['previous']:.6g} "
                      f"({fig.source})")
            entry = {"value": float(f["value"]), "unit": fig.unit, "source": "measured", "detail": detail,
                     "run_ids": f["run_ids"], "residual": f["residual"], "stderr": f["stderr"],
                     "points": f["points"], "previous": f["previous"]}
            lines.append(f"{key} = {_toml_val(entry)}")
    return "\n".join(lines) + "\n"


def _default_out(when: dt.datetime) -> Path:
    from harness import REPO_ROOT
    return REPO_ROOT / "results" / "params" / f"fit-{when.strftime('%Y%m%dT%H%M%SZ')}.toml"


def write_params(text: str, out: Path) -> None:
    """Write whole or not at all (a partly written parameter file is never left)."""
    if out.is_dir():
        raise UserError(f"--out {out} is a directory; give the parameter file's name, e.g. {out / 'fit.toml'}")
    tmp = out.with_name(out.name + ".tmp")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text)
        os.replace(tmp, out)
    except OSError as exc:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise UserError(f"cannot write {out} ({exc.strerror}); give --out a writable file") from None


# ---------------------------------------------------------------- the command
def _fmt_value(v: float, unit: str) -> str:
    return f"{v:.4g} {unit}".strip()


def report(result: FitResult) -> str:
    names = [f"{p.run_id[:16]} {p.label}" for p in result.points]
    w = max(len(n) for n in names)
    out = [f"{'point':<{w}} {'measured':>12} {'before':>12} {'error':>8} {'after':>12} {'error':>8}"]
    for name, p, b, a in zip(names, result.points, result.before, result.after):
        out.append(f"{name:<{w}} {p.measured_s * 1e6:>10.3f}us "
                   f"{p.measured_s * (1 + b) * 1e6:>10.3f}us {b:>+8.2%} {p.measured_s * (1 + a) * 1e6:>10.3f}us "
                   f"{a:>+8.2%}")
    rb, ra = (float(np.sqrt(np.mean(e ** 2))) for e in (result.before, result.after))
    out.append(f"RMS error over {len(result.points)} points: {rb:.2%} before, {ra:.2%} after "
               f"(before: {data.version()})")
    out.append("fitted (measured):")
    for c, f in result.fitted.items():
        unit = data.figure(*c).unit
        out.append(f"  {_name(c):<28} {_fmt_value(f['previous'], unit):>14} -> {_fmt_value(f['value'], unit):<14} "
                   f"+-{f['stderr']:.2%}, residual {f['residual']:.2%} RMS over {f['points']} point(s)")
    if not result.fitted:
        out.append("  nothing: the runs pin no parameter (see below)")
    out.append("left at their previous values:")
    for c, why in result.left.items():
        out.append(f"  {_name(c):<28} {why}")
    out.append(f"  (and {NOT_FITTED})")
    for n in result.notes:
        out.append(f"note: {n}")
    return "\n".join(out)


def run_fit(paths, out=None) -> int:
    runs, points, notes = load_fit_runs(paths)
    result = fit_points(points, notes)
    when = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    dest = Path(out) if out else _default_out(when)
    text = params_toml(result, runs, when)
    print(f"harness predict --fit: {len(points)} point(s) of {len(runs)} measured run(s); error = predicted / measured - 1")
    print(report(result))
    write_params(text, dest)
    print(f"wrote {dest}: use it with --params {dest}")
    return 0
