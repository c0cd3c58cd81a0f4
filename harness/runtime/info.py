"""What the device, shell, xclbin and connectivity are: for `harness info` and context.json."""
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


def device_context(rt, session=None) -> dict:
    """Device facts as XRT reports them (JSON keys parsed), plus the loaded xclbin."""
    out = {
        "name": _info(rt, "name"),
        "bdf": _info(rt, "bdf"),
        "max_clock_frequency_mhz": _info(rt, "max_clock_frequency_mhz"),
        "platform": _info(rt, "platform"),
        "thermal": _info(rt, "thermal"),
        "electrical": _info(rt, "electrical"),
        "host": _info(rt, "host"),     # holds the XRT version on the card
    }
    out["xrt_version"] = getattr(rt.xrt, "__version__", None) or _find_key(out["host"], "version")
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
