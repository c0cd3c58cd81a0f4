"""Command-line options shared by the benches, and their validation."""
from __future__ import annotations

import argparse
import re

from harness.errors import UserError
from harness.runtime import MODES

_SUFFIX = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def parse_size(text: str) -> int:
    """'4K' -> 4096 (binary suffixes K, M, G; 'B' optional)."""
    m = re.fullmatch(r"\s*(\d+)\s*([KMG]?)(?:i?B)?\s*", text.upper())
    if not m:
        raise UserError(f"size {text!r} is not a number with an optional K/M/G suffix (e.g. 64K, 256M)")
    return int(m.group(1)) * _SUFFIX[m.group(2)]


def parse_sizes(text: str) -> list[int]:
    """'4K..256M' (doubling) or '4K,1M,3M'."""
    if ".." in text:
        lo, hi = (parse_size(t) for t in text.split("..", 1))
        if lo <= 0 or hi < lo:
            raise UserError(f"size range {text!r} must go from a positive size up, e.g. 4K..256M")
        out = []
        s = lo
        while s <= hi:
            out.append(s)
            s *= 2
        return out
    return [parse_size(t) for t in text.split(",") if t.strip()]


def parse_int_list(text: str, what: str) -> list[int]:
    try:
        return [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise UserError(f"{what} {text!r} must be a comma-separated list of integers, e.g. 1,2,4") from None


def add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--mode", choices=MODES, default=None,
                   help="hw (the card), hw_emu / sw_emu (XRT emulation), emu (built-in emulator). "
                        "Default: hw if pyxrt imports and a device opens, else emu")
    p.add_argument("--device", default="0", help="device index or BDF (default 0)")
    p.add_argument("--xclbin", default=None, help="xclbin to load (hardware modes); default: the one "
                   "`make xclbin`/`make emu` builds for this mode")
    p.add_argument("--warmup", type=int, default=2, help="warm-up launches per point, recorded apart (default 2)")
    p.add_argument("--repeats", type=int, default=9, help="measured launches per point (default 9)")
    p.add_argument("--timeout", type=int, default=None,
                   help="ms to wait for one launch (default: 50x the modeled time, at least 2 s)")
    p.add_argument("--out", default=None, help="parent directory of the run directory (default results/runs)")
    p.add_argument("--clock-mhz", type=float, default=None,
                   help="the kernel clock the xclbin achieved, if v++ lowered it below the design's target "
                        "(see the link summary); recorded as clock_mhz and used by the models")


def check_common(args) -> None:
    if args.warmup < 0:
        raise UserError("--warmup must be 0 or more")
    if args.repeats < 1:
        raise UserError("--repeats must be at least 1")
    if args.clock_mhz is not None and not 0 < args.clock_mhz <= 1000:
        raise UserError("--clock-mhz is the achieved kernel clock in MHz, e.g. 236; give a value in (0, 1000]")
    if args.timeout is not None and args.timeout <= 0:
        raise UserError("--timeout is in milliseconds and must be positive")


def timeout_ms(args, predicted_s: float) -> int:
    if args.timeout is not None:
        return args.timeout
    return int(max(2000.0, 50 * predicted_s * 1e3))
