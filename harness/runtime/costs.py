"""Modeled time of what the emulator executes: kernels, dispatch, PCIe transfers.

All numbers come from harness.model (the same model `harness predict` prints),
so `--mode emu` and `harness predict` always agree.
"""
from __future__ import annotations

import functools

from harness import model


@functools.lru_cache(maxsize=None)
def platform(name: str = "u280"):
    return model.load_platform(name)


def out_bytes(dtype: str) -> int:
    """Bytes of one C element (the type the GEMM writes) for an element type: model data."""
    from harness.model.platform import dtype_figure
    return int(dtype_figure(dtype, "out_bytes").value)


def dispatch_s() -> float:
    return model.dispatch_overhead(platform()).value


def pcie_transfer_s(nbytes: int, direction: str = "h2d") -> float:
    """Modeled time of one bo.sync() (direction h2d or d2h): harness.model.predict_transfer."""
    return model.predict_transfer(nbytes, direction).time_s


def _memory_kind(bank: str) -> str:
    return "hbm" if bank.startswith("HBM") else "ddr"


def _code_name(xdesc: dict, codes: str, code: int) -> str | None:
    """The name of a scalar code, from the codes the design file gave the build (emulated xclbin)."""
    for name, c in (xdesc.get("codes") or {}).get(codes, {}).items():
        if c == code:
            return name
    return None


def _pc(tag: str) -> int:
    return int(tag[tag.index("[") + 1:tag.index("]")])


def worst_target(targets) -> str:
    """The costliest of several ports' switch targets (local < same-group < other-group)."""
    return max(targets, key=model.TARGETS.index, default="local")


def memcpy_target(banks: dict, placed: dict | None, ports) -> str:
    """Where the buffers of `ports` lie from each port's switch port, the costliest: a port's switch
    port from its connectivity (HBM[0:31].N: PC N), its buffer's PC from where it was placed."""
    from harness.designs import parse_bank
    out = []
    for port in ports:
        reach, tag = parse_bank(banks[port]), (placed or {}).get(port)
        if reach.kind == "HBM" and reach.home and tag:
            out.append(model.switch_target(platform(), _pc(reach.home), _pc(tag)))
    return worst_target(out)


MEMCPY_PORTS = model.MEMCPY_PORTS


def streamed_banks(kdesc: dict, xdesc: dict, scalars: dict, placed: dict | None) -> list[str]:
    """The banks a launch streams through (a memcpy CU: those of the buffers its mode moves), so
    CUs launched together that share one can share its bandwidth; [] for other kernels."""
    if kdesc["model"] != "memcpy" or not placed:
        return []
    direction = _code_name(xdesc, "mode", scalars["mode"])
    if direction is None or scalars["n_words"] == 0 or scalars["reps"] == 0:
        return []
    width = next(a["width_bits"] for a in kdesc["args"] if a["kind"] == "ptr")
    if memcpy_access(xdesc, scalars, width // 8) is None:
        return []
    return [placed[p] for p in MEMCPY_PORTS[direction] if p in placed]


def kernel_time_s(kdesc: dict, xdesc: dict, scalars: dict, banks: dict, placed: dict | None = None,
                  crowd: int = 1) -> float:
    """Modeled device time of one launch of a kernel on one CU; placed: {pointer argument: bank of
    its buffer} (a port on a PC range may use any of them); crowd: ports of the CUs launched with
    it on the most crowded bank it streams through (streamed_banks)."""
    p, params, clock = platform(), xdesc["params"], xdesc["freq_mhz"]
    kind = kdesc["model"]
    if kind == "nop":
        return 0.0
    if kind == "memcpy":
        direction = _code_name(xdesc, "mode", scalars["mode"])
        if direction is None or scalars["n_words"] == 0 or scalars["reps"] == 0:
            return 0.0
        width = next(a["width_bits"] for a in kdesc["args"] if a["kind"] == "ptr")
        access = memcpy_access(xdesc, scalars, width // 8)
        if access is None:                   # the kernel returns at once for these scalars
            return 0.0
        used = MEMCPY_PORTS[direction]
        own = len({placed[u] for u in used if u in placed}) or None if placed else None
        pred = model.predict_memcpy_cu(
            p, memory=_memory_kind(banks["in"]), direction=direction, width_bits=width,
            clock_mhz=clock, burst=params["MEMCPY_BURST"], outstanding=params["MEMCPY_OUTSTANDING"],
            bytes=scalars["n_words"] * width // 8 * scalars["reps"], target=memcpy_target(banks, placed, used),
            crowd=crowd, own_pcs=own, **access)
        return pred.time_s
    if kind == "gemm":
        if min(scalars["M"], scalars["K"], scalars["N"]) == 0:
            return 0.0
        epi = _code_name(xdesc, "epilogue", scalars["epilogue"])
        if epi is None:                      # the kernel returns at once for other values
            return 0.0
        # one CU's launch: its own part of the GEMM (the host split N between the CUs)
        return model.predict_gemm(p, dtype=xdesc["dtype"], M=scalars["M"], K=scalars["K"], N=scalars["N"],
                                  epilogue=epi, params=params, cus=1, clock_mhz=clock).time_s
    if kind == "flops":
        if scalars["n_words"] == 0 or scalars["f"] == 0:
            return 0.0
        return model.predict_flops(p, dtype=xdesc["dtype"], n_words=scalars["n_words"], f=scalars["f"],
                                   params=params, cus=1, clock_mhz=clock).time_s
    if kind == "elementwise":
        if min(scalars["M"], scalars["N"]) == 0:
            return 0.0
        epi = _code_name(xdesc, "epilogue", scalars["epilogue"])
        if epi in (None, "none"):            # the kernel does nothing for other values
            return 0.0
        return model.predict_elementwise(p, M=scalars["M"], N=scalars["N"], epilogue=epi,
                                         elem_bytes=out_bytes(xdesc["dtype"]), clock_mhz=clock,
                                         params=params).time_s
    if kind == "cycles":                     # a kernel spec's cycle model (harness.designs.spec)
        return spec_cycles(kdesc["timing"], scalars, clock) / (clock * 1e6)
    if kind == "none":                       # a kernel spec without a cycle model: functional only
        return 0.0
    raise RuntimeError(f"no timing model named {kind!r} for kernel {kdesc['name']}")


def memcpy_access(xdesc: dict, scalars: dict, word_bytes: int) -> dict | None:
    """The model's pattern arguments for bw_memcpy's pattern scalars (kernels/memcpy/memcpy.cpp), or None
    when the kernel does nothing with them. Designs built before the pattern scalars existed: seq."""
    if "pattern" not in (xdesc.get("codes") or {}):
        return {}
    pattern = _code_name(xdesc, "pattern", scalars["pattern"])
    if pattern is None:
        return None
    if pattern == "seq":
        return {}
    txn = scalars.get("txn_words") or 0
    if txn == 0:
        return None
    access = {"pattern": pattern, "txn_bytes": min(txn, scalars["n_words"]) * word_bytes}
    if pattern == "stride":
        access["stride_bytes"] = max(1, scalars.get("stride_words") or 0) * word_bytes
    return access


def spec_cycles(timing: dict, scalars: dict, clock_mhz: float) -> float:
    """Cycles of one launch from a spec's cycle expression, seeing only what the kernel is given:
    its scalar arguments (and the dims they pass unchanged), the spec's constants, the report's
    loop figures and the clock."""
    from harness.designs.expr import Expr
    from harness.designs.spec import CLOCK_NAME
    names = {**timing["constants"], **timing["figures"], CLOCK_NAME: clock_mhz}
    names.update({k: v for k, v in scalars.items() if v is not None})
    names.update({dim: scalars[arg] for dim, arg in timing["dims"].items()})
    return Expr(timing["cycles"], "cycle model").number(names)
