"""What every bench shares: its context block and the guarded run loop."""
from __future__ import annotations

import json
import sys
from contextlib import contextmanager

from tqdm import tqdm

from harness.bench.rundir import RunWriter, base_context
from harness.errors import RunFailed, UserError
from harness.runtime.info import device_context

COMMON_SAMPLE_COLUMNS = ["run_id", "point", "phase", "repetition", "time_s", "wall_time_s",
                         "h2d_time_s", "d2h_time_s", "verified", "error", "timing_source"]


def kernel_clock_mhz(rt, design, device: dict, given: float | None = None) -> tuple[float, str]:
    """The kernel clock the run is analysed at, and where that figure comes from.

    XRT's max_clock_frequency_mhz is the shell's highest clock, not necessarily the
    kernels' (and v++ may have lowered the kernel clock to close timing), so the
    design target is used unless the achieved clock is given with --clock-mhz."""
    design_src = f"design target (kernels/designs/{design.base}.toml)"
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


def print_closing(writer: RunWriter, summary, point_label) -> None:
    """The lines every bench ends with: failed points, stability warnings, where the run is."""
    from harness.bench.stats import stability_warnings
    failed = summary[~summary["verified"].astype(bool)]
    if len(failed):
        print(f"warning: {len(failed)} point(s) failed verification; they are recorded and never used")
    for w in stability_warnings(summary, point_label)[:5]:
        print(f"warning: {w}")
    print(f"run directory: {writer.path}")


def print_table(rows: list[list], header: list[str]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    fmt = "  ".join(f"{{:>{w}}}" for w in widths)
    print(fmt.format(*header))
    for r in rows:
        print(fmt.format(*r))
