"""Mode -> runtime. The only place that branches on the mode.

`open_runtime(mode)` returns a Runtime whose `.xrt` is the real `pyxrt` module
(hw, hw_emu, sw_emu) or harness.runtime.emulator (emu), and whose `.now_ns()` is
the host clock (perf_counter_ns) or the emulator's modeled device clock.
Everything above this (Session, the benches) is one code path for all modes.

Timing sources: `measured` (hw: the card), `emulation` (hw_emu, sw_emu: XRT's
simulator; host time is the simulator's wall clock, never a ceiling), `model`
(emu: harness.model's prediction on the emulator's modeled clock).
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness import REPO_ROOT
from harness.errors import UserError
from harness.results.schema import MODES
from harness.runtime import xrtenv

XRT_EMULATION_MODES = ("hw_emu", "sw_emu")
DEFAULT_PLATFORM = "xilinx_u280_gen3x16_xdma_1_202211_1"
TIMING_SOURCES = {"hw": "measured", "hw_emu": "emulation", "sw_emu": "emulation", "emu": "model"}
# run.wait(ms) takes an unsigned 32-bit count in pyxrt (a larger value raises TypeError).
MAX_TIMEOUT_MS = 2 ** 32 - 1


@dataclass
class Runtime:
    mode: str
    xrt: object                   # module offering the pyxrt 2023.1 surface
    device: object
    timing_source: str            # 'measured' (hw), 'emulation' (hw_emu, sw_emu) or 'model' (emu)
    device_id: str = "0"
    notes: list[str] = field(default_factory=list)
    vitis_platform: str = DEFAULT_PLATFORM
    xrt_ini: dict | None = None   # the xrt.ini XRT reads in this process (path, settings)
    profile_dir: Path | None = None   # where XRT writes device profiling (XRT emulation modes)
    module: str = ""              # the module that answered as pyxrt ('pyxrt' on a card), for context.json

    def now_ns(self) -> float:
        if self.mode == "emu":
            return self.device.now_ns
        return float(time.perf_counter_ns())

    def default_xclbin(self, design) -> Path:
        """Where `make emu` / `make xclbin` put this design's xclbin for this mode."""
        if self.mode == "emu":
            from harness.designs.native import ensure_built
            return ensure_built(design)
        return xclbin_build_dir(self.mode, self.vitis_platform) / f"{design.name}.xclbin"

    def context(self) -> dict:
        """What a run records about its runtime beside the device facts."""
        return {"vitis_platform": self.vitis_platform, "xrt_ini": self.xrt_ini,
                "device_profile_dir": str(self.profile_dir) if self.profile_dir else None}


def requested_emulation(mode: str | None) -> str | None:
    """hw_emu or sw_emu when a run in `mode` will be one of XRT's emulations (asked for, or chosen
    by XCL_EMULATION_MODE in auto mode), else None. Known before any runtime opens."""
    if mode is None and os.environ.get("XCL_EMULATION_MODE") in XRT_EMULATION_MODES:
        mode = os.environ["XCL_EMULATION_MODE"]
    return mode if mode in XRT_EMULATION_MODES else None


def platform_basename(platform: str | None) -> str:
    return Path(platform or DEFAULT_PLATFORM).name.removesuffix(".xpfm")


def xclbin_build_dir(target: str, platform: str | None = None) -> Path:
    """build/<target>.<platform basename>/, as the Makefile writes it."""
    return REPO_ROOT / "build" / f"{target}.{platform_basename(platform)}"


def built_xclbins(target: str | None = None) -> list[Path]:
    """Every xclbin under build/ (for a target, if given): what `make xclbin` has produced."""
    root = REPO_ROOT / "build"
    pattern = f"{target}.*/*.xclbin" if target else "*.*/*.xclbin"
    return sorted(p for p in root.glob(pattern) if not p.parent.name.startswith("_x."))


def _import_pyxrt():
    """The pyxrt module, or None; the reason is kept for the messages (and the failure, when a
    binding is there but its import raised something other than ImportError)."""
    global _IMPORT_REASON, _IMPORT_FAILURE
    mod, _IMPORT_REASON, _IMPORT_FAILURE = xrtenv.import_pyxrt()
    return mod


_IMPORT_REASON: str | None = None
_IMPORT_FAILURE: str | None = None


def _import_reason() -> str:
    return _IMPORT_REASON or xrtenv.diagnose_import()


def _module_name(xrt) -> str:
    return str(getattr(xrt, "__name__", type(xrt).__name__))


def _open_device(xrt, device_id: str):
    arg = int(device_id) if str(device_id).isdigit() else str(device_id)
    return xrt.device(arg)


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _check_xrt_ini(rt: Runtime, announce) -> None:
    """Record the effective xrt.ini; in hw mode warn when it turns on profiling the run did not ask for."""
    rt.xrt_ini = xrtenv.effective_xrt_ini()
    keys = xrtenv.profiling_keys(rt.xrt_ini)
    if rt.mode == "hw" and keys:
        msg = (f"{rt.xrt_ini['path']} ({rt.xrt_ini['found_by']}) turns on XRT profiling ({', '.join(keys)}), "
               "which adds overhead to every launch and transfer timed here; remove it or set XRT_INI_PATH "
               "to an empty file")
        announce(f"warning: {msg}")
        rt.notes.append(msg)


def open_runtime(mode: str | None, device: str = "0", announce=print,
                 vitis_platform: str | None = None) -> Runtime:
    """Pick the runtime for `mode` (None: hw if pyxrt and a card are there, else emu)."""
    global _IMPORT_REASON, _IMPORT_FAILURE
    _IMPORT_REASON = _IMPORT_FAILURE = None
    if mode is not None and mode not in MODES:
        raise UserError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
    vitis_platform = vitis_platform or DEFAULT_PLATFORM
    env_mode = os.environ.get("XCL_EMULATION_MODE", "")
    if env_mode == "noop" and mode in (None, "hw"):
        # XRT's no-op shim opens a "device" without a card: nothing run on it is a measurement.
        if mode == "hw":
            raise UserError("XCL_EMULATION_MODE=noop selects XRT's no-op device, which is not a card; "
                            "unset XCL_EMULATION_MODE to run on the U280, or use --mode emu")
        announce("mode: emu (XCL_EMULATION_MODE=noop selects XRT's no-op device, which is not a card)")
        mode = "emu"
    if mode is None and env_mode in XRT_EMULATION_MODES:
        # pyxrt would open XRT's emulated device, not the card: never record that as `hw`.
        mode = env_mode
        announce(f"mode: {mode} (XCL_EMULATION_MODE is set; unset it to run on the card)")
    if mode is None:
        xrt = _import_pyxrt()
        if xrt is not None:
            try:
                dev = _open_device(xrt, device)
            except Exception as exc:   # noqa: BLE001 - any failure to open means: no usable card
                announce(f"mode: emu (pyxrt imported, but device {device} did not open: {_first_line(exc)}; "
                         "timings are modeled, not measured)")
            else:
                announce(f"mode: hw (pyxrt imported and device {device} opened)")
                rt = Runtime("hw", xrt, dev, TIMING_SOURCES["hw"], str(device), vitis_platform=vitis_platform,
                             module=_module_name(xrt))
                _check_xrt_ini(rt, announce)
                return rt
        else:
            if _IMPORT_FAILURE:
                announce(f"note: {_IMPORT_FAILURE}; falling back to the emulator")
            announce(f"mode: emu (no pyxrt: {_import_reason()}; timings are modeled, not measured)")
        mode = "emu"
    if mode == "emu":
        from harness.runtime import emulator, faults
        emulator.check_fault_spec()
        try:
            dev = _open_device(emulator, device)
        except RuntimeError as exc:
            raise UserError(f"{exc}; use --device 0") from exc
        rt = Runtime("emu", emulator, dev, TIMING_SOURCES["emu"], str(device), vitis_platform=vitis_platform,
                     module=_module_name(emulator))
        spec = faults.from_env()
        if spec is not None:
            note = (f"fault injected on purpose: {faults.ENV}={spec.text()}"
                    + (" (the kernels compute wrong results: every point they touch must fail verification)"
                       if spec.in_kernel else ""))
            announce(note)
            rt.notes.append(note)
        return rt
    # Real XRT. Emulation targets need XCL_EMULATION_MODE and EMCONFIG_PATH before the
    # device opens (XRT <= 2023.1 looks for emconfig.json only there or next to python).
    profile_dir = None
    notes = []
    if mode in XRT_EMULATION_MODES:
        emdir = Path(os.environ.get("EMCONFIG_PATH") or xclbin_build_dir(mode, vitis_platform))
        if not (emdir / "emconfig.json").is_file():
            raise UserError(f"no emconfig.json in {emdir}; run `make emconfig TARGET={mode}` "
                            "or set EMCONFIG_PATH to its directory")
        os.environ["XCL_EMULATION_MODE"] = mode
        os.environ["EMCONFIG_PATH"] = str(emdir)
        notes.append(f"{mode}: host times are the simulator's wall clock, not the card's; never a ceiling")
        if mode == "sw_emu":
            msg = ("sw_emu is deprecated in Vitis 2024.2 and removed in 2025.1; it runs the kernels as host "
                   "code (no device time): check kernels with --mode emu or hw_emu instead")
            announce(f"warning: {msg}")
            notes.append(msg)
        if mode == "hw_emu":
            # The simulated device time comes from XRT's device profiling: the harness writes
            # the xrt.ini it needs before XRT reads its configuration (at the first device open).
            profile_dir = xrtenv.write_profile_ini(xrtenv.effective_xrt_ini())
            os.environ["XRT_INI_PATH"] = str(profile_dir / "xrt.ini")
            notes.append(f"hw_emu: XRT device profiling configured by {profile_dir / 'xrt.ini'}")
    else:
        os.environ.pop("XCL_EMULATION_MODE", None)
    xrt = _import_pyxrt()
    if xrt is None and _IMPORT_FAILURE:
        raise UserError(f"--mode {mode}: {_IMPORT_FAILURE}; check the XRT installation "
                        "(`source /opt/xilinx/xrt/setup.sh`, `xbutil examine`), or use --mode emu")
    if xrt is None:
        raise UserError(f"--mode {mode} needs XRT's Python binding (pyxrt): {_import_reason()}; "
                        "or use --mode emu")
    try:
        dev = _open_device(xrt, device)
    except Exception as exc:  # noqa: BLE001 - pyxrt raises RuntimeError with XRT's text
        text = _first_line(exc)
        if "XILINX_XRT" in text:
            hint = "`source /opt/xilinx/xrt/setup.sh` first"
        elif mode == "sw_emu":
            hint = "sw_emu is removed from Vitis/XRT 2025.1: use --mode hw_emu, or --mode emu"
        else:
            hint = "check `xrt-smi examine` (`xbutil examine` before XRT 2024.1)"
        raise UserError(f"cannot open device {device} ({text}); {hint}, or use --mode emu") from exc
    rt = Runtime(mode, xrt, dev, TIMING_SOURCES[mode], str(device), notes=notes,
                 vitis_platform=vitis_platform, profile_dir=profile_dir, module=_module_name(xrt))
    _check_xrt_ini(rt, announce)
    return rt


def has_hw_context(xrt) -> bool:
    """XRT >= 2023.2 has hw_context; 2023.1 has only device.load_xclbin."""
    return hasattr(xrt, "hw_context")


__all__ = ["MODES", "Runtime", "open_runtime", "xclbin_build_dir", "has_hw_context", "TIMING_SOURCES",
           "MAX_TIMEOUT_MS", "built_xclbins", "platform_basename", "requested_emulation"]
