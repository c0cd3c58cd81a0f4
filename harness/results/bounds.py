"""Physical bounds of a run's figures: what no verified repetition can exceed on the platform.

- memcpy: bandwidth over P PCs <= P x the spec peak of one PC and <= the memory's aggregate
  spec peak (platform data, harness/platforms/<platform>.toml). The bytes counted follow the
  direction (read or write: bytes read or written; copy: read + written, over its 2 PCs per CU),
  so the same per-PC bound holds for every direction.
- gemm: throughput <= the design's MAC peak at the run's clock: GEMM_ROWS x GEMM_COLS MACs per
  cycle per CU x the gemm kernel's CUs (the design recorded in context.json) x 2 FLOP x clock_mhz,
  and <= what the platform's DSPs can do for the element type (DSPs available x MACs per DSP x 2 x
  clock), whichever is lower. Each CU's own rate (cu<i>_throughput_GFLOPps) <= one CU's MACs x 2 x
  clock.
- flops: throughput <= FLOPS_LANES MACs per cycle per CU x the flops kernel's CUs x 2 x clock_mhz
  (and the same DSP bound).
- transfer: a host<->card sync's bandwidth <= the platform's PCIe link rate (pcie_link_GBps, per
  direction), when the platform file gives one.
- latency: a GEMM launch takes at least its M x K x N MACs at that peak rate (the modeled
  minimum of the kernel's MAC loop, with no memory, fill or dispatch time). The dispatch time
  of the empty kernel has no physical floor in the platform data: it must only be positive.

A run with a figure past its bound is refused with the figure, the bound and its source: its
timing is wrong (a broken timer, an edited file, a clock not the one recorded).
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from harness.errors import UserError
from harness.results import schema


@dataclass(frozen=True)
class Bound:
    value: float
    unit: str
    source: str        # how the bound is computed and from which data


def _platform(context: dict):
    from harness.model import load_platform
    return load_platform(str(context.get("platform") or "u280"))


def memcpy_memory(context: dict, plat):
    """The memory group the memcpy kernel's ports are connected to (HBM on the U280)."""
    kern = ((context.get("design") or {}).get("kernels") or {}).get("bw_memcpy") or {}
    banks = (kern.get("args") or {}).get("in")
    tag = banks[0] if isinstance(banks, list) and banks else "hbm"
    try:
        return plat.group(plat.memory(tag).kind)
    except UserError:
        return plat.group("hbm")


def memcpy_bound(context: dict, pcs: int) -> Bound:
    plat = _platform(context)
    g = memcpy_memory(context, plat)
    per_pc, agg = g.pc_peak_GBps, g.peak_GBps
    value = pcs * per_pc.value
    if agg.value < value:
        return Bound(agg.value, "GB/s", f"aggregate {g.tag} peak {agg.value:g} GB/s ({agg.source}: {agg.detail})")
    return Bound(value, "GB/s", f"{pcs} x {per_pc.value:g} GB/s per {g.tag} PC ({per_pc.source}: {per_pc.detail}); "
                                "copy counts bytes read + written")


# Per bench: the kernel whose MACs bound the figures and the design parameters giving its MACs
# per cycle per CU (their product).
MAC_PARAMS = {"gemm": ("gemm", ("GEMM_ROWS", "GEMM_COLS")), "latency": ("gemm", ("GEMM_ROWS", "GEMM_COLS")),
              "flops": ("flops", ("FLOPS_LANES",))}


def macs_per_cycle(context: dict, dtype: str, per_cu: bool = False) -> tuple[float, str]:
    """MACs per cycle the design (one CU of it with per_cu) can do at most, and where that comes from."""
    from harness.model import data
    from harness.model.platform import dtype_figure
    plat = _platform(context)
    design = context.get("design") or {}
    kname, names = MAC_PARAMS.get(context.get("bench"), MAC_PARAMS["gemm"])
    try:
        pe = 1
        for n in names:
            pe *= int((design.get("params") or {})[n])
        cus = 1 if per_cu else int(((design.get("kernels") or {})[kname])["cus"])
    except (KeyError, TypeError, ValueError):
        raise UserError(f"its context.json records no {' or '.join(names)} in design.params or no CU count of "
                        f"kernel {kname}, so its figures cannot be checked against the design's peak; rerun the "
                        "bench") from None
    what = " x ".join(f"{n}={int(design['params'][n])}" for n in names)
    pe *= cus
    try:
        key = "kernel_macs_per_dsp" if "kernel_macs_per_dsp" in data.params()["dtypes"][dtype] else "macs_per_dsp"
        mpd = dtype_figure(dtype, key)
    except (KeyError, UserError):
        raise UserError(f"its dtype {dtype!r} is not an element type of the platform data") from None
    dsp_macs = plat.dsp_available.value * mpd.value
    design_src = (f"{what} MACs/cycle per CU" + ("" if per_cu else f" x {cus} CU(s) of {kname}") +
                  f" ({design.get('file', 'the design file')}, as recorded in context.json)")
    if pe > 0 and pe <= dsp_macs:
        return float(pe), design_src
    return dsp_macs, (f"{plat.dsp_available.value:g} DSPs x {mpd.value:g} MAC/DSP for {dtype} "
                      f"({plat.dsp_available.source}: {plat.dsp_available.detail}; {mpd.detail})")


def gemm_bound(context: dict, dtype: str, clock_mhz: float, per_cu: bool = False) -> Bound:
    """The GFLOP/s bound of the run's MAC kernel (gemm, or flops for a flops run)."""
    macs, src = macs_per_cycle(context, dtype, per_cu)
    return Bound(macs * 2 * clock_mhz * 1e6 / 1e9, "GFLOP/s",
                 f"{src} x 2 FLOP x {clock_mhz:g} MHz (clock_mhz of the run)")


def gemm_floor_s(context: dict, dtype: str, clock_mhz: float, M: int, K: int, N: int) -> Bound:
    macs, src = macs_per_cycle(context, dtype)
    return Bound(M * K * N / macs / (clock_mhz * 1e6), "s",
                 f"{M}x{K}x{N} = {M * K * N:,} MACs at {src}, {clock_mhz:g} MHz (clock_mhz of the run); the "
                 "modeled minimum of the MAC loop alone")


def check(where: str, context: dict, samples: pd.DataFrame) -> None:
    """Refuse a run any verified repetition of which is past its physical bound."""
    bench = context["bench"]
    clock = float(context["clock_mhz"])
    plat = _platform(context)
    top = plat.max_clock_mhz
    if not 0 < clock <= top.value:
        raise UserError(f"{where}: clock_mhz {clock:g} in context.json is past the platform's highest kernel "
                        f"clock {top.value:g} MHz ({top.source}: {top.detail}); the run cannot be used")
    ok = samples[samples["verified"]]
    if bench == "memcpy":
        for pcs, g in ok.groupby("pcs", sort=False):
            b = memcpy_bound(context, int(pcs))
            worst = g.loc[g["bandwidth_GBps"].idxmax()]
            if worst["bandwidth_GBps"] > b.value:
                raise UserError(f"{where}: bandwidth_GBps {worst['bandwidth_GBps']:.2f} GB/s ({worst['direction']}, "
                                f"{int(pcs)} PCs, samples.csv) is above the physical bound {b.value:.2f} GB/s = "
                                f"{b.source}; its timing is wrong, the run cannot be used")
    elif bench == "transfer":
        link = plat.pcie_link_GBps
        if link is not None and len(ok):
            worst = ok.loc[ok["bandwidth_GBps"].idxmax()]
            if worst["bandwidth_GBps"] > link.value:
                raise UserError(f"{where}: bandwidth_GBps {worst['bandwidth_GBps']:.2f} GB/s ({worst['direction']}, "
                                f"{int(worst['bytes'])} B, samples.csv) is above the PCIe link's "
                                f"{link.value:g} GB/s ({link.source}: {link.detail}); its timing is wrong, the run "
                                "cannot be used")
    elif bench == "gemm":
        dtype = str(context["dtype"])
        b = gemm_bound(context, dtype, clock)
        worst = ok.loc[ok["throughput_GFLOPps"].idxmax()] if len(ok) else None
        if worst is not None and worst["throughput_GFLOPps"] > b.value:
            raise UserError(f"{where}: throughput_GFLOPps {worst['throughput_GFLOPps']:.2f} GFLOP/s "
                            f"({int(worst['M'])}x{int(worst['K'])}x{int(worst['N'])} {worst['path']}, samples.csv) "
                            f"is above the design's peak {b.value:.2f} GFLOP/s = {b.source}; its timing is wrong, "
                            "the run cannot be used")
        for i in range(schema.cus_of(context)):
            col = f"cu{i}_throughput_GFLOPps"
            v = pd.to_numeric(ok[col], errors="coerce") if col in ok else pd.Series(dtype=float)
            if v.notna().any():
                bc = gemm_bound(context, dtype, clock, per_cu=True)
                if v.max() > bc.value:
                    worst = ok.loc[v.idxmax()]
                    raise UserError(f"{where}: {col} {v.max():.2f} GFLOP/s ({int(worst['M'])}x{int(worst['K'])}x"
                                    f"{int(worst['N'])} {worst['path']}, samples.csv) is above one CU's peak "
                                    f"{bc.value:.2f} GFLOP/s = {bc.source}; its timing is wrong, the run cannot be "
                                    "used")
    elif bench == "flops":
        dtype = str(context["dtype"])
        b = gemm_bound(context, dtype, clock)
        worst = ok.loc[ok["throughput_GFLOPps"].idxmax()] if len(ok) else None
        if worst is not None and worst["throughput_GFLOPps"] > b.value:
            raise UserError(f"{where}: throughput_GFLOPps {worst['throughput_GFLOPps']:.2f} GFLOP/s (F = "
                            f"{int(worst['flops_per_element'])}, samples.csv) is above the design's peak "
                            f"{b.value:.2f} GFLOP/s = {b.source}; its timing is wrong, the run cannot be used")
    elif bench == "latency":
        dtype = str(context["dtype"])
        for _, r in ok[ok["kind"] == "gemm"].iterrows():
            b = gemm_floor_s(context, dtype, clock, int(r["M"]), int(r["K"]), int(r["N"]))
            if r["time_s"] < b.value:
                raise UserError(f"{where}: time_s {r['time_s'] * 1e6:.3f} us of a {int(r['M'])}x{int(r['K'])}x"
                                f"{int(r['N'])} GEMM launch (samples.csv) is below the modeled minimum "
                                f"{b.value * 1e6:.3f} us = {b.source}; its timing is wrong, the run cannot be used")
