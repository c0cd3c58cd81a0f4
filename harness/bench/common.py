"""What every bench shares: the run options, the context block and the guarded run loop."""
from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from harness.results.writer import RunWriter, base_context
from harness.errors import RunFailed, UserError
from harness.runtime.info import device_context

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


@dataclass(frozen=True)
class BenchResult:
    """What a bench returns: where its run directory is and its per-point summary."""
    path: Path
    run_id: str
    summary: object                  # pandas DataFrame
    timing_source: str


def timeout_ms(opts: RunOptions, predicted_s: float) -> int:
    if opts.timeout is not None:
        return opts.timeout
    return int(max(2000.0, 50 * predicted_s * 1e3))


COMMON_SAMPLE_COLUMNS = ["run_id", "point", "phase", "repetition", "time_s", "wall_time_s",
                         "h2d_time_s", "d2h_time_s", "verified", "error", "timing_source"]


def kernel_clock_mhz(rt, design, device: dict, given: float | None = None) -> tuple[float, str]:
    """The kernel clock the run is analysed at, and where that figure comes from.

    XRT's max_clock_frequency_mhz is the shell's highest clock, not necessarily the
    kernels' (and v++ may have lowered the kernel clock to close timing), so the
    design target is used unless the achieved clock is given with --clock-mhz."""
    design_src = f"design target ({design.file_label})"
    if given is not None:
        return float(given), "given with --clock-mhz (the achieved kernel clock of the xclbin)"
    if rt.mode == "emu":
        return design.freq_mhz, f"{design_src}; emulated"
    return design.freq_mhz, (f"{design_src}; the device reports max_clock_frequency_mhz="
                             f"{device.get('max_clock_frequency_mhz')}; if v++ lowered the kernel clock, "
                             "rerun with --clock-mhz ACHIEVED")


def make_context(bench: str, rt, session, design, clock_mhz: float | None = None) -> dict:
    ctx = base_context(bench, rt.mode, rt.timing_source)
    dev = device_context(rt, session)
    clock, clock_src = kernel_clock_mhz(rt, design, dev, clock_mhz)
    ctx.update({
        "platform": "u280",
        "design": design.to_context(),
        "dtype": design.dtype,
        "clock_mhz": clock,
        "clock_source": clock_src,
        "device": dev,
        "xclbin": {"path": str(session.xclbin_path), "uuid": session.uuid_string(),
                   "xsa_name": session.xsa_name()},
        "notes": list(rt.notes),
    })
    if rt.mode == "emu":
        desc = json.loads(session.xclbin_path.read_text())
        ctx["emulator"] = {"library": desc["library"], "build_hash": desc["build_hash"],
                           "compiler": desc["compiler"],
                           "timing": "harness.model (see harness/docs/model.md); wall_time_s is the emulation's own time"}
        ctx["notes"].append("emulated: every time_s is modeled by harness.model, not measured on a card")
    return ctx


def progress(total: int, desc: str):
    return tqdm(total=total, desc=desc, unit="launch", file=sys.stderr, dynamic_ncols=True,
                disable=None, leave=False)


@contextmanager
def guarded(writer: RunWriter):
    """Any failure leaves the run directory marked incomplete with the reason."""
    try:
        yield
    except (RunFailed, UserError) as exc:
        writer.fail(str(exc))
        raise
    except BaseException as exc:
        writer.fail(f"{type(exc).__name__}: {exc}")
        raise
