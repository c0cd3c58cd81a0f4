"""What every bench shares: the run options, the context block and the guarded run loop."""
from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from harness.results import schema
from harness.results.writer import RunWriter, run_context
from harness.errors import RunFailed, UserError
from harness.runtime import MAX_TIMEOUT_MS, XRT_EMULATION_MODES
from harness.runtime.info import device_context, kernel_clock

@dataclass(frozen=True)
class RunOptions:
    """How a bench runs, whatever it measures (the options every `harness bench` takes)."""
    mode: str | None = None          # None: hw if a card opens, else emu
    device: str = "0"
    xclbin: str | None = None
    warmup: int = 2
    repeats: int = 9
    timeout: int | None = None       # ms per launch; None: from the model
    out: str | None = None           # parent of the run directory
    clock_mhz: float | None = None   # achieved kernel clock, if given
    vitis_platform: str | None = None  # platform the xclbins were built for (None: the Makefile's)


@dataclass(frozen=True)
class BenchResult:
    """What a bench returns: where its run directory is and its per-point summary."""
    path: Path
    run_id: str
    summary: object                  # pandas DataFrame
    timing_source: str


HW_TIMEOUT_FACTOR, HW_MIN_TIMEOUT_MS = 50, 2_000
# In emulation the kernels run natively on the host, one CU after another on a busy laptop: a
# 16-CU memcpy runs ~200x slower than the card it models, so the default bound on the host's wall
# time is 1000x the modeled time (5x margin on that), and never under 10 minutes.
EMU_TIMEOUT_FACTOR, EMU_MIN_TIMEOUT_MS = 1000, 600_000


def timeout_ms(opts: RunOptions, predicted_s: float, mode: str | None = None) -> int | None:
    """ms one launch may take before it is given up on: --timeout, else from the modeled time.

    It bounds the wait on the card and, in the emulator, the host's wall time of the native run
    as well as the modeled time; a launch that exceeds it stops the run, marked incomplete.
    None (no bound) in XRT's emulation modes, where RTL simulation is far slower."""
    if opts.timeout is not None:
        return opts.timeout
    mode = mode or opts.mode
    if mode in XRT_EMULATION_MODES:
        return None
    if mode == "emu":
        ms = max(EMU_MIN_TIMEOUT_MS, EMU_TIMEOUT_FACTOR * predicted_s * 1e3)
    else:
        ms = max(HW_MIN_TIMEOUT_MS, HW_TIMEOUT_FACTOR * predicted_s * 1e3)
    return int(min(MAX_TIMEOUT_MS, ms))


def xclbin_format(path: Path) -> str:
    """What the xclbin file is, from its own bytes: 'xclbin2' (the magic of every xclbin v++ writes),
    the emulator's descriptor format, or 'unknown'."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
        if head.startswith(schema.REAL_XCLBIN_FORMAT.encode()):
            return schema.REAL_XCLBIN_FORMAT
        if head.lstrip().startswith(b"{"):
            return str(json.loads(Path(path).read_text()).get("format") or "unknown")
    except (OSError, ValueError, AttributeError):
        pass
    return "unknown"


def make_context(bench: str, rt, session, design, clock_mhz: float | None = None) -> dict:
    dev = device_context(rt, session)
    clk = kernel_clock(design, dev, clock_mhz)
    session.clock_mhz = clk["clock_mhz"]
    fmt = xclbin_format(session.xclbin_path)
    notes = list(rt.notes)
    if clk["warning"]:
        print(f"warning: {clk['warning']}", file=sys.stderr)
        notes.append(clk["warning"])
    emulator = None
    if fmt == schema.EMU_XCLBIN_FORMAT:
        # recorded whatever the mode: a run whose xclbin is the emulator's can never be a measurement
        desc = json.loads(session.xclbin_path.read_text())
        from harness.runtime import faults
        spec = faults.from_env()
        emulator = {"library": desc["library"], "build_hash": desc["build_hash"], "compiler": desc["compiler"],
                    "fault": spec.text() if spec else None}
        if rt.mode == "emu":
            emulator["timing"] = ("harness.model (see harness/docs/model.md); wall_time_s is the emulation's "
                                  "own time")
            notes.append("emulated: every time_s is modeled by harness.model, not measured on a card")
    runtime = {"module": rt.module}        # 'pyxrt' on a card
    ctx = run_context(
        bench, rt.mode, rt.timing_source, design=design.to_context(), dtype=design.dtype,
        clock_mhz=clk["clock_mhz"], clock_source=clk["clock_source"], device=dev,
        xclbin={"path": str(session.xclbin_path), "uuid": session.uuid_string(), "xsa_name": session.xsa_name(),
                "format": fmt},
        runtime=runtime, notes=notes, emulator=emulator)
    ctx["clock_detail"] = clk["clock_detail"]
    ctx.update(rt.context())               # vitis_platform, xrt_ini, device_profile_dir
    return ctx


class LaunchMarks:
    """Which of the session's launches each sample row covers, so device profiling (hw_emu) can
    give every row its device time once XRT has written the trace."""

    def __init__(self, sess):
        self.sess, self.marks, self._next = sess, [], 0

    def mark(self) -> None:
        """Call once per sample row, right after its launches."""
        n = len(self.sess.launch_log)
        self.marks.append((self._next, n))
        self._next = n


def attach_launch_marks(writer: RunWriter, sess) -> LaunchMarks:
    marks = LaunchMarks(sess)
    writer.on_sample = lambda _row: marks.mark()
    return marks


def device_times(writer: RunWriter, marks: LaunchMarks) -> None:
    """Fill device_time_s of every sample from XRT's device trace (hw_emu); say so when absent."""
    sess, rt = marks.sess, marks.sess.rt
    if rt.profile_dir is None:
        if rt.mode == "sw_emu":
            writer.context["device_profile"] = {"absent": "sw_emu runs kernels as host code: no device time"}
        return
    from harness.runtime import profile
    times, status = profile.collect(rt.profile_dir, sess.launch_log)
    for row, (a, b) in zip(writer.rows, marks.marks):
        ts = times[a:b]
        row["device_time_s"] = sum(ts) if ts and all(t is not None for t in ts) else None
    writer.context["device_profile"] = status
    writer.rewrite_samples()
    for key in ("absent", "incomplete"):
        if key in status:
            print(f"warning: device profile {key}: {status[key]} ({status['dir']})", file=sys.stderr)


def progress(total: int, desc: str):
    return tqdm(total=total, desc=desc, unit="launch", file=sys.stderr, dynamic_ncols=True,
                disable=None, leave=False)


@contextmanager
def guarded(writer: RunWriter):
    """Any failure leaves the run directory marked incomplete with the reason (and the exception
    names that directory, so the message printed for it can say where the run is)."""
    try:
        yield
    except (RunFailed, UserError) as exc:
        writer.fail(str(exc))
        exc.run_dir = writer.path
        raise
    except BaseException as exc:
        writer.fail(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
        exc.run_dir = writer.path
        raise
