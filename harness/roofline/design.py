"""The GEMM design the roofline times ops on: its build params, clock and port connectivity.

From the context of a gemm or latency run of the element type (what was actually run), else
from kernels/designs/gemm.toml (what would be built). The timing model gets these params from
here: it never reads design files itself.
"""
from __future__ import annotations

from dataclasses import dataclass

from harness.errors import UserError
from harness.roofline import platform as plat


@dataclass(frozen=True)
class KernelDesign:
    dtype: str
    params: dict
    clock_mhz: float
    kernels: dict           # kernel name -> {port name: [bank of CU 0, CU 1, ...]}
    origin: str             # "run <id>" or "kernels/designs/gemm.toml"
    run_id: str | None = None
    cus: dict = None        # kernel name -> CU count

    def cu_count(self, kernel: str) -> int:
        return int((self.cus or {}).get(kernel) or 1)

    def ports(self, kernel: str) -> dict[str, list[str]]:
        return self.kernels.get(kernel, {})


def _ports(kernel_ctx: dict) -> dict[str, list[str]]:
    out = {}
    for name, banks in (kernel_ctx.get("args") or {}).items():
        if isinstance(banks, str):
            banks = [banks] if plat.parse_banks(banks) else []
        if isinstance(banks, list) and banks and all(isinstance(b, str) and plat.parse_banks(b) for b in banks):
            out[name] = banks
    return out


def from_context(design: dict, dtype: str, clock_mhz, origin: str, run_id: str | None) -> KernelDesign | None:
    if not design or not design.get("params"):
        return None
    kernels = {k: _ports(v) for k, v in (design.get("kernels") or {}).items()}
    cus = {k: int(v.get("cus") or 1) for k, v in (design.get("kernels") or {}).items()}
    clock = float(clock_mhz or design.get("freq_mhz") or 0) or None
    if clock is None:
        return None
    return KernelDesign(dtype, dict(design["params"]), clock, kernels, origin, run_id, cus)


def usable(kd: KernelDesign, platform) -> str | None:
    """Why the timing model cannot time this design (a run from an older design file), or None."""
    try:
        plat.design_peak(platform, dtype=kd.dtype, params=kd.params, clock_mhz=kd.clock_mhz, origin=kd.origin,
                         cus=kd.cu_count("gemm"))
    except UserError as exc:
        return str(exc)
    return None


def gemm_design(runs, dtype: str, platform=None) -> tuple[KernelDesign | None, str | None]:
    """(design, note): the design of the first gemm/latency run built for `dtype`, else the design
    file's; (None, why) when neither exists (an element type the design file does not build). With
    `platform`, a run's design the timing model cannot time is passed over, with a note."""
    notes = []
    for bench in ("gemm", "latency"):
        for r in runs:
            if r.bench != bench:
                continue
            design = r.context.get("design") or {}
            d = design.get("dtype") or r.dtype
            if d != dtype:
                continue
            kd = from_context(design, dtype, r.context.get("clock_mhz"), f"run {r.run_id}", r.run_id)
            if kd is None:
                continue
            why = usable(kd, platform) if platform is not None else None
            if why is None:
                return kd, None
            notes.append(f"the GEMM design recorded in run {r.run_id} cannot be timed by this model ({why})")
    try:
        from harness.designs import load_design
        d = load_design("gemm", dtype=dtype)
    except UserError as exc:
        return None, "; ".join(notes + [f"no GEMM design for {dtype} ({exc})"])
    kd = from_context(d.to_context(), dtype, d.freq_mhz, f"kernels/designs/{d.base}.toml", None)
    if notes:
        notes[-1] += f": per-shape times and the design's peak use {kd.origin}"
    return kd, "; ".join(notes) or None
