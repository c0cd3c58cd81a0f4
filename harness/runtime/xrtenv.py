"""The XRT installation around the harness: the pyxrt import, xrt.ini, the tool names.

- `import_pyxrt()` says *why* pyxrt does not import: XRT's binding is built for
  the Python of the OS the XRT package is for (CPython 3.8 on Ubuntu 20.04,
  3.10 on 22.04), so a virtual environment of another Python cannot load it.
- `effective_xrt_ini()` finds the xrt.ini XRT will read, in XRT's own order
  (harness/docs/xrt.md), and `profiling_keys()` names the settings in it that
  turn on tracing or profiling and so change what a timed run measures.
- `write_profile_ini()` writes the xrt.ini an XRT emulation run needs for device
  profiling (hw_emu: the simulated kernel start/end of every launch).
"""
from __future__ import annotations

import configparser
import importlib
import os
import re
import sys
from pathlib import Path

# XRT 2024.1 renamed `xbutil` to `xrt-smi`; messages name both.
SMI = "xrt-smi (xbutil before XRT 2024.1)"

_SO_TAG = re.compile(r"^pyxrt\.cpython-(\d)(\d+)[^.]*\.so$")


def _python_tag() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def _binding_pythons(folder: Path) -> list[str]:
    """Python versions of the pyxrt builds in `folder` ('3.10', ...)."""
    out = []
    try:
        names = sorted(p.name for p in folder.iterdir())
    except OSError:
        return out
    for n in names:
        m = _SO_TAG.match(n)
        if m:
            out.append(f"{m.group(1)}.{m.group(2)}")
    return out


def diagnose_import(exc: BaseException | None = None) -> str:
    """One sentence: why `import pyxrt` failed here, and what to do."""
    here = _python_tag()
    xrt = os.environ.get("XILINX_XRT")
    if not xrt:
        return ("XILINX_XRT is not set: `source /opt/xilinx/xrt/setup.sh` (it puts $XILINX_XRT/python, "
                "where pyxrt lives, on PYTHONPATH)")
    folder = Path(xrt) / "python"
    built_for = _binding_pythons(folder)
    if built_for and here not in built_for:
        need = ", ".join(f"CPython {v}" for v in built_for)
        return (f"XRT's pyxrt in {folder} is built for {need} and this is Python {here} "
                f"({sys.executable}); create .venv with that Python (`make distclean install "
                f"PYTHON=python{built_for[0]}`; the harness needs 3.10 or newer, so on Ubuntu 20.04, whose "
                "XRT ships pyxrt for 3.8, use an Ubuntu 22.04 host or build pyxrt from XRT's sources)")
    on_path = any(Path(p).resolve() == folder.resolve() for p in sys.path if p and Path(p).exists()) \
        if folder.exists() else False
    if built_for and not on_path:
        return (f"pyxrt for Python {here} is in {folder} but not on PYTHONPATH: "
                "`source /opt/xilinx/xrt/setup.sh` in this shell")
    if not built_for:
        return (f"no pyxrt*.so in {folder} (XILINX_XRT={xrt}): install the XRT package with its Python "
                "binding, then `source /opt/xilinx/xrt/setup.sh`")
    detail = str(exc).splitlines()[0] if exc is not None and str(exc) else type(exc).__name__
    return f"pyxrt for Python {here} is in {folder} but does not load ({detail}); check the XRT install"


def import_pyxrt():
    """(module, None, None) or (None, reason, failure). `failure` is set when a binding is there but
    its import raised something other than ImportError (an XRT library raising RuntimeError,
    OSError, ...): the card cannot be used, and the messages say what was raised."""
    try:
        return importlib.import_module("pyxrt"), None, None
    except ImportError as exc:
        return None, diagnose_import(exc), None
    except Exception as exc:  # noqa: BLE001 - whatever XRT's import raises, the card cannot be used
        text = str(exc).splitlines()[0] if str(exc) else ""
        failure = f"importing pyxrt raised {type(exc).__name__}" + (f": {text}" if text else "")
        return None, failure, failure


# --------------------------------------------------------------------------- xrt.ini
# Keys of [Debug] that turn on tracing or profiling (XRT config_reader.h, 2022.1-2025.1),
# with the values that leave them off.
PROFILING_KEYS = ("profile", "timeline_trace", "opencl_summary", "opencl_trace", "opencl_device_counter",
                  "native_xrt_trace", "host_trace", "xrt_trace", "xrt_profile", "hal_trace", "lop_trace",
                  "device_trace", "device_counters", "stall_trace", "data_transfer_trace", "continuous_trace",
                  "power_profile", "aie_trace", "aie_profile", "ml_timeline", "sc_profile", "vitis_ai_profile")
_OFF = {"", "false", "off", "0", "no", "none"}


def xrt_ini_candidates() -> list[tuple[str, Path]]:
    """Where XRT looks for xrt.ini, in its order: XRT_INI_PATH (the file itself), SDACCEL_INI_PATH,
    the directory of the running executable (the real interpreter, not the venv link), the cwd."""
    out = []
    for var in ("XRT_INI_PATH", "SDACCEL_INI_PATH"):
        if os.environ.get(var):
            out.append((var, Path(os.environ[var])))
    try:
        exe = Path(os.readlink("/proc/self/exe"))
    except OSError:
        exe = Path(os.path.realpath(sys.executable))
    out.append(("executable directory", exe.parent / "xrt.ini"))
    out.append(("working directory", Path.cwd() / "xrt.ini"))
    return out


def parse_xrt_ini(text: str) -> dict[str, dict[str, str]]:
    """{group: {key: value}}; `#` and `;` start comments, as XRT reads the file."""
    cp = configparser.ConfigParser(interpolation=None, comment_prefixes=("#", ";"),
                                   inline_comment_prefixes=("#", ";"), strict=False)
    cp.optionxform = str                     # keys are case sensitive in XRT
    cp.read_string(text)
    return {s: dict(cp.items(s)) for s in cp.sections()}


def effective_xrt_ini() -> dict | None:
    """The xrt.ini XRT will read, with how it was found and its settings, or None."""
    for how, path in xrt_ini_candidates():
        if path.is_file():
            try:
                settings = parse_xrt_ini(path.read_text(errors="replace"))
            except configparser.Error as exc:
                return {"path": str(path), "found_by": how, "settings": {},
                        "error": f"unreadable: {str(exc).splitlines()[0]}"}
            return {"path": str(path), "found_by": how, "settings": settings}
    return None


def profiling_keys(ini: dict | None) -> list[str]:
    """`Debug.key=value` for every setting of `ini` that turns on tracing or profiling."""
    if not ini:
        return []
    debug = ini.get("settings", {}).get("Debug", {})
    return [f"Debug.{k}={v}" for k, v in debug.items() if k in PROFILING_KEYS and v.strip().lower() not in _OFF]


PROFILE_ROOT = "xrt_profile"


def write_profile_ini(base: dict | None, root: Path | None = None) -> Path:
    """An xrt.ini for device profiling of an XRT emulation run; returns its folder.

    The folder is ./xrt_profile/<stamp>-<pid>/ under the working directory: XRT takes
    `profiling_directory` only as a relative path (an absolute one is ignored by newer
    releases), and it writes its last files there when the process exits.
    continuous_trace with a 1 s dump interval makes XRT write the trace while the
    process runs (otherwise it appears only at exit). The user's other settings are kept."""
    import datetime as dt
    root = Path(root) if root else Path.cwd()
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    rel = Path(PROFILE_ROOT) / f"{stamp}-{os.getpid()}"
    folder = root / rel
    folder.mkdir(parents=True, exist_ok=True)
    settings = {g: dict(kv) for g, kv in (base or {}).get("settings", {}).items()}
    debug = settings.setdefault("Debug", {})
    debug.update({"device_trace": "fine", "continuous_trace": "true", "trace_file_dump_interval_s": "1",
                  "profiling_directory": f"./{rel.as_posix()}"})
    lines = ["# Written by the harness for device profiling of an XRT emulation run."]
    if base:
        lines.append(f"# Other settings copied from {base['path']}.")
    for group, kv in settings.items():
        lines.append(f"[{group}]")
        lines += [f"{k} = {v}" for k, v in kv.items()]
    (folder / "xrt.ini").write_text("\n".join(lines) + "\n")
    return folder
