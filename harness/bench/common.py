"""What every bench shares: the run options, the context block and the guarded run loop."""
from __future__ import annotations

import json
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

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
    mode: str = ""                   # emu: times come from the model, the same on every repetition


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


class Progress:
    """What a user waiting for a bench sees.

    Each repetition advances the bar by its weight (the modeled time or the bytes of
    its launch, plus a fixed cost per launch), so the time left is estimated from work
    done, not from a count of launches of very different sizes. On a terminal: one
    line on stderr, redrawn, naming the point being run, and the total time at the
    end. Otherwise (a pipe, a log): one plain line per finished point on stdout, with
    its figure and the elapsed time, then the total time, so a log shows the sweep
    as it goes while stderr keeps only notes and errors. `write` prints a note on
    stderr on a line of its own, never glued onto the bar.
    """

    REDRAW_S = 0.1
    _active: list["Progress"] = []

    def __init__(self, total: float, desc: str, stream=None, tty: bool | None = None, lines=None):
        self.stream = stream if stream is not None else sys.stderr
        self.lines = lines if lines is not None else (stream if stream is not None else sys.stdout)
        self.tty = bool(tty if tty is not None else getattr(self.stream, "isatty", lambda: False)())
        self.total, self.desc = max(float(total), 1e-30), desc
        self.done = 0.0
        self.points = 0
        self.label = ""
        self.t0 = time.perf_counter()
        self._drawn = 0.0
        self._width = 0
        self._closed = False
        Progress._active.append(self)

    @classmethod
    def clear_all(cls) -> None:
        """Take every bar off the screen (before an error is printed)."""
        for p in list(cls._active):
            p._clear()
            p._closed = True
            cls._active.remove(p)

    # -- what the bench tells it
    def point(self, label: str) -> None:
        """The point about to run."""
        self.label = label
        self._draw(force=True)

    def update(self, weight: float = 1.0) -> None:
        """One repetition (of `weight`) done."""
        self.done = min(self.total, self.done + float(weight))
        self._draw()

    def point_done(self, label: str, figure: str) -> None:
        self.points += 1
        if not self.tty:
            pct = 100.0 * self.done / self.total
            self._print(f"{self.desc}: {label}: {figure} ({self.elapsed():.1f} s elapsed, {pct:.0f}%)",
                        self.lines)

    def write(self, message: str) -> None:
        self._clear()
        self._print(message, self.stream)
        self._draw(force=True)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._clear()
        if self in Progress._active:
            Progress._active.remove(self)
        n = f"{self.points} point{'s' if self.points != 1 else ''} in " if self.points else ""
        self._print(f"{self.desc}: {n}{_clock(self.elapsed())} total", self.stream if self.tty else self.lines)

    # -- drawing
    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    @staticmethod
    def _print(text: str, stream) -> None:
        try:
            print(text, file=stream, flush=True)
        except (BrokenPipeError, ValueError):
            pass

    def _clear(self) -> None:
        if self.tty and self._width:
            self._raw("\r" + " " * self._width + "\r")
            self._width = 0

    def _raw(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (BrokenPipeError, ValueError):
            pass

    def _draw(self, force: bool = False) -> None:
        if not self.tty or self._closed:
            return
        now = time.perf_counter()
        if not force and now - self._drawn < self.REDRAW_S:
            return
        self._drawn = now
        frac = self.done / self.total
        el = self.elapsed()
        left = f"~{_clock(el * (1 - frac) / frac)} left" if frac > 0.02 and el > 0.5 else "estimating"
        bar = "#" * int(20 * frac)
        line = f"{self.desc} [{bar:<20}] {100 * frac:3.0f}%  {_clock(el)}, {left}  {self.label}"
        line = line[:_columns() - 1]
        pad = max(0, self._width - len(line))
        self._raw("\r" + line + " " * pad)
        self._width = len(line)


def size_label(n: int) -> str:
    """Bytes as the CLI takes them: 4K, 64M, 1G, or '100 B' when not a whole K/M/G (progress, notes)."""
    for unit, k in (("G", 30), ("M", 20), ("K", 10)):
        if n >= 1 << k and n % (1 << k) == 0:
            return f"{n >> k}{unit}"
    return f"{n} B"


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 60}:{s % 60:02d}" if s >= 60 else f"{seconds:.1f} s"


def _columns() -> int:
    import shutil
    return max(40, shutil.get_terminal_size((100, 20)).columns)


def progress(total: float, desc: str) -> Progress:
    return Progress(total, desc)


@contextmanager
def guarded(writer: RunWriter):
    """Any failure leaves the run directory marked incomplete with the reason (and the exception
    names that directory, so the message printed for it can say where the run is)."""
    try:
        yield
    except (RunFailed, UserError) as exc:
        Progress.clear_all()
        writer.fail(str(exc))
        exc.run_dir = writer.path
        raise
    except BaseException as exc:
        Progress.clear_all()
        writer.fail(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
        exc.run_dir = writer.path
        raise
