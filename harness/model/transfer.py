"""Host <-> card transfers over PCIe (XDMA): what syncing `buffers` buffers of `bytes` should take.

One buffer sync costs a fixed latency plus its bytes at the direction's bandwidth; buffers
synced one after another add up. Parameters: [pcie] in harness/data/model_params.toml,
calibrated on the T-* rows of harness/data/calibration.csv (harness/docs/model.md).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from harness.errors import UserError
from harness.model import data
from harness.model.memory import _int, _platform

DIRECTIONS = ("h2d", "d2h")


@dataclass
class TransferPrediction(data.Modeled):
    time_s: float              # all buffers, one after another
    bandwidth_GBps: float      # buffers x bytes / time_s, decimal GB/s
    latency_s: float           # fixed cost of one buffer sync
    link_GBps: float           # streaming bandwidth of the direction
    inputs: dict
    explain: str
    model_version: str = field(default_factory=data.version)
    source: str = "model"


def predict_transfer(platform, bytes, direction="h2d", buffers=1) -> TransferPrediction:
    """Modeled time to sync `buffers` buffers of `bytes` each in `direction` (h2d or d2h)."""
    p = _platform(platform)
    if direction not in DIRECTIONS:
        raise UserError(f"direction must be h2d or d2h, got {direction!r}")
    bytes = _int(bytes, "bytes", 0)
    buffers = _int(buffers, "buffers", 1)
    P = data.params()["pcie"]
    lat = P["latency_s"].value
    bw = P[f"{direction}_bandwidth_GBps"].value
    t = buffers * (lat + bytes / (bw * 1e9))
    return TransferPrediction(
        t, buffers * bytes / t / 1e9, lat, bw,
        dict(platform=p.name, bytes=bytes, direction=direction, buffers=buffers),
        f"{buffers} x ({lat * 1e6:g} us + {bytes:,} B / {bw:g} GB/s)")
