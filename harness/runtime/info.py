"""What the device, shell, clocks, xclbin and connectivity are: for `harness info` and context.json.

The kernel clock is read back from the device after the xclbin is loaded:
`get_info(xrt_info_device.platform)` is JSON whose `platforms[0].clocks[]` lists
the loaded xclbin's clock topology (`id`, `description` Data/Kernel/System,
`freq_mhz`); HLS kernels run on the Data clock. `max_clock_frequency_mhz` is the
largest of all of them (500 MHz on U50-class shells), not the kernels' clock.
"""
from __future__ import annotations

import json


def _info(rt, key: str):
    xrt = rt.xrt
    try:
        raw = rt.device.get_info(getattr(xrt.xrt_info_device, key))
    except Exception as exc:  # noqa: BLE001 - a key missing on an older XRT is not fatal
        return {"unavailable": str(exc)}
    try:
        return json.loads(raw)
    except (TypeError, json.JSONDecodeError):
        return raw


def _find_key(obj, key: str):
    """First value of `key` in nested JSON (XRT's host report holds the XRT version)."""
    if isinstance(obj, dict):
        if key in obj and not isinstance(obj[key], (dict, list)):
            return obj[key]
        obj = list(obj.values())
    if isinstance(obj, list):
        for v in obj:
            found = _find_key(v, key)
            if found is not None:
                return found
    return None


def _clock_list(platform) -> list | None:
    """platforms[0].clocks[] of the platform JSON (also the nested clocks.clocks[] of newer XRT)."""
    if not isinstance(platform, dict):
        return None
    plats = platform.get("platforms")
    if not isinstance(plats, list) or not plats or not isinstance(plats[0], dict):
        return None
    clocks = plats[0].get("clocks")
    if isinstance(clocks, dict):
        clocks = clocks.get("clocks")
    if not isinstance(clocks, list):
        return None
    out = []
    for c in clocks:
        if not isinstance(c, dict):
            continue
        try:
            freq = float(c.get("freq_mhz"))
        except (TypeError, ValueError):
            continue
        out.append({"id": str(c.get("id", "")), "description": str(c.get("description", "")), "freq_mhz": freq})
    return out or None


def data_clock_mhz(clocks: list | None) -> float | None:
    """The clock HLS kernels run on: the Data clock (DATA_CLK, clock id 0 of the kernel clocks)."""
    for c in clocks or []:
        if c["description"].lower() == "data" or c["id"].upper().startswith("DATA_CLK"):
            return c["freq_mhz"]
    return None


def kernel_clock(design, device: dict, given: float | None = None) -> dict:
    """The kernel clock every model figure of a run uses, where it comes from, and a warning if any.

    clock_source: 'device' (read back after loading), 'given' (--clock-mhz) or 'design'
    (the device reports no clocks, e.g. XRT's no-op device; the design's target is assumed)."""
    design_file = design.file_label
    read = data_clock_mhz(device.get("clocks") if isinstance(device.get("clocks"), list) else None)
    warning = None
    if given is not None:
        out = {"clock_mhz": float(given), "clock_source": "given",
               "clock_detail": "--clock-mhz" + (f"; the device reports {read:g} MHz" if read else "")}
        if read and abs(read - given) > 0.5:
            warning = f"--clock-mhz {given:g} differs from the {read:g} MHz kernel clock the device reports"
    elif read:
        out = {"clock_mhz": read, "clock_source": "device",
               "clock_detail": "Data clock of the loaded xclbin (get_info(platform) platforms[0].clocks)"}
        if abs(read - design.freq_mhz) > 0.5:
            warning = (f"the kernel clock read from the device is {read:g} MHz, not the {design.freq_mhz:g} MHz "
                       f"{design_file} asks for (v++ lowers it when timing fails); every model figure uses "
                       f"{read:g} MHz")
    else:
        out = {"clock_mhz": design.freq_mhz, "clock_source": "design",
               "clock_detail": f"the device reports no clocks; the target of {design_file} is assumed "
                               "(give the achieved clock with --clock-mhz)"}
    out["warning"] = warning
    return out


def card_shell(rt) -> str | None:
    """The shell the card runs (platforms[0].static_region.vbnv), or None when the device does not say."""
    plat = _info(rt, "platform")
    if not isinstance(plat, dict):
        return None
    try:
        vbnv = plat["platforms"][0]["static_region"]["vbnv"]
    except (KeyError, IndexError, TypeError):
        return None
    return str(vbnv) or None


def device_context(rt, session=None) -> dict:
    """Device facts as XRT reports them (JSON keys parsed), plus the loaded xclbin."""
    out = {
        "name": _info(rt, "name"),
        "bdf": _info(rt, "bdf"),
        "max_clock_frequency_mhz": _info(rt, "max_clock_frequency_mhz"),
        "platform": _info(rt, "platform"),    # clocks are read after the xclbin is loaded
        "thermal": _info(rt, "thermal"),
        "electrical": _info(rt, "electrical"),
        "host": _info(rt, "host"),     # holds the XRT version on the card
    }
    out["xrt_version"] = getattr(rt.xrt, "__version__", None) or _find_key(out["host"], "version")
    clocks = _clock_list(out["platform"])
    out["clocks"] = clocks if clocks else {"unavailable": "get_info(platform) lists no clocks"}
    out["shell"] = _find_key(out["platform"], "vbnv") if isinstance(out["platform"], dict) else None
    if session is not None:
        xb = session.xclbin
        out["xclbin"] = {
            "path": str(session.xclbin_path),
            "uuid": session.uuid_string(),
            "xsa_name": xb.get_xsa_name(),
            "kernels": [{"name": k.get_name(), "num_args": k.get_num_args()} for k in xb.get_kernels()],
            "memories": [{"tag": m.get_tag(), "index": m.get_index(), "size_kb": m.get_size_kb(),
                          "used": bool(m.get_used())} for m in xb.get_mems()],
        }
    return out
