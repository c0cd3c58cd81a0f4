"""Platforms as data: harness/platforms/NAME.toml -> Platform."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

from harness.errors import UserError
from harness.figures import Figure
from harness.model import data


@dataclass(frozen=True)
class Memory:
    """One bank / pseudo-channel: HBM[3], DDR[0]."""
    tag: str
    kind: str            # 'hbm' | 'ddr'
    size_bytes: int
    peak_GBps: Figure    # spec peak of this bank
    index: int           # memory-topology index (project convention: HBM[i] -> i, then DDR)


@dataclass(frozen=True)
class MemoryGroup:
    """All banks of one kind: what platform.memory('hbm') returns."""
    tag: str             # 'HBM' | 'DDR'
    kind: str
    banks: tuple
    pc_peak_GBps: Figure           # per bank
    peak_GBps: Figure              # aggregate spec
    switch_group_pcs: int          # PCs behind one mini-switch (0 = no switch)

    @property
    def pcs(self) -> int:
        return len(self.banks)

    @property
    def size_bytes(self) -> int:
        return sum(b.size_bytes for b in self.banks)


@dataclass(frozen=True)
class Platform:
    name: str
    description: str
    memories: list
    dsp_count: Figure
    dsp_available: Figure
    clock_mhz: Figure
    max_clock_mhz: Figure
    groups: dict = field(default_factory=dict)   # kind -> MemoryGroup
    pcie_link_GBps: Figure | None = None         # the host link's raw rate: no host transfer exceeds it

    # ------------------------------------------------------------ memories
    def memory(self, tag: str):
        """A bank by tag ('HBM[3]', 'DDR[0]'), or a MemoryGroup by kind ('hbm', 'ddr')."""
        t = str(tag).strip()
        if t.lower() in self.groups:
            return self.groups[t.lower()]
        for m in self.memories:
            if m.tag.upper() == t.upper():
                return m
        known = ", ".join(sorted({m.tag.split("[")[0] for m in self.memories}))
        raise UserError(f"platform {self.name} has no memory {tag!r}; use one of "
                        f"{known}[i] (e.g. {self.memories[0].tag}) or a kind ({', '.join(self.groups)})")

    def group(self, kind: str) -> MemoryGroup:
        k = str(kind).lower()
        if k not in self.groups:
            raise UserError(f"platform {self.name} has no {kind.upper()} memory; it has "
                            f"{', '.join(g.upper() for g in self.groups)} (use --memory "
                            f"{next(iter(self.groups))})")
        return self.groups[k]

    def hbm_peak_GBps(self) -> Figure:
        """Aggregate spec HBM bandwidth (460 GB/s on the U280)."""
        g = self.group("hbm")
        return g.peak_GBps

    # ------------------------------------------------------------ compute
    def macs_per_dsp(self, dtype: str) -> Figure:
        return dtype_figure(dtype, "macs_per_dsp")

    def spec_compute_GFLOPps(self, dtype: str, clock_mhz=None, dsp_count=None, macs_per_dsp=None,
                             dsps: str = "device") -> Figure:
        """DSP x clock x MACs/DSP x 2 FLOP, in GFLOP/s. `dsps`: "device" (every DSP of the part) or
        "available" (the DSPs the shell leaves to kernels: the ceiling a kernel can reach)."""
        if dsps not in ("device", "available"):
            raise ValueError(f"dsps must be 'device' or 'available', got {dsps!r}")
        mpd_fig = self.macs_per_dsp(dtype)
        dsp_fig = self.dsp_available if dsps == "available" else self.dsp_count
        dsp = dsp_fig.value if dsp_count is None else _positive(dsp_count, "dsp_count")
        clk = self.clock_mhz.value if clock_mhz is None else _positive(clock_mhz, "clock_mhz")
        mpd = mpd_fig.value if macs_per_dsp is None else _positive(macs_per_dsp, "macs_per_dsp")
        v = dsp * clk * 1e6 * mpd * 2 / 1e9
        overridden = [n for n, x in (("clock", clock_mhz), ("DSPs", dsp_count), ("MACs/DSP", macs_per_dsp))
                      if x is not None]
        if dsps == "available" and dsp_count is None:
            what = (f"DSPs available to kernels: {dsp_fig.detail}; the device has "
                    f"{self.dsp_count.value:,.0f}")
        else:
            what = f"DSPs: {self.dsp_count.detail}"
        detail = f"{dsp:g} DSP x {clk:g} MHz x {mpd:g} MAC/DSP x 2 FLOP; {what}; MACs/DSP: {mpd_fig.detail}"
        if overridden:
            src = "model"
            detail = f"{data.version()}, overridden {', '.join(overridden)}: " + detail
        else:
            src = "assumption" if mpd_fig.source == "assumption" else "spec"
        return Figure(f"{dtype} compute peak ({self.name})", v, "GFLOP/s", src, detail)


def _positive(x, what):
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise UserError(f"{what} must be a number, got {x!r}") from None
    if not v > 0:
        raise UserError(f"{what} must be positive, got {x!r}")
    return v


DTYPES = ("fp32", "fp16", "bf16", "fx16", "int8")


def dtype_figure(dtype: str, key: str) -> Figure:
    d = data.params()["dtypes"]
    if dtype not in d:
        raise UserError(f"unknown dtype {dtype!r}; use one of {', '.join(d)}")
    return d[dtype][key]


def known_platforms() -> list[str]:
    return sorted(p.stem for p in data.PLATFORM_DIR.glob("*.toml"))


@functools.lru_cache(maxsize=None)
def load_platform(name: str = "u280") -> Platform:
    key = str(name).strip().lower()
    if key not in known_platforms():
        raise UserError(f"unknown platform {name!r}; use one of {', '.join(known_platforms())}")
    raw = data.read_toml(data.PLATFORM_DIR / f"{key}.toml")
    f = data.figures(raw)
    memories, groups, index = [], {}, 0
    for grp in sorted(f.get("memories", []), key=lambda g: 0 if g["kind"] == "hbm" else 1):
        grp = data.figures(grp) if not isinstance(grp.get("peak_GBps"), Figure) else grp
        kind, count = grp["kind"], int(grp["count"])
        banks = []
        for i in range(count):
            m = Memory(grp["tag"].format(i=i), kind, int(grp["size_bytes"].value), grp["peak_GBps"], index)
            index += 1
            banks.append(m)
        memories += banks
        pc = grp["peak_GBps"]
        agg = grp.get("aggregate_peak_GBps") or Figure(
            f"{kind.upper()} aggregate bandwidth", pc.value * count, "GB/s", pc.source,
            f"{count} x {pc.value:g} GB/s; {pc.detail}")
        agg = Figure(f"{kind.upper()} aggregate bandwidth ({key})", agg.value, agg.unit, agg.source, agg.detail)
        sw = grp.get("switch_group_pcs")
        groups[kind] = MemoryGroup(kind.upper(), kind, tuple(banks), pc, agg, int(sw.value) if sw else 0)
    return Platform(key, raw.get("description", key), memories, f["dsp_count"], f["dsp_available"],
                    f["clock_mhz"], f["max_clock_mhz"], groups, f.get("pcie_link_GBps"))
