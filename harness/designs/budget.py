"""Static resource budget of a design, per SLR, before a build of hours.

Each CU is counted in the SLR its design file names (`slr`), with
- its logic (`resources`: LUT, BRAM18, URAM, DSP per CU, estimates with their source), and
- the buffers of its m_axi adapters: for every channel a port uses (`dir` read/write/rw),
  Vitis HLS buffers `outstanding x burst` words of the port width on chip
  (harness/docs/xrt.md, "m_axi adapter buffers"), as BRAM18 in 512 x 36 blocks when
  that FIFO is deeper than 32, as LUTRAM otherwise,
and the sums are checked against what the platform leaves to kernels in that SLR
(harness/platforms/<platform>.toml [[slrs]], UG1120 figures).

`python -m harness.designs budget TARGET [NAME ...]` prints the table and exits 2 with
the numbers when a design does not fit; `make xclbin` and `make emu` run it first.
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass

from harness.errors import UserError

RESOURCES = ("lut", "bram18", "uram", "dsp")
BRAM18_WIDTH, BRAM18_DEPTH = 36, 512        # the widest BRAM18 shape: 512 x 36
LUTRAM_MAX_DEPTH = 32                        # shallower FIFOs go to LUTRAM/SRL, not BRAM
LUT_PER_CHANNEL = 1500                       # control of one m_axi read or write channel (assumption)


@dataclass(frozen=True)
class SlrBudget:
    name: str
    available: dict            # resource -> figure value
    detail: str


def platform_slrs(platform: str = "u280") -> list[SlrBudget]:
    from harness.model import data
    raw = data.read_toml(data.PLATFORM_DIR / f"{platform}.toml")
    out = []
    for s in raw.get("slrs", []):
        out.append(SlrBudget(s["name"], {r: float(s[r]["value"]) for r in RESOURCES},
                             s[RESOURCES[0]].get("detail", "")))
    if not out:
        raise UserError(f"harness/platforms/{platform}.toml has no [[slrs]]: per-SLR resources are needed "
                        "for the budget check")
    return out


def adapter(width_bits: int, burst: int, outstanding: int) -> dict:
    """On-chip buffer of one m_axi channel: outstanding x burst words of width_bits."""
    depth = int(burst) * int(outstanding)
    if depth > LUTRAM_MAX_DEPTH:
        bram = math.ceil(width_bits / BRAM18_WIDTH) * math.ceil(depth / BRAM18_DEPTH)
        lut = LUT_PER_CHANNEL
    else:
        bram = 0
        lut = LUT_PER_CHANNEL + math.ceil(width_bits * depth / 64)   # 64-bit LUTRAM per LUT6
    return {"lut": lut, "bram18": bram, "uram": 0, "dsp": 0}


def cu_usage(kernel) -> tuple[dict, list[str]]:
    """Resources of one CU of `kernel`, and what was assumed for it."""
    use = {r: float(kernel.resources.get(r, 0)) for r in RESOURCES}
    notes = []
    if not kernel.resources:
        notes.append(f"{kernel.name}: no logic estimate in the design file; only its m_axi adapters are counted")
    burst = kernel.m_axi.get("burst")
    outstanding = kernel.m_axi.get("outstanding")
    for a in kernel.args:
        if a.kind != "ptr":
            continue
        if burst is None or outstanding is None:
            notes.append(f"{kernel.name}: no m_axi burst/outstanding in the design file; adapters not counted")
            break
        channels = {"read": 1, "write": 1, "rw": 2, None: 2}[a.dir]
        for _ in range(channels):
            for r, v in adapter(a.width_bits or 512, burst, outstanding).items():
                use[r] += v
    return use, notes


def design_usage(design) -> tuple[dict[str, dict], list[str]]:
    """{SLR: {resource: total}} over every CU of the design, and the notes."""
    per_slr: dict[str, dict] = {}
    notes: list[str] = []
    for k in design.kernels.values():
        use, n = cu_usage(k)
        notes += n
        slrs = k.slr or ["SLR0"] * k.cus
        if not k.slr:
            notes.append(f"{k.name}: no slr in the design file; counted in SLR0")
        for slr in slrs:
            tot = per_slr.setdefault(slr, {r: 0.0 for r in RESOURCES})
            for r in RESOURCES:
                tot[r] += use[r]
    return per_slr, notes


def check(design, platform: str = "u280") -> list[str]:
    """Lines naming every SLR resource the design exceeds (empty when it fits)."""
    avail = {s.name: s for s in platform_slrs(platform)}
    per_slr, _ = design_usage(design)
    problems = []
    for slr, use in sorted(per_slr.items()):
        if slr not in avail:
            problems.append(f"{design.name}: {slr} is not an SLR of {platform} ({', '.join(avail)})")
            continue
        for r in RESOURCES:
            if use[r] > avail[slr].available[r]:
                problems.append(f"{design.name} ({design.target}): {slr} needs {use[r]:,.0f} {r.upper()} but "
                                f"{avail[slr].available[r]:,.0f} are left to kernels there")
    return problems


def table(design, platform: str = "u280") -> str:
    avail = {s.name: s for s in platform_slrs(platform)}
    per_slr, notes = design_usage(design)
    lines = [f"{design.name} ({design.target}) per SLR: used / available to kernels"]
    for slr, use in sorted(per_slr.items()):
        a = avail.get(slr)
        cells = [f"{r.upper()} {use[r]:,.0f}/{a.available[r]:,.0f}" if a else f"{r.upper()} {use[r]:,.0f}/?"
                 for r in RESOURCES]
        lines.append(f"  {slr}: " + "  ".join(cells))
    lines += [f"  note: {n}" for n in dict.fromkeys(notes)]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """budget TARGET [NAME ...]: check the named designs (default: all) for a Makefile TARGET."""
    from harness.designs.files import all_designs, load_design   # noqa: F401 - files does not import budget
    target, names = argv[0], argv[1:]
    try:
        designs = [load_design(n, target=target) for n in names if n != "all"] if names and names != ["all"] \
            else all_designs(target)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    bad = []
    for d in designs:
        problems = check(d)
        print(table(d))
        bad += problems
    if bad:
        for p in bad:
            print(f"error: {p}", file=sys.stderr)
        print("error: the design does not fit: lower CUs, burst x outstanding or the kernel's parameters in "
              "kernels/designs/, or place CUs in other SLRs (slr = ...)", file=sys.stderr)
        return 2
    return 0
