"""Host<->card transfers: the modeled time of one bo.sync() (harness/docs/model.md, "PCIe").

    time = latency + bytes / bandwidth

per direction: h2d (XCL_BO_SYNC_BO_TO_DEVICE) and d2h (XCL_BO_SYNC_BO_FROM_DEVICE). [pcie] in
harness/data/model_params.toml holds `latency_s` and `bandwidth_GBps` for both directions; a
parameter file may give a direction its own with `h2d_latency_s`, `d2h_bandwidth_GBps`, ... (the
XDMA engine's two directions need not be equal on a card), which then take precedence.
"""
from __future__ import annotations

from dataclasses import dataclass

from harness.errors import UserError
from harness.figures import Figure
from harness.model import data

DIRECTIONS = ("h2d", "d2h")


def transfer_params(direction: str) -> tuple[Figure, Figure]:
    """(latency, bandwidth) Figures of one direction: its own keys if given, else the shared ones."""
    if direction not in DIRECTIONS:
        raise UserError(f"transfer direction {direction!r}: use h2d or d2h")
    P = data.params()["pcie"]
    lat = P.get(f"{direction}_latency_s", P["latency_s"])
    bw = P.get(f"{direction}_bandwidth_GBps", P["bandwidth_GBps"])
    return lat, bw


@dataclass(frozen=True)
class TransferPrediction(data.Modeled):
    direction: str
    bytes: int
    time_s: float
    latency_s: float
    bandwidth_GBps: float        # bytes / time_s (decimal GB/s): what a bench would report

    def figure(self) -> Figure:
        lat, bw = transfer_params(self.direction)
        return Figure(f"{self.direction} transfer time of {self.bytes} B", self.time_s, "s", "model",
                      f"{data.version()}: {lat.value * 1e6:g} us + bytes / {bw.value:g} GB/s "
                      f"({lat.source}: {lat.detail}; {bw.source}: {bw.detail})")


def predict_transfer(nbytes, direction: str) -> TransferPrediction:
    """Modeled time of one bo.sync() of `nbytes` in `direction` (h2d or d2h)."""
    if isinstance(nbytes, bool) or not isinstance(nbytes, (int, float)) or nbytes != int(nbytes) or nbytes < 0:
        raise UserError(f"transfer bytes must be a whole number >= 0, got {nbytes!r}")
    nbytes = int(nbytes)
    lat, bw = transfer_params(direction)
    t = lat.value + nbytes / (bw.value * 1e9)
    return TransferPrediction(direction, nbytes, t, lat.value, nbytes / t / 1e9 if t > 0 else 0.0)
