"""What the roofline takes from harness.model (platform facts, dispatch, GEMM and elementwise timing).

Kept in one place so the names used from harness.model are easy to audit. The model never reads
design files: the caller passes the design's params and clock (harness.roofline.design).
"""
from __future__ import annotations

import functools
import inspect
import re

from harness import model
from harness.model import data as model_data        # cached results are per parameter file (--params)
from harness.figures import Figure


def load_platform(name: str = "u280"):
    return model.load_platform(name)


def hbm_peak(platform) -> Figure:
    return platform.hbm_peak_GBps()


def spec_compute(platform, dtype: str) -> Figure:
    """Spec compute ceiling of an element type from the DSPs available to kernels (the device total
    is noted in the detail)."""
    return platform.spec_compute_GFLOPps(dtype, dsps="available")


def device_compute(platform, dtype: str) -> Figure:
    """The same from every DSP of the device (what the seed analysis used)."""
    return platform.spec_compute_GFLOPps(dtype)


def hbm_pcs(platform) -> int:
    """Number of HBM pseudo-channels, from the platform data."""
    return int(platform.memory("hbm").pcs)


def hbm_pc_spec(platform) -> Figure:
    """Spec bandwidth of one HBM pseudo-channel."""
    f = platform.memory("hbm").pc_peak_GBps
    return Figure("HBM per-PC bandwidth", f.value, f.unit, f.source, f.detail, document=f.document)


def dispatch_overhead(platform) -> Figure:
    """Model of one kernel launch's fixed cost (seconds), from the published K1-K3
    figures (harness/docs/published-measurements.md)."""
    return model.dispatch_overhead(platform)


def _key(params: dict | None) -> tuple:
    return tuple(sorted((str(k), v if isinstance(v, (int, float, str, bool)) else str(v))
                        for k, v in (params or {}).items()))


def _takes(fn, name: str) -> bool:
    return name in inspect.signature(fn).parameters


@functools.lru_cache(maxsize=4096)
def _gemm(platform_name, dtype, M, K, N, epilogue, params_key, clock_mhz, cus, model_key):
    kw = {"cus": cus} if _takes(model.predict_gemm, "cus") else {}   # a model that splits over CUs
    return model.predict_gemm(load_platform(platform_name), dtype=dtype, M=int(M), K=int(K), N=int(N),
                              epilogue=epilogue, params=dict(params_key), clock_mhz=clock_mhz, **kw)


def predict_gemm(platform, *, dtype, M, K, N, epilogue="none", params, clock_mhz, cus: int = 1):
    """One call of the design's GEMM on its `cus` CUs by the timing model (dispatch not included);
    cached per shape."""
    return _gemm(platform.name, dtype, int(M), int(K), int(N), epilogue, _key(params), clock_mhz, int(cus),
                 model_data.params_key())


@functools.lru_cache(maxsize=4096)
def _elementwise(platform_name, M, N, elem_bytes, epilogue, params_key, clock_mhz, model_key):
    return model.predict_elementwise(load_platform(platform_name), M=int(M), N=int(N), elem_bytes=elem_bytes,
                                     epilogue=epilogue, params=dict(params_key), clock_mhz=clock_mhz)


def predict_elementwise(platform, *, M, N, elem_bytes, epilogue, params, clock_mhz):
    """One pass of the design's elementwise kernel (bias_gelu) over M x N by the timing model."""
    return _elementwise(platform.name, int(M), int(N), int(elem_bytes), epilogue, _key(params), clock_mhz,
                        model_data.params_key())


def design_peak(platform, *, dtype, params, clock_mhz, origin: str, cus: int = 1) -> Figure:
    """The GEMM design's compute peak by the model (its MACs on every CU x 2 FLOP x clock)."""
    tm = int((params or {}).get("GEMM_TILE_M", 64) or 64)
    p = predict_gemm(platform, dtype=dtype, M=tm, K=tm, N=tm, params=params, clock_mhz=clock_mhz, cus=cus)
    v = float(p.kernel_peak_GFLOPps)
    inp = getattr(p, "inputs", None) or {}
    clk = inp.get("clock_mhz", clock_mhz)
    macs = inp.get("pe") or inp.get("macs") or inp.get("macs_per_cu")
    how = (f"{macs} MACs per CU x 2 FLOP x {clk:g} MHz" if macs else f"the model's kernel peak at {clk:g} MHz") + \
        (f", {cus} CUs" if cus > 1 else "")
    return Figure(f"GEMM design peak {dtype}", v, "GFLOP/s", "model",
                  f"harness.model.predict_gemm: {how}; design {origin}")


_BANK = re.compile(r"^\s*(HBM|DDR|PLRAM)\[(\d+)(?::(\d+))?\]\s*$")


def parse_banks(bank: str) -> list[tuple[str, int]]:
    """'HBM[3]' -> [('HBM', 3)]; 'HBM[0:3]' -> four PCs."""
    m = _BANK.match(str(bank))
    if not m:
        return []
    lo = int(m.group(2))
    hi = int(m.group(3)) if m.group(3) else lo
    return [(m.group(1), i) for i in range(lo, hi + 1)]
