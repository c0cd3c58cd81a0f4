"""Device time of every launch from XRT's device trace (hw_emu: simulated cycles).

XRT's device offload writes `device_trace_<N>.csv` (with continuous trace, each dump
opens a new file `<k>-device_trace_<N>.csv`) in its VTF text format, as written by
XRT's xdp writers (src/runtime_src/xdp/profile/writer/device_trace/device_trace_writer.cpp,
vp_base/vp_trace_writer.cpp; events by xdp/profile/database/events/vtf_event.cpp and
device_events.cpp, XRT 2022.1-2025.1):

    HEADER                      key,value lines (VTF File Version, Platform, Target, ...)
    STRUCTURE                   Group_Start,Compute Unit <cu>,Activity in accelerator <kernel>:<cu>
                                Dynamic_Row_Summary,<row>,Executions,Execution in accelerator <cu>
                                ... Group_End,<cu>
    MAPPING                     <string id>,<string>
    EVENTS                      <id>,<start id>,<timestamp ms>,<row>,KERNEL[,<kernel id>,<cu id>]
    DEPENDENCIES

A KERNEL event with start id 0 is a CU's start; the event whose start id names it is
its end. Times are milliseconds with nanosecond digits.

The n-th execution of a CU is its n-th launch by the harness (Session.launch_log), so a
launch's device time is from the first start to the last end of its CUs' executions.
"""
from __future__ import annotations

import re
import time
from pathlib import Path

_CU_GROUP = re.compile(r"^Group_Start,Compute Unit (?P<cu>[^,]+?)(?: - No Trace)?,")
_FILE = re.compile(r"^(?:(?P<k>\d+)-)?device_trace_(?P<dev>\d+)\.csv$")


def trace_files(folder: Path) -> list[Path]:
    """Device trace files in `folder`, in the order XRT wrote them."""
    found = []
    for p in Path(folder).glob("*device_trace_*.csv"):
        m = _FILE.match(p.name)
        if m:
            found.append((int(m["dev"]), int(m["k"] or 1), p))
    return [p for _, _, p in sorted(found)]


def parse_device_trace(text: str) -> list[tuple[int, int, float, str]]:
    """(event id, start id, timestamp ms, CU name) of every KERNEL event of one trace file."""
    section = None
    row_cu: dict[int, str] = {}
    current_cu = None
    out = []
    for raw in text.splitlines():
        line = raw.strip()
        if line in ("HEADER", "STRUCTURE", "MAPPING", "EVENTS", "DEPENDENCIES"):
            section = line
            continue
        if not line:
            continue
        if section == "STRUCTURE":
            m = _CU_GROUP.match(line)
            if m:
                current_cu = m["cu"].strip()
            elif line.startswith("Dynamic_Row_Summary,") and current_cu and ",Executions," in line:
                row_cu[int(line.split(",")[1])] = current_cu
            elif line.startswith("Group_End,") and line.split(",", 1)[1] == current_cu:
                current_cu = None
        elif section == "EVENTS":
            parts = line.split(",")
            if len(parts) < 5 or parts[4] != "KERNEL":
                continue
            try:
                eid, sid, ts, row = int(parts[0]), int(parts[1]), float(parts[2]), int(parts[3])
            except ValueError:
                continue
            out.append((eid, sid, ts, row_cu.get(row, f"row {row}")))
    return out


def executions(folder: Path) -> dict[str, list[tuple[float, float]]]:
    """{CU name: [(start ms, end ms), ...] in time order} over every trace file of `folder`
    (a start and its end may be in different files of a continuous trace)."""
    events = [e for path in trace_files(folder) for e in parse_device_trace(path.read_text(errors="replace"))]
    starts = {eid: (cu, ts) for eid, sid, ts, cu in events if sid == 0}
    out: dict[str, list[tuple[float, float]]] = {}
    for eid, sid, ts, _ in events:
        if sid != 0 and sid in starts:
            cu, t0 = starts[sid]
            out.setdefault(cu, []).append((t0, ts))
    for spans in out.values():
        spans.sort()
    return out


def launch_device_times(execs: dict[str, list[tuple[float, float]]],
                        launch_log: list[list[str]]) -> list[float | None]:
    """Seconds of device time of every launch in `launch_log` (None when its executions are missing)."""
    seen: dict[str, int] = {}
    out = []
    for cus in launch_log:
        spans = []
        for cu in cus:
            n = seen.get(cu, 0)
            seen[cu] = n + 1
            ex = execs.get(cu, [])
            spans.append(ex[n] if n < len(ex) else None)
        if not spans or any(s is None for s in spans):
            out.append(None)
        else:
            out.append((max(t1 for _, t1 in spans) - min(t0 for t0, _ in spans)) / 1e3)
    return out


# XRT dumps a continuous trace every trace_file_dump_interval_s (1 s in the harness's xrt.ini)
WAIT_S = 6.0


def collect(folder: Path, launch_log: list[list[str]], wait_s: float | None = None,
            poll_s: float = 0.5) -> tuple[list[float | None], dict]:
    """Device times of the logged launches, waiting up to `wait_s` for XRT's periodic dump.

    Returns (times, status) where status says which files were read and how many launches
    were found; a missing or short profile is reported there, never guessed."""
    need = {}
    for cus in launch_log:
        for cu in cus:
            need[cu] = need.get(cu, 0) + 1
    deadline = time.monotonic() + (WAIT_S if wait_s is None else wait_s)
    while True:
        execs = executions(folder)
        if all(len(execs.get(cu, [])) >= n for cu, n in need.items()) or time.monotonic() >= deadline:
            break
        time.sleep(poll_s)
    times = launch_device_times(execs, launch_log)
    files = [p.name for p in trace_files(folder)]
    found = sum(t is not None for t in times)
    status = {"dir": str(folder), "files": files, "launches": len(times), "launches_with_device_time": found}
    if not files:
        status["absent"] = ("XRT wrote no device trace: the xclbin needs `v++ -l --profile.data all:all:all` "
                            "(make xclbin TARGET=hw_emu adds it) and XRT reads xrt.ini at the first device open")
    elif found < len(times):
        status["incomplete"] = (f"{len(times) - found} of {len(times)} launches have no kernel execution in the "
                                "trace yet (XRT writes the rest when the process exits)")
    return times, status
