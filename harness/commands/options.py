"""Parsers every command shares: sizes, integer lists, shapes, and the options every bench takes.

Each parser turns text into numbers or raises UserError naming the flag and an example, so a
bad value never reaches a run directory.
"""
from __future__ import annotations

import argparse
import math
import re
import sys

from harness.errors import UserError
from harness.runtime import DEFAULT_PLATFORM, MAX_TIMEOUT_MS, MODES

U32_MAX = 2 ** 32 - 1          # scalar kernel arguments are 32-bit
_SIZE = re.compile(r"^\s*(\d+)\s*([KMG]?)(?:i?B)?\s*$", re.IGNORECASE)
_MULT = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def parse_size(text, what: str = "size") -> int:
    """'4K' -> 4096 (binary suffixes K, M, G; 'B' or 'iB' optional)."""
    m = _SIZE.match(str(text))
    if not m:
        raise UserError(f"{what} {text!r} is not a whole number with an optional K/M/G suffix (binary), "
                        "e.g. 64K or 256M")
    return int(m.group(1)) * _MULT[m.group(2).upper()]


def note(message: str) -> None:
    """A remark about the input that does not stop the command: one line on stderr."""
    print(f"note: {message}", file=sys.stderr)


def distinct(values: list, what: str, show=str) -> list:
    """`values` with repeats dropped (first occurrence kept), with a note naming them."""
    out = list(dict.fromkeys(values))
    if len(out) < len(values):
        seen, dup = set(), []
        for v in values:
            if v in seen and v not in dup:
                dup.append(v)
            seen.add(v)
        note(f"{what} gives {', '.join(show(v) for v in dup)} more than once; each runs once")
    return out


def parse_sizes(text: str, what: str = "--sizes") -> list[int]:
    """'4K..256M' (doubling) or '4K,1M,3M' (repeats run once, with a note)."""
    if ".." in text:
        lo, hi = (parse_size(t, what) for t in text.split("..", 1))
        if lo <= 0 or hi < lo:
            raise UserError(f"size range {text!r} must go from a positive size up, e.g. 4K..256M")
        out = []
        s = lo
        while s <= hi:
            out.append(s)
            s *= 2
        return out
    return distinct([parse_size(t, what) for t in text.split(",") if t.strip()], what)


def parse_word_sizes(text: str, word_bytes: int, word_what: str, like: str) -> list[int]:
    """--sizes of a bench that moves whole words: parse_sizes, then not empty, positive and a multiple
    of `word_bytes` (`word_what` says why); `like` is the example range the messages give."""
    sizes = parse_sizes(text)
    if not sizes:
        raise UserError(f"--sizes is empty; give sizes like {like}")
    for s in sizes:
        if s <= 0:
            raise UserError(f"--sizes {s}: sizes must be positive, e.g. {like.split('..')[0]}")
        if s % word_bytes:
            raise UserError(f"--sizes {s}: use a multiple of {word_bytes} B ({word_what}), "
                            f"e.g. {s // word_bytes * word_bytes or word_bytes}")
    return sizes


def parse_int(text, what: str) -> int:
    try:
        return int(str(text).strip())
    except ValueError:
        raise UserError(f"{what} must be a whole number, got {text!r}") from None


def parse_float(text, what: str) -> float:
    try:
        return float(str(text).strip())
    except ValueError:
        raise UserError(f"{what} must be a number, got {text!r}") from None


def parse_int_list(text: str, what: str) -> list[int]:
    """'1,2,4' -> [1, 2, 4]; empty is refused, repeats run once (with a note)."""
    try:
        values = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise UserError(f"{what} {text!r} must be a comma-separated list of integers, e.g. 1,2,4") from None
    if not values:
        raise UserError(f"{what} {text!r} names no number; give a comma-separated list like 1,2,4")
    return distinct(values, what)


def parse_shape(text, what: str = "--shape") -> tuple[int, int, int]:
    """'50x720x960' -> (50, 720, 960); dimensions may carry K/M/G; each 1..2^32-1."""
    item = str(text).strip()
    parts = item.lower().split("x")
    if len(parts) != 3:
        raise UserError(f"{what} {item!r} is not MxKxN with integer dimensions, e.g. 64x64x64")
    try:
        dims = tuple(parse_size(x, what) for x in parts)
    except UserError:
        raise UserError(f"{what} {item!r} is not MxKxN with integer dimensions, e.g. 64x64x64") from None
    if min(dims) <= 0:
        raise UserError(f"{what} {item}: every dimension must be at least 1 "
                        f"(M, K, N = {', '.join(map(str, dims))})")
    if max(dims) > U32_MAX:
        raise UserError(f"{what} {item}: dimensions are 32-bit kernel arguments; use at most {U32_MAX}")
    return dims


def parse_shapes(text: str, what: str = "--shapes") -> list[tuple[int, int, int]]:
    """'64x64x64,50x720x960' -> distinct shapes in order."""
    out = [parse_shape(t, what) for t in text.split(",") if t.strip()]
    if not out:
        raise UserError(f"{what} is empty; give shapes like 64x64x64,50x720x960")
    return distinct(out, what, lambda s: "x".join(map(str, s)))


# ---------------------------------------------------------------- options every bench takes
def add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--mode", choices=MODES, default=None,
                   help="hw (the card), hw_emu / sw_emu (XRT emulation), emu (built-in emulator). "
                        "Default: hw if pyxrt imports and a device opens, else emu")
    p.add_argument("--device", default="0", help="device index or BDF (default 0)")
    p.add_argument("--xclbin", default=None, help="xclbin to load (hardware modes); default: the one "
                   "`make xclbin`/`make emu` builds for this mode")
    p.add_argument("--vitis-platform", default=DEFAULT_PLATFORM,
                   help="Vitis platform the xclbins were built for, as `make xclbin PLATFORM=...` "
                        f"(default {DEFAULT_PLATFORM}); picks build/<target>.<platform>/")
    p.add_argument("--warmup", type=int, default=None,
                   help="warm-up launches per point, recorded apart (default 2; 0 in hw_emu/sw_emu)")
    p.add_argument("--repeats", type=int, default=None,
                   help="measured launches per point (default 9; 2 in hw_emu/sw_emu)")
    p.add_argument("--timeout", type=int, default=None,
                   help="ms one launch may take, 1 to 4294967295, on the card or the host's wall time in "
                        "emulation; past it the run stops, marked incomplete (default: 50x the modeled time, "
                        "at least 2 s; emu: 1000x, at least 10 minutes; none in hw_emu/sw_emu)")
    p.add_argument("--out", default=None, help="parent directory of the run directory (default results/runs)")
    add_params(p)
    p.add_argument("--clock-mhz", type=float, default=None,
                   help="the kernel clock the xclbin achieved, if v++ lowered it below the design's target "
                        "(see the link summary); recorded as clock_mhz and used by the models")


PARAMS_HELP = ("model parameter file (`harness predict --fit` writes one) overlaid on harness/data/model_params.toml: "
               "the emulator's modeled times and every prediction use it; recorded with its SHA-256 in context.json")


def add_params(p: argparse.ArgumentParser, **kw) -> None:
    """--params FILE; harness.cli applies it (harness.model.data.use_params) before the command runs."""
    p.add_argument("--params", metavar="FILE", help=PARAMS_HELP, **({"default": None} | kw))


def xrt_emulation(args) -> str | None:
    """hw_emu or sw_emu when the run will be one of XRT's emulations (these get emulation-sized
    defaults), else None."""
    from harness.runtime import requested_emulation
    return requested_emulation(getattr(args, "mode", None))


def check_clock_mhz(clock_mhz, platform: str = "u280") -> None:
    """--clock-mhz, the same check for every bench, before any runtime opens or directory exists:
    a finite clock in MHz up to the platform's highest kernel clock."""
    if clock_mhz is None:
        return
    from harness.model import load_platform
    top = load_platform(platform).max_clock_mhz
    if not (math.isfinite(clock_mhz) and 0 < clock_mhz <= top.value):
        raise UserError(f"--clock-mhz {clock_mhz:g}: give the achieved kernel clock in MHz, e.g. 236, "
                        f"above 0 and at most {top.value:g} ({top.detail})")


def run_options(args):
    """The checked common options as the benches' RunOptions."""
    from harness.bench.common import RunOptions
    emulated = xrt_emulation(args) is not None
    warmup = args.warmup if args.warmup is not None else (0 if emulated else 2)
    repeats = args.repeats if args.repeats is not None else (2 if emulated else 9)
    if warmup < 0:
        raise UserError("--warmup must be 0 or more")
    if repeats < 1:
        raise UserError("--repeats must be at least 1")
    check_clock_mhz(args.clock_mhz)
    if args.timeout is not None and not 1 <= args.timeout <= MAX_TIMEOUT_MS:
        raise UserError(f"--timeout is in milliseconds: give a whole number from 1 to {MAX_TIMEOUT_MS} "
                        "(run.wait takes an unsigned 32-bit count)")
    platform = getattr(args, "vitis_platform", None) or DEFAULT_PLATFORM
    if not platform.strip() or any(c.isspace() for c in platform):
        raise UserError(f"--vitis-platform {platform!r}: give a platform name like {DEFAULT_PLATFORM}")
    return RunOptions(mode=args.mode, device=args.device, xclbin=args.xclbin, warmup=warmup,
                      repeats=repeats, timeout=args.timeout, out=args.out, clock_mhz=args.clock_mhz,
                      vitis_platform=platform)
