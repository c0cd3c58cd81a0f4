"""Host transfers of one inference at batch size 1: camera images and robot state in, actions out.

A batch-1 pipeline syncs, per inference (one bo.sync each, harness/docs/roofline.md "Host transfers"):

    h2d  one image per camera    cameras x image_size^2 x 3 channels x 1 B (uint8)
    h2d  the robot state         max_state_dim x 4 B (fp32)
    d2h  the action chunk        chunk_size x max_action_dim x 4 B (fp32)

Element types (assumptions, with their reasons, carried into the report):
- images as uint8: a camera delivers 8 bits per channel; resizing and normalising to the model's
  element type on the card moves 1 B per channel over PCIe instead of 2 or 4;
- state and actions as fp32: LeRobot's robot state and actions are float32 tensors, and they are
  small (128 B and 6,400 B: the sync's fixed latency dominates whatever their element type).
The language instruction's token ids are not counted: they are fixed over an episode and can stay
on the card.

The time of each sync comes from a `harness bench transfer` run (its median time at that size in
that direction, interpolated linearly in bytes between the two sizes around it; the slowest bank
of the run), or else from harness.model.predict_transfer. The total is a Figure with its source.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.errors import UserError
from harness.figures import Figure

ELEMENT_TYPES = {
    "uint8": (1, "a camera delivers 8 bits per channel; resizing and normalising to the model's element type "
                 "on the card moves 1 B per channel over PCIe instead of 2 or 4 (assumption)"),
    "fp32": (4, "LeRobot's robot state and actions are float32 tensors (assumption); small enough that the "
                "sync's fixed latency dominates whatever their element type"),
}


@dataclass(frozen=True)
class Transfer:
    name: str
    direction: str        # h2d | d2h
    bytes: int            # per sync
    count: int            # syncs per inference
    element_type: str
    shape: str


def pipeline_transfers(config) -> list[Transfer]:
    """The syncs of one batch-1 inference of smolVLA (SmolVLAConfig)."""
    c = config
    out = []
    if c.cameras:
        side = c.image_size
        out.append(Transfer("camera image", "h2d", side * side * 3 * ELEMENT_TYPES["uint8"][0], c.cameras, "uint8",
                            f"{side}x{side}x3"))
    if c.state_tokens:
        out.append(Transfer("robot state", "h2d", c.max_state_dim * ELEMENT_TYPES["fp32"][0], 1, "fp32",
                            f"{c.max_state_dim}"))
    out.append(Transfer("action chunk", "d2h", c.chunk_size * c.max_action_dim * ELEMENT_TYPES["fp32"][0], 1,
                        "fp32", f"{c.chunk_size}x{c.max_action_dim}"))
    return out


def _run_times(run) -> dict[str, tuple[np.ndarray, np.ndarray, dict]]:
    """Per direction: (sizes, median times of the slowest bank at each size, {size: bank})."""
    s = run.verified_summary()
    out = {}
    for d, g in s.groupby("direction"):
        worst = g.loc[g.groupby("bytes")["time_s_median"].idxmax()].sort_values("bytes")
        out[str(d)] = (worst["bytes"].to_numpy(float), worst["time_s_median"].to_numpy(float),
                       dict(zip(worst["bytes"].astype(int), worst["bank"].astype(str))))
    return out


def time_from_run(run, direction: str, nbytes: int) -> tuple[float, str]:
    """(seconds, how) of one sync of nbytes from a transfer run's medians."""
    times = _run_times(run)
    if direction not in times:
        raise UserError(f"transfer run {run.run_id} has no verified {direction} point; rerun `harness bench transfer`")
    sizes, t, banks = times[direction]
    if nbytes < sizes[0] or nbytes > sizes[-1]:
        raise UserError(f"transfer run {run.run_id} covers {int(sizes[0])}..{int(sizes[-1])} B {direction}, not "
                        f"{nbytes} B; rerun `harness bench transfer --sizes 64..256M` (the default)")
    i = int(np.searchsorted(sizes, nbytes))
    if sizes[i] == nbytes:
        return float(t[i]), f"median at {nbytes:,} B ({banks[int(nbytes)]})"
    lo, hi = i - 1, i
    v = t[lo] + (t[hi] - t[lo]) * (nbytes - sizes[lo]) / (sizes[hi] - sizes[lo])
    return float(v), (f"medians at {int(sizes[lo]):,} and {int(sizes[hi]):,} B, interpolated "
                      f"({banks[int(sizes[lo])]}, {banks[int(sizes[hi])]})")


def per_inference(config, run=None) -> dict:
    """The transfers of one inference, each with its time, and the total as a Figure (dict form)."""
    from harness.model import predict_transfer
    items, total = [], 0.0
    for tr in pipeline_transfers(config):
        if run is not None:
            t, how = time_from_run(run, tr.direction, tr.bytes)
            how = f"run {run.run_id}: {how}"
        else:
            p = predict_transfer(tr.bytes, tr.direction)
            t, how = p.time_s, p.figure().detail
        items.append({"name": tr.name, "direction": tr.direction, "bytes": tr.bytes, "count": tr.count,
                      "element_type": tr.element_type, "shape": tr.shape, "time_s": t,
                      "time_total_s": t * tr.count, "detail": how,
                      "element_type_reason": ELEMENT_TYPES[tr.element_type][1]})
        total += t * tr.count
    what = ", ".join(f"{i['count']} x {i['name']} {i['bytes']:,} B {i['element_type']} {i['direction']}"
                     for i in items)
    if run is None:
        fig = Figure("host transfers per inference", total, "s", "model",
                     f"{what}; each sync timed by harness.model.predict_transfer (no transfer run given)")
    elif run.emulated:
        fig = Figure("host transfers per inference", total, "s", "model",
                     f"{what}; each sync from emulated transfer run {run.run_id} (modeled times, not measured)",
                     run_id=run.run_id, emulated=True)
    else:
        fig = Figure("host transfers per inference", total, "s", "measured",
                     f"{what}; each sync from transfer run {run.run_id} (median, slowest bank)", run_id=run.run_id)
    return {"figure": fig.to_dict(), "items": items, "syncs": sum(i["count"] for i in items),
            "bytes_h2d": sum(i["bytes"] * i["count"] for i in items if i["direction"] == "h2d"),
            "bytes_d2h": sum(i["bytes"] * i["count"] for i in items if i["direction"] == "d2h")}


def pick_run(runs):
    """The one transfer run among `runs` (None if there is none)."""
    tr = [r for r in runs if r.bench == "transfer"]
    if len(tr) > 1:
        raise UserError(f"{len(tr)} transfer runs given ({', '.join(r.run_id for r in tr)}): give one with --transfer")
    return tr[0] if tr else None
