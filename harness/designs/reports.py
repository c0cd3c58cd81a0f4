"""What a finished build's reports say, and what in them makes a run untrustworthy.

`make report TARGET=... DESIGN=...` (python -m harness.designs report TARGET PLATFORM NAME...)
reads, for each design:

- the Vitis HLS synthesis report of every kernel (`csynth.rpt`, written by `v++ -c` under
  the temp dir, e.g. build/_x.hw.<platform>/<design>/<kernel>/<kernel>/solution/syn/report/):
  its sections are those UG1399 "Synthesis Summary" describes: Performance & Resource
  Estimates (one row per module '+' and loop 'o': Issue Type, Slack, Latency, Iteration
  Latency, Interval, Trip Count, Pipelined, BRAM, DSP, FF, LUT, URAM), HW Interfaces
  (* M_AXI: Data Width (SW->HW), Max Read/Write Burst Length, Num Read/Write Outstanding)
  and M_AXI Burst Information (* Inferred Burst Summary: HW Interface, Loop, Direction,
  Length, Width; * Inferred Bursts and Widening Missed: Problem, Resolution), in the
  text layout Vitis HLS 2022.1-2023.2 writes;
- the link's resources per SLR: Vivado's routed utilization report in the link's reports
  (report_utilization, UG906 "Utilization Report": section "SLR CLB Logic and Dedicated
  Block Utilization", rows CLB LUTs, Block RAM Tile, URAM, DSPs; columns SLR0..SLRn);
- the clock the link achieved: the xclbin's CLOCK_FREQ_TOPOLOGY section (struct
  clock_freq_topology of XRT's xclbin.h: the DATA clock is the HLS kernels' ap_clk),
  which v++ lowers when timing fails.

It flags a pipelined loop with II above 1, an m_axi port with no inferred burst or a
burst narrower than the design's port width, and an achieved clock below the design's.
"""
from __future__ import annotations

import re
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import UserError

CLOCK_FREQ_TOPOLOGY = 11
CLOCK_TYPES = {0: "UNUSED", 1: "DATA", 2: "KERNEL", 3: "SYSTEM"}


# --------------------------------------------------------------------------- text tables
def _section(text: str, title: str) -> str:
    """The body of a '== <title>' section of a Vitis HLS report (up to the next '==' banner)."""
    m = re.search(r"^==+\n== " + re.escape(title) + r".*?\n==+\n(.*?)(?=^==+\n== |\Z)", text, re.M | re.S)
    return m.group(1) if m else ""


def _tables(block: str) -> list[list[list[str]]]:
    """Every +---+ bordered table in `block`: rows of cells (header rows included)."""
    tables, cur = [], None
    for line in block.splitlines():
        s = line.strip()
        if s.startswith("+-") and s.endswith("+"):
            if cur is None:
                cur = []
            continue
        if s.startswith("|") and cur is not None:
            cells = s[1:-1].split("|") if s.endswith("|") else s[1:].split("|")
            # the first cell keeps its indent: the nesting of modules and loops
            cur.append([cells[0].rstrip()] + [c.strip() for c in cells[1:]])
            continue
        if cur is not None:
            tables.append(cur)
            cur = None
    if cur is not None:
        tables.append(cur)
    return tables


def _table_after(block: str, heading: str) -> list[list[str]]:
    """The first table after a '* heading' line."""
    i = block.find(heading)
    if i < 0:
        return []
    t = _tables(block[i:])
    return t[0] if t else []


# --------------------------------------------------------------------------- csynth.rpt
@dataclass
class Loop:
    name: str
    depth: int               # nesting from the '+'/'o' markers' indent
    issue: str
    ii: int | None
    pipelined: bool
    trip_count: str


@dataclass
class MaxiPort:
    interface: str
    width_sw_hw: str
    max_read_burst: str
    max_write_burst: str
    read_outstanding: str
    write_outstanding: str


@dataclass
class HlsReport:
    path: Path
    top: str
    version: str
    loops: list[Loop] = field(default_factory=list)
    resources: dict = field(default_factory=dict)   # top module: BRAM, DSP, FF, LUT, URAM
    maxi: list[MaxiPort] = field(default_factory=list)
    bursts: list[dict] = field(default_factory=list)  # interface, loop, direction, length, width
    missed: list[dict] = field(default_factory=list)  # interface, variable, loop, problem, resolution


def _int(text: str) -> int | None:
    m = re.match(r"\s*(\d+)", text or "")
    return int(m.group(1)) if m else None


def parse_csynth(text: str, path: Path | str = "csynth.rpt") -> HlsReport:
    top = re.search(r"== Synthesis Summary Report of '([^']+)'", text)
    version = re.search(r"\* Version:\s*(.+)", text)
    rep = HlsReport(Path(path), top.group(1) if top else "?", version.group(1).strip() if version else "?")
    perf = text[text.find("+ Performance & Resource Estimates"):] if "+ Performance & Resource Estimates" in text \
        else ""
    tables = _tables(perf)
    if tables:
        t = tables[0]
        # two header rows, then one row per module/loop
        for row in t[2:]:
            if len(row) < 14:
                continue
            m = re.match(r"^(\s*)([+o*])\s+(.*)$", row[0])
            if not m:
                continue
            indent, kind, name = len(m.group(1)), m.group(2), m.group(3).strip()
            if kind == "+" and not rep.resources:
                rep.resources = {k: row[i].split("(")[0].strip() for k, i in
                                 (("BRAM", 9), ("DSP", 10), ("FF", 11), ("LUT", 12), ("URAM", 13))}
            if kind == "o":
                rep.loops.append(Loop(name, indent, row[1], _int(row[6]), row[8].lower() == "yes", row[7]))
    hw = _section(text, "HW Interfaces")
    for row in _table_after(hw, "* M_AXI")[2:]:
        if len(row) >= 11 and row[0].strip().startswith("m_axi"):
            rep.maxi.append(MaxiPort(row[0].strip(), row[1], row[7], row[8], row[9], row[10]))
    burst = _section(text, "M_AXI Burst Information")
    for row in _table_after(burst, "* Inferred Burst Summary")[1:]:
        if len(row) >= 5 and row[0].strip().startswith("m_axi"):
            rep.bursts.append({"interface": row[0].strip(), "loop": row[1], "direction": row[2], "length": row[3],
                               "width": _int(row[4])})
    for row in _table_after(burst, "* Inferred Bursts and Widening Missed")[1:]:
        if len(row) >= 6 and row[0].strip().startswith("m_axi"):
            rep.missed.append({"interface": row[0].strip(), "variable": row[1], "loop": row[2], "problem": row[3],
                               "resolution": row[4]})
    return rep


def hls_flags(rep: HlsReport, port_width_bits: int | None = None) -> list[str]:
    """What in a synthesis report makes the kernel's timing untrustworthy."""
    flags = []
    for lp in rep.loops:
        if lp.pipelined and lp.ii is not None and lp.ii > 1:
            flags.append(f"{rep.top}: loop {lp.name} is pipelined at II={lp.ii}, not 1"
                         + (f" (issue: {lp.issue})" if lp.issue not in ("", "-") else ""))
        elif lp.issue == "II":
            flags.append(f"{rep.top}: loop {lp.name} has an II violation")
    burst_ports = {b["interface"] for b in rep.bursts}
    for p in rep.maxi:
        if p.interface not in burst_ports:
            why = "; ".join(sorted({m["problem"] for m in rep.missed if m["interface"] == p.interface})) or \
                "no burst inferred"
            flags.append(f"{rep.top}: {p.interface} has no burst ({why})")
    if port_width_bits:
        for b in rep.bursts:
            if b["width"] is not None and b["width"] < port_width_bits:
                flags.append(f"{rep.top}: {b['interface']} bursts are {b['width']} bits wide, the design asks for "
                             f"{port_width_bits}")
    return flags


# --------------------------------------------------------------------------- utilization per SLR
def parse_slr_utilization(text: str) -> dict[str, dict[str, float]]:
    """{SLR: {'LUT', 'BRAM_tile', 'URAM', 'DSP': used}} from Vivado's report_utilization text."""
    i = text.find("SLR CLB Logic and Dedicated Block Utilization")
    if i < 0:
        return {}
    t = _tables(text[i:])
    if not t:
        return {}
    table = t[0]
    head = [h.strip() for h in table[0]]
    slr_cols = [(j, h) for j, h in enumerate(head) if re.fullmatch(r"SLR\d", h)]
    want = {"CLB LUTs": "LUT", "Block RAM Tile": "BRAM_tile", "URAM": "URAM", "DSPs": "DSP"}
    out: dict[str, dict[str, float]] = {h: {} for _, h in slr_cols}
    for row in table[1:]:
        key = want.get(row[0].strip())
        if not key:
            continue
        for j, h in slr_cols:
            try:
                out[h][key] = float(row[j])
            except (ValueError, IndexError):
                pass
    return out


# --------------------------------------------------------------------------- xclbin clocks
def xclbin_clocks(data: bytes) -> list[dict]:
    """[{name, type, freq_mhz}] of an xclbin's CLOCK_FREQ_TOPOLOGY (xclbin.h layout)."""
    if data[:8] != b"xclbin2\0":
        raise UserError("not an xclbin (no xclbin2 magic)")
    n_sections = struct.unpack_from("<I", data, 8 + 4 + 28 + 256 + 8 + 144)[0]
    base = 8 + 4 + 28 + 256 + 8 + 152
    for i in range(n_sections):
        kind, _name, off, size = struct.unpack_from("<I16s4xQQ", data, base + 40 * i)
        if kind == CLOCK_FREQ_TOPOLOGY:
            count = struct.unpack_from("<h", data, off)[0]
            out = []
            for c in range(count):
                freq, typ, name = struct.unpack_from("<HB5x128s", data, off + 2 + 136 * c)
                out.append({"name": name.split(b"\0")[0].decode(), "type": CLOCK_TYPES.get(typ, str(typ)),
                            "freq_mhz": freq})
            return out
    return []


def clock_flags(clocks: list[dict], design_mhz: float) -> list[str]:
    data = [c for c in clocks if c["type"] == "DATA"]
    if not data:
        return ["the xclbin has no DATA clock in CLOCK_FREQ_TOPOLOGY: cannot tell the achieved kernel clock"]
    f = data[0]["freq_mhz"]
    if f < design_mhz - 0.5:
        return [f"the link achieved {f} MHz on {data[0]['name']}, below the design's {design_mhz:g} MHz: "
                "v++ lowered the kernel clock to close timing; runs read it back and use it"]
    return []


# --------------------------------------------------------------------------- a build
def find_reports(temp_dir: Path) -> tuple[list[Path], list[Path]]:
    """(csynth reports, routed utilization reports) under a design's v++ temp dir."""
    csynth = sorted(p for p in temp_dir.rglob("csynth.rpt") if "syn/report" in p.as_posix())
    util = sorted(p for p in temp_dir.rglob("*util*routed*.rpt"))
    return csynth, util


def report(design, build_dir: Path, temp_dir: Path) -> tuple[list[str], list[str]]:
    """(lines to print, flags) for one design's build."""
    lines, flags = [f"{design.name} ({design.target}): {build_dir / (design.name + '.xclbin')}"], []
    csynth, util = find_reports(temp_dir)
    widths = {k.name: max((a.width_bits or 0) for a in k.args if a.kind == "ptr") if any(
        a.kind == "ptr" for a in k.args) else None for k in design.kernels.values()}
    seen = set()
    for path in csynth:
        rep = parse_csynth(path.read_text(errors="replace"), path)
        if rep.top not in design.kernels or rep.top in seen:
            continue
        seen.add(rep.top)
        lines.append(f"  {rep.top}: Vitis HLS {rep.version}; top module " +
                     ", ".join(f"{k} {v}" for k, v in rep.resources.items()))
        for lp in rep.loops:
            lines.append(f"    loop {lp.name}: II {lp.ii if lp.ii is not None else '-'}"
                         f"{' (pipelined)' if lp.pipelined else ''}, trip count {lp.trip_count}")
        for p in rep.maxi:
            got = [b for b in rep.bursts if b["interface"] == p.interface]
            lines.append(f"    {p.interface}: width {p.width_sw_hw}, bursts "
                         + (", ".join(f"{b['direction']} {b['length']} x {b['width']} bit" for b in got) or "none"))
        flags += hls_flags(rep, widths.get(rep.top))
    missing = sorted(set(design.kernels) - seen)
    if missing:
        flags.append(f"no synthesis report for {', '.join(missing)} under {temp_dir}")
    if util:
        per_slr = parse_slr_utilization(util[-1].read_text(errors="replace"))
        for slr, use in per_slr.items():
            lines.append(f"  {slr}: " + "  ".join(f"{k} {v:,.0f}" for k, v in use.items()))
    else:
        flags.append(f"no routed utilization report under {temp_dir} (resources per SLR unknown)")
    xclbin = build_dir / f"{design.name}.xclbin"
    if xclbin.is_file():
        clocks = xclbin_clocks(xclbin.read_bytes())
        lines.append("  clocks: " + ", ".join(f"{c['name']} ({c['type']}) {c['freq_mhz']} MHz" for c in clocks))
        flags += clock_flags(clocks, design.freq_mhz)
    else:
        flags.append(f"no xclbin at {xclbin}: the achieved clock is unknown")
    return lines, flags


def main(argv: list[str]) -> int:
    """report TARGET PLATFORM NAME...: print and flag each design's build reports."""
    from harness.designs.files import all_designs, load_design
    from harness.runtime import platform_basename
    from harness import REPO_ROOT
    if len(argv) < 2:
        print("usage: python -m harness.designs report TARGET PLATFORM [NAME ...]", file=sys.stderr)
        return 2
    target, platform, names = argv[0], argv[1], argv[2:]
    xsa = platform_basename(platform)
    build_dir = REPO_ROOT / "build" / f"{target}.{xsa}"
    try:
        designs = [load_design(n, target=target) for n in names] if names else all_designs(target)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    any_flag = False
    for d in designs:
        temp = REPO_ROOT / "build" / f"_x.{target}.{xsa}" / d.name
        if not temp.is_dir():
            print(f"error: no build of {d.name} for {target} on {xsa} ({temp}); run `make xclbin TARGET={target} "
                  f"DESIGN={d.name} PLATFORM={platform}` first", file=sys.stderr)
            return 2
        lines, flags = report(d, build_dir, temp)
        print("\n".join(lines))
        for f in flags:
            print(f"  FLAG: {f}")
        any_flag |= bool(flags)
    return 1 if any_flag else 0
