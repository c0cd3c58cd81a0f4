"""`harness bench kernel --spec FILE`: time and verify one kernel of *your* xclbin, shape by shape.

The kernel is described by a spec (harness.designs.spec); it becomes a Design, so the run goes
through the same Session as every other bench: each buffer is allocated in the bank its port is
connected to (checked against the xclbin before anything is written), inputs are drawn per
shape from a seeded generator, and every launch is poisoned, run, read back and compared with
the spec's reference before any figure is written. One point per shape; a point carries the
workload op names it stands for.

Time:
- `--mode hw`: start()..wait() on the host clock (measured), as every bench.
- `--mode emu`: the user's HLS source is compiled natively (harness.designs.native) and its
  time is the spec's cycle model over the kernel clock, after harness.model's dispatch cost,
  on the emulator's modeled clock (timing_source 'model'). A spec without a cycle model
  gives "functional only: no time": results are verified, no time or rate is written, and
  the run's timing_source is 'none'.
- `--mode hw_emu` / `sw_emu`: the simulator's wall clock, recorded with timing_source
  'emulation' (and device_time_s from XRT's device trace in hw_emu) like every bench: a check
  of the kernel, never a figure the roofline uses.

The reference (module:function) is called once per shape with that shape's inputs (they do
not change between launches) and every launch's outputs are compared with its result.
Without a reference nothing can be verified: every launch is recorded with verified=false,
and the run has no figure.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field

import numpy as np

from harness import model
from harness.bench.common import (BenchResult, RunOptions, attach_launch_marks, device_times, guarded, make_context,
                                  progress, timeout_ms)
from harness.designs.spec import KernelSpec, Point, call_reference
from harness.errors import UserError
from harness.results import schema
from harness.results.stats import summarize_samples
from harness.results.writer import RunWriter
from harness.runtime import XRT_EMULATION_MODES, open_runtime
from harness.runtime.session import Session

PLATFORM = "u280"
NO_TIME = "functional only: no time"
SAMPLE_COLUMNS = schema.KERNEL.sample_columns
NO_MODEL_TIMEOUT_MS = 60_000      # on a card without a cycle model nothing says how long a launch should take
SEED = 2027


@dataclass(frozen=True)
class KernelPlan:
    spec: KernelSpec
    opts: RunOptions = field(default_factory=RunOptions)


# ---------------------------------------------------------------- checks before anything runs
def check_plan(plan: KernelPlan):
    """The spec's Design, once every shape's buffers are known to fit the banks they go to."""
    spec = plan.spec
    design = spec.design()
    plat = model.load_platform(PLATFORM)
    for p in spec.points:
        sizes = spec.sizes(p)
        per_bank: dict[str, int] = {}
        for b in spec.buffers:
            tag = design.kernels[spec.name].args[design.kernels[spec.name].arg_index(b.name)].bank_for(0)
            per_bank[tag] = per_bank.get(tag, 0) + sizes[b.name] * b.dtype.itemsize
        for tag, nbytes in per_bank.items():
            cap = plat.memory(tag).size_bytes
            if nbytes > cap:
                raise UserError(f"{spec.path.name}: {', '.join(p.ops) or p.label()} needs {nbytes} bytes in {tag}, "
                                f"which holds {cap}; use smaller shapes or spread the buffers over banks")
    return design


def check_connectivity(sess: Session, spec: KernelSpec) -> None:
    """Every buffer's bank exists in the xclbin and is the one its port is connected to."""
    kern = sess.design.kernels[spec.name]
    by_index = {i: t for t, i in sess.mem_index.items()}
    name = sess.xclbin_path.name
    for i, a in enumerate(kern.args):
        if a.kind != "ptr":
            continue
        tag = a.bank_for(0)
        if tag not in sess.mem_index:
            have = ", ".join(sorted(sess.mem_index)[:6]) + (", ..." if len(sess.mem_index) > 6 else "")
            raise UserError(f"{spec.path.name}: {a.name} is in {tag}, which {name} does not have "
                            f"(it has {have}); fix bank = in the spec")
        group = sess.kernel(spec.name, 0).group_id(i)
        if group != sess.mem_index[tag]:
            raise UserError(f"{spec.path.name}: {a.name} is in {tag}, but {name} connects "
                            f"{spec.name}_1.{a.name} to {by_index.get(group, f'memory {group}')}; "
                            "fix bank = in the spec")


def timing_kind(rt, spec: KernelSpec) -> str:
    """'measured' (the card), 'emulation' (XRT's simulators), 'cycles' (the built-in emulator with
    the spec's cycle model) or 'none' (the built-in emulator without one)."""
    if rt.timing_source == "measured":
        return "measured"
    if rt.mode in XRT_EMULATION_MODES:
        return "emulation"
    return "cycles" if spec.timing is not None else "none"


def xclbin_for(rt, spec: KernelSpec, given: str | None):
    if given:
        return given
    if rt.mode == "emu":
        if not spec.sources:
            raise UserError(f"{spec.path.name}: --mode emu compiles the kernel natively, but [kernel] gives no "
                            "source; add source = \"<file>.cpp\"")
        return None                   # built natively on first use (Runtime.default_xclbin)
    if spec.xclbin is None:
        raise UserError(f"--mode {rt.mode} needs the xclbin holding {spec.name}: pass --xclbin PATH or set "
                        "xclbin = in [kernel] of the spec")
    return str(spec.xclbin)


# ---------------------------------------------------------------- one point
def fill(buf, n: int, rng) -> np.ndarray:
    lo, hi = buf.fill
    if buf.dtype.kind == "f":
        return rng.uniform(lo, hi, n).astype(buf.dtype)
    return rng.integers(int(lo), int(hi), n, endpoint=True).astype(buf.dtype)


def _poison(view: np.ndarray) -> None:
    """A value no correct result is likely to take: a NaN for floats, 0x7E.. bytes for integers."""
    if view.dtype.kind == "f":
        if view.dtype.itemsize == 2:
            view.view(np.uint16)[:] = 0x7E5D
        elif view.dtype.itemsize == 4:
            view.view(np.uint32)[:] = 0x7FC0DEAD
        else:
            view.view(np.uint64)[:] = 0x7FF8DEADBEEF0000
    else:
        view.view(np.uint8)[:] = 0x7E


def point_rng(point: Point):
    return np.random.default_rng([SEED, *point.dims.values()])


def make_inputs(spec: KernelSpec, point: Point) -> dict[str, np.ndarray]:
    """The input buffers of a point: they depend only on the spec and the shape."""
    sizes = spec.sizes(point)
    rng = point_rng(point)
    return {b.name: fill(b, sizes[b.name], rng) for b in spec.buffers if b.is_input}


class KernelCase:
    """Buffers, the run and the expected outputs of one point on a Session."""

    weight = 1.0        # progress per repetition (a launch: specs' points are not known to be alike)

    def __init__(self, sess: Session, spec: KernelSpec, point: Point, timing: str, opts: RunOptions,
                 clock_mhz: float, checked: tuple | None = None):
        """checked: (inputs, expected) of this point, already computed (the first point is, before
        the run directory exists)."""
        self.sess, self.spec, self.point = sess, spec, point
        self.sizes = spec.sizes(point)
        scalars = spec.scalar_values(point)
        self.bo = {b.name: sess.alloc(spec.name, 0, b.name, self.sizes[b.name] * b.dtype.itemsize)
                   for b in spec.buffers}
        self.inputs, expected = checked if checked is not None else (make_inputs(spec, point), None)
        for name, data in self.inputs.items():
            self._view(name)[:] = data
        self.h2d_time_s = sess.to_device([self.bo[n] for n in self.inputs])
        self.run = sess.run(spec.name, 0, [self.bo[a.name] if a.kind == "buffer" else scalars[a.name]
                                           for a in spec.args])
        self.outputs = [b for b in spec.buffers if b.is_output]
        if expected is None and spec.reference is not None:
            expected = call_reference(spec, point, self.inputs)
        self.expected = expected
        self.flop, self.bytes = spec.flop_of(point), spec.bytes_of(point)
        self.cycles = spec.cycles_of(point)
        self.predicted_time_s = self.cycles / (clock_mhz * 1e6) if self.cycles is not None else None
        self.timed = timing != "none"
        disp = model.dispatch_overhead(model.load_platform(PLATFORM)).value
        if self.predicted_time_s is None and opts.timeout is None and sess.rt.mode == "hw":
            self.timeout = NO_MODEL_TIMEOUT_MS
        else:
            self.timeout = timeout_ms(opts, (self.predicted_time_s or 0.0) + disp, sess.rt.mode)

    def _view(self, name: str) -> np.ndarray:
        b = next(x for x in self.spec.buffers if x.name == name)
        return np.frombuffer(self.bo[name].map(), b.dtype)[:self.sizes[name]]

    def launch(self) -> dict:
        sess, spec = self.sess, self.spec
        for b in self.outputs:
            if b.direction == "inout":
                self._view(b.name)[:] = self.inputs[b.name]       # the kernel overwrote it last time
            else:
                _poison(self._view(b.name))
        sess.to_device([self.bo[b.name] for b in self.outputs])
        what = f"{spec.name} {', '.join(self.point.ops) or self.point.label()}"
        t, wall = sess.launch([self.run], self.timeout, what)
        d2h = sum(sess.from_device(self.bo[b.name]) for b in self.outputs)
        ok, err = self.verify()
        return {"time_s": t if self.timed else None, "wall_time_s": wall, "d2h_time_s": d2h,
                "verified": ok, "error": err}

    def verify(self) -> tuple[bool, str]:
        if self.expected is None:
            return False, "no [reference] in the spec: the outputs are not checked"
        ref = self.spec.reference
        for b in self.outputs:
            exp, tol = self.expected[b.name]
            if tol is None:
                tol = ref.atol + ref.rtol * np.abs(exp.astype(np.float64))
            ok, msg = compare_within(self._view(b.name), exp, tol)
            if not ok:
                return False, f"{b.name} differs from the reference {ref.text}: {msg}"
        return True, ""

    def columns(self, s: dict) -> dict:
        ok, t = s["verified"], s["time_s"]
        d = self.point.dims
        rate = ok and t is not None and t > 0
        return {"kernel": self.spec.name, "ops": ";".join(self.point.ops), "dims": self.point.label(),
                "M": d.get("M"), "K": d.get("K"), "N": d.get("N"), "flop": self.flop, "bytes": self.bytes,
                "cycles": self.cycles, "predicted_time_s": self.predicted_time_s,
                "throughput_GFLOPps": self.flop / t / 1e9 if rate else None,
                "bandwidth_GBps": self.bytes / t / 1e9 if rate else None}

    def repetitions(self, warmup: int, repeats: int, bar=None):
        first = True
        for phase, count in (("warmup", warmup), ("measure", repeats)):
            for rep in range(count):
                r = self.launch()
                s = {"phase": phase, "repetition": rep, "h2d_time_s": self.h2d_time_s if first else 0.0,
                     "timing_source": self.sess.rt.timing_source if self.timed else "none", **r}
                first = False
                if bar is not None:
                    bar.update(self.weight)
                yield {**s, **self.columns(s)}


# ---------------------------------------------------------------- the bench
def run(plan: KernelPlan) -> BenchResult:
    spec, opts = plan.spec, plan.opts
    design = check_plan(plan)
    rt = open_runtime(opts.mode, opts.device, vitis_platform=opts.vitis_platform)
    if rt.mode == "emu" and opts.clock_mhz is not None:
        raise UserError("--clock-mhz is for an xclbin's achieved clock; in emulation the clock is the spec's "
                        "freq_mhz: change it there")
    sess = Session(rt, design, xclbin_for(rt, spec, opts.xclbin))
    check_connectivity(sess, spec)
    # the reference on the first shape, before anything is written: a broken one is refused here
    first = spec.points[0]
    inputs = make_inputs(spec, first)
    checked = {0: (inputs, call_reference(spec, first, inputs) if spec.reference is not None else None)}
    timing = timing_kind(rt, spec)
    ctx = make_context("kernel", rt, sess, design, opts.clock_mhz)
    clock = float(ctx["clock_mhz"])
    ctx["kernel"] = {**spec.to_context(), "timing": {
        "measured": "measured: start()..wait() on the host clock",
        "emulation": f"emulation: {rt.mode}, the simulator's wall clock (device_time_s: XRT's device trace, "
                     "hw_emu); a check of the kernel, never a performance figure",
        "cycles": "model: the spec's cycle model ([timing] cycles) over the kernel clock, after "
                  "harness.model's dispatch cost, on the emulator's clock",
        "none": NO_TIME + " (the spec has no [timing] cycles)"}[timing],
        "launched_cu": f"{spec.name}_1", "seed": SEED}
    if timing == "none":
        ctx["timing_source"] = "none"
    if rt.mode == "emu":
        ctx["emulator"]["timing"] = ctx["kernel"]["timing"]
        ctx["notes"] = [n for n in ctx["notes"] if "harness.model" not in n]
        ctx["notes"].append("emulated: " + ("every time_s is the spec's cycle model plus the modeled dispatch, "
                                            "not measured on a card" if timing == "cycles" else NO_TIME))
    writer = RunWriter("kernel", rt.mode, ctx, opts.out, SAMPLE_COLUMNS)
    marks = attach_launch_marks(writer, sess)
    with guarded(writer):
        _copy_spec(spec, writer.path)
        points = spec.points
        # progress counts launches here: a spec's points are not known to be alike before they run
        bar = progress(len(points) * (opts.warmup + opts.repeats), f"{spec.name} ({rt.mode})")
        for i, p in enumerate(points):
            bar.point(p.label())
            case = KernelCase(sess, spec, p, timing, opts, clock, checked.pop(i, None))
            times = []
            for s in case.repetitions(opts.warmup, opts.repeats, bar):
                writer.add_sample({"point": i, **s})
                if s["phase"] == "measure" and s.get("verified") and s.get("time_s") is not None:
                    times.append(s["time_s"])
            bar.point_done(p.label(), (f"{float(np.median(times)) * 1e6:,.1f} us median" if times
                                       else "no timed, verified repetition") + f", {len(times)}/{opts.repeats}")
            del case
        bar.close()
        device_times(writer, marks)
        summary = summarize_samples("kernel", writer.rows)
        writer.finish(summary)
    return BenchResult(writer.path, writer.run_id, summary, "none" if timing == "none" else rt.timing_source,
                       rt.mode)


def _copy_spec(spec: KernelSpec, path) -> None:
    """The spec as it was read, and the files it names (reference, report), into the run directory."""
    (path / "spec.toml").write_text(spec.text)
    extra = [f for f in (spec.reference.file if spec.reference else None,
                         spec.timing.report if spec.timing else None, *spec.sources) if f is not None]
    if extra:
        (path / "spec_files").mkdir()
        for f in extra:
            if f.is_file():
                shutil.copy2(f, path / "spec_files" / f.name)


def compare_within(got: np.ndarray, expected: np.ndarray, tol) -> tuple[bool, str]:
    """(ok, message): every element of `got` within `tol` of `expected` (NaN never is)."""
    got = np.asarray(got).reshape(-1)
    expected = np.asarray(expected).reshape(-1)
    if np.issubdtype(expected.dtype, np.integer) and np.issubdtype(got.dtype, np.integer):
        err = np.abs(got.astype(np.int64) - expected.astype(np.int64)).astype(np.float64)
    else:
        err = np.abs(got.astype(np.float64) - expected.astype(np.float64))
    tol = np.broadcast_to(np.asarray(tol, dtype=np.float64), err.shape)
    bad = ~(err <= tol)
    n_bad = int(bad.sum())
    if n_bad == 0:
        return True, ""
    i = int(np.argmax(np.where(bad, np.nan_to_num(err, nan=np.inf), -1)))
    return False, (f"{n_bad} of {bad.size} elements outside tolerance; first worst at [{i}]: got {got[i]!r}, "
                   f"expected {expected[i]!r} (tolerance {tol[i]!r})")
