"""Mode -> runtime. The only place that branches on the mode.

`open_runtime(mode)` returns a Runtime whose `.xrt` is the real `pyxrt` module
(hw, hw_emu, sw_emu) or harness.runtime.emulator (emu), and whose `.now_ns()` is
the host clock (perf_counter_ns) or the emulator's modeled device clock.
Everything above this (Session, the benches) is one code path for all modes.
"""
from __future__ import annotations

import importlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness import REPO_ROOT
from harness.errors import UserError

MODES = ("hw", "hw_emu", "sw_emu", "emu")
DEFAULT_PLATFORM = "xilinx_u280_gen3x16_xdma_1_202211_1"


@dataclass
class Runtime:
    mode: str
    xrt: object                   # module offering the pyxrt 2023.1 surface
    device: object
    timing_source: str            # 'measured' (the card) or 'model' (any emulation)
    device_id: str = "0"
    notes: list[str] = field(default_factory=list)

    def now_ns(self) -> float:
        if self.mode == "emu":
            return self.device.now_ns
        return float(time.perf_counter_ns())

    def default_xclbin(self, design) -> Path:
        """Where `make emu` / `make xclbin` put this design's xclbin for this mode."""
        if self.mode == "emu":
            from harness.designs.native import ensure_built
            return ensure_built(design)
        return xclbin_build_dir(self.mode) / f"{design.name}.xclbin"


def xclbin_build_dir(target: str, platform: str | None = None) -> Path:
    """build/<target>.<platform basename>/, as the Makefile writes it."""
    plat = platform or os.environ.get("PLATFORM", DEFAULT_PLATFORM)
    xsa = Path(plat).name.removesuffix(".xpfm")
    return REPO_ROOT / "build" / f"{target}.{xsa}"


def _import_pyxrt():
    try:
        return importlib.import_module("pyxrt")
    except ImportError:
        return None


def _open_device(xrt, device_id: str):
    arg = int(device_id) if str(device_id).isdigit() else str(device_id)
    return xrt.device(arg)


def open_runtime(mode: str | None, device: str = "0", announce=print) -> Runtime:
    """Pick the runtime for `mode` (None: hw if pyxrt and a card are there, else emu)."""
    if mode is not None and mode not in MODES:
        raise UserError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
    if mode is None and os.environ.get("XCL_EMULATION_MODE") in ("hw_emu", "sw_emu"):
        # pyxrt would open XRT's emulated device, not the card: never record that as `hw`.
        mode = os.environ["XCL_EMULATION_MODE"]
        announce(f"mode: {mode} (XCL_EMULATION_MODE is set; unset it to run on the card)")
    if mode is None:
        xrt = _import_pyxrt()
        if xrt is not None:
            try:
                dev = _open_device(xrt, device)
                announce(f"mode: hw (pyxrt imported and device {device} opened)")
                return Runtime("hw", xrt, dev, "measured", str(device))
            except Exception:   # noqa: BLE001 - any failure to open means: no usable card
                pass
        announce("mode: emu (no pyxrt or no U280 found; timings are modeled, not measured)")
        mode = "emu"
    if mode == "emu":
        from harness.runtime import emulator
        emulator.check_fault_spec()
        try:
            dev = _open_device(emulator, device)
        except RuntimeError as exc:
            raise UserError(f"{exc}; use --device 0") from exc
        return Runtime("emu", emulator, dev, "model", str(device))
    # Real XRT. Emulation targets need XCL_EMULATION_MODE and EMCONFIG_PATH before the
    # device opens (XRT <= 2023.1 looks for emconfig.json only there or next to python).
    if mode in ("hw_emu", "sw_emu"):
        emdir = Path(os.environ.get("EMCONFIG_PATH") or xclbin_build_dir(mode))
        if not (emdir / "emconfig.json").is_file():
            raise UserError(f"no emconfig.json in {emdir}; run `make emconfig TARGET={mode}` "
                            "or set EMCONFIG_PATH to its directory")
        os.environ["XCL_EMULATION_MODE"] = mode
        os.environ["EMCONFIG_PATH"] = str(emdir)
    else:
        os.environ.pop("XCL_EMULATION_MODE", None)
    xrt = _import_pyxrt()
    if xrt is None:
        raise UserError(f"--mode {mode} needs XRT's Python binding (pyxrt): "
                        "`source /opt/xilinx/xrt/setup.sh` first, or use --mode emu")
    try:
        dev = _open_device(xrt, device)
    except Exception as exc:  # noqa: BLE001 - pyxrt raises RuntimeError with XRT's text
        raise UserError(f"cannot open device {device} ({str(exc).splitlines()[0] if str(exc) else exc}); "
                        "check `xbutil examine`, or use --mode emu") from exc
    timing = "measured" if mode == "hw" else "model"
    rt = Runtime(mode, xrt, dev, timing, str(device))
    if mode != "hw":
        rt.notes.append(f"{mode}: times are simulator wall-clock, not the card's; never a measured ceiling")
    return rt


def has_hw_context(xrt) -> bool:
    """XRT >= 2023.2 has hw_context; 2023.1 has only device.load_xclbin."""
    return hasattr(xrt, "hw_context")


__all__ = ["MODES", "Runtime", "open_runtime", "xclbin_build_dir", "has_hw_context"]
