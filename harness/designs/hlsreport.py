"""Loop figures from a Vitis HLS synthesis report (csynth.rpt), for a kernel spec's cycle model.

Vitis HLS writes the report as text tables (harness/docs/xrt-and-vitis.md section 11); two
forms carry per-loop figures, and both are read:

- the "Performance & Resource Estimates" summary (`syn/report/csynth.rpt`, Vitis HLS 2022.1 on):
  one row per module (`+ name`) and loop (`o name`), columns Latency (cycles), Iteration Latency,
  Interval, Trip Count, Pipelined;
- the per-module detail (`syn/report/<function>_csynth.rpt`): a `* Loop:` table with
  Latency (cycles) min/max, Iteration Latency, Initiation Interval achieved/target, Trip Count,
  Pipelined; loops as `- name`, nested loops as `+ name`.

A figure HLS could not determine (a trip count that depends on a kernel argument, and every
latency that depends on it) is printed `?` and read as unknown; `-` (no II for a loop that is
not pipelined) likewise. What a spec can use, per loop NAME: `NAME_ii` (achieved initiation
interval), `NAME_depth` (iteration latency: cycles of one iteration, the pipeline depth of a
pipelined loop), `NAME_trip` and `NAME_latency` (trip count and total latency in cycles, when
HLS printed a number).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from harness.errors import UserError

FIGURES = ("ii", "depth", "trip", "latency")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Loop:
    name: str
    indent: int                 # leading spaces of its row (nesting, as the report draws it)
    latency: int | None         # total cycles (the max column where min and max are given)
    depth: int | None           # iteration latency
    ii: int | None              # achieved initiation interval (pipelined loops)
    trip: int | None
    pipelined: bool

    def figures(self) -> dict[str, int]:
        vals = {"ii": self.ii, "depth": self.depth, "trip": self.trip, "latency": self.latency}
        return {f"{self.name}_{k}": v for k, v in vals.items() if v is not None}


def _num(cell: str) -> int | None:
    cell = cell.strip().replace(",", "")
    if re.fullmatch(r"\d+", cell):
        return int(cell)
    if re.fullmatch(r"\d+\.0*", cell):
        return int(float(cell))
    return None                  # '?', '-', '' and anything else: not determined


def _cells(line: str) -> list[str]:
    return line.strip()[1:-1].split("|") if line.strip().startswith("|") else []


def _tables(lines: list[str]):
    """(rule, header rows, body rows) of every +---+ framed table: the header sits between the first
    two rules."""
    i = 0
    while i < len(lines):
        if not lines[i].strip().startswith("+-"):
            i += 1
            continue
        rules = [i]
        j = i + 1
        while j < len(lines) and (lines[j].strip().startswith("|") or lines[j].strip().startswith("+-")):
            if lines[j].strip().startswith("+-"):
                rules.append(j)
            j += 1
        if len(rules) >= 3:
            body = [ln for ln in lines[rules[1] + 1:rules[-1]] if ln.strip().startswith("|")]
            yield lines[i], lines[rules[0] + 1:rules[1]], body
        i = j


def _columns(rule: str, header: list[str]) -> list[str]:
    """Column titles, cut at the rule's '+' positions (a title spanning two columns, like the
    detail table's 'Latency (cycles)' over min and max, is split between them)."""
    cuts = [i for i, ch in enumerate(rule) if ch == "+"]
    cols = []
    for a, b in zip(cuts, cuts[1:]):
        parts = [h[a + 1:b].replace("|", " ").strip() for h in header]
        cols.append(" ".join(p for p in parts if p).lower())
    return cols


def _index(cols: list[str], *keys: str, exclude: tuple[str, ...] = ()) -> int | None:
    for i, c in enumerate(cols):
        if all(k in c for k in keys) and not any(x in c for x in exclude):
            return i
    return None


def _loops_of(rule, header, body) -> list[Loop]:
    cols = _columns(rule, header)
    name_col = _index(cols, "loop name")
    summary = name_col is None
    if summary:
        name_col = _index(cols, "modules")
    if name_col is None:
        return []
    depth_col = _index(cols, "iteration", "latency")
    trip_col = _index(cols, "trip")
    pipe_col = _index(cols, "pipelined")
    if summary:
        ii_col = _index(cols, "interval", exclude=("iteration",))
        lat_col = _index(cols, "latency", "cycles", exclude=("iteration",))
    else:
        ii_col = _index(cols, "achieved")
        lat_col = _index(cols, "max", exclude=("iteration",))
    if None in (depth_col, ii_col, trip_col):
        return []
    loops = []
    for row in body:
        cells = _cells(row)
        if len(cells) <= max(name_col, depth_col, ii_col, trip_col):
            continue
        m = re.match(r"^(\s*)([-+o*]+)\s+(.+?)\s*$", cells[name_col])
        if not m:
            continue
        marker = m.group(2)
        if summary and marker != "o":
            continue             # a module row, not a loop
        name = re.sub(r"\W", "_", m.group(3).rstrip("*").strip())
        pipelined = pipe_col is not None and cells[pipe_col].strip().lower() not in ("no", "-", "")
        loops.append(Loop(name, len(m.group(1)), _num(cells[lat_col]) if lat_col is not None else None,
                          _num(cells[depth_col]), _num(cells[ii_col]), _num(cells[trip_col]), pipelined))
    return loops


def parse_report(text: str, source: str = "report") -> list[Loop]:
    """Every loop of the report, in order; UserError when the text has no loop table."""
    lines = text.splitlines()
    loops: list[Loop] = []
    for rule, header, body in _tables(lines):
        loops += _loops_of(rule, header, body)
    if not loops:
        raise UserError(f"{source} has no loop table a Vitis HLS csynth.rpt would have (a 'Performance & "
                        "Resource Estimates' table with 'o' loop rows, or a '* Loop:' table); give the "
                        "csynth.rpt of the kernel, from <solution>/syn/report/")
    return loops


def loop_figures(loops: list[Loop], source: str = "report") -> dict[str, int]:
    """{NAME_ii, NAME_depth, NAME_trip, NAME_latency: value} of every loop with a usable name.

    A loop name that appears twice (the same label in two functions) gets the figures of its
    first appearance under NAME and the later ones under NAME_2, NAME_3, ...
    """
    out: dict[str, int] = {}
    seen: dict[str, int] = {}
    for lp in loops:
        if not _NAME.match(lp.name):
            continue
        seen[lp.name] = seen.get(lp.name, 0) + 1
        name = lp.name if seen[lp.name] == 1 else f"{lp.name}_{seen[lp.name]}"
        for k, v in Loop(name, lp.indent, lp.latency, lp.depth, lp.ii, lp.trip, lp.pipelined).figures().items():
            out[k] = v
    if not out:
        raise UserError(f"{source}: its loops carry no figure (every value is '?' or '-')")
    return out


def read_report(path: Path) -> tuple[list[Loop], dict[str, int]]:
    try:
        text = Path(path).read_text(errors="replace")
    except OSError as exc:
        raise UserError(f"cannot read the HLS report {path} ({exc.strerror}); fix `report` in [timing]") from None
    loops = parse_report(text, str(path))
    return loops, loop_figures(loops, str(path))
