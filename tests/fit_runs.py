"""Measured-looking run directories made from known model parameters plus noise, for the fit's tests
(tests/test_fit.py). Each run carries every mark the strict reader requires of a run on a card
(mode hw, a real device, an xclbin2 with a UUID, pyxrt, no emulator block), is written by the
harness's RunWriter and summarized by its summarizers, and its times are the model's prediction
with TRUE in place of the defaults, times a lognormal noise of NOISE per repetition.

The transfer run has the columns of `harness bench transfer` (schema.TRANSFER): one sample per
sync, its time also in h2d_time_s or d2h_time_s by direction.
"""
from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "fixtures"))

import regenerate as rg  # noqa: E402

from harness import model  # noqa: E402
from harness.bench import gemm as gb  # noqa: E402
from harness.designs import load_design  # noqa: E402
from harness.model import data  # noqa: E402
from harness.results import schema  # noqa: E402
from harness.results import writer as wmod  # noqa: E402
from harness.results.stats import summarize_samples  # noqa: E402

MiB = 1 << 20
# The card's "true" parameters, each away from its default (model_params.toml in brackets).
TRUE = {
    ("memory", "hbm", "efficiency"): 0.87,          # (0.915)
    ("dispatch", "overhead_s"): 38e-6,               # (50e-6)
    ("gemm", "loop_overhead_cycles"): 9.0,           # (3)
    ("pcie", "h2d_bandwidth_GBps"): 6.9,             # (7.82)
    ("pcie", "bandwidth_GBps"): 11.4,                # (12.72: d2h)
    ("pcie", "latency_s"): 16e-6,                    # (12.7e-6)
    # (13.4) above 16.4 ns, so that row activations bind 64 B random reads before Little's law does
    # (the design's 16 outstanding transactions): below it no run could show the value
    ("memory", "hbm", "random_txn_ns"): 20.0,
}
NOISE = 0.005                                         # 0.5% per repetition, lognormal
REPEATS = 5

# (direction, PCs, bytes per PC[, pattern, txn_bytes, stride_bytes])
MEMCPY_POINTS = [(d, pcs, size) for d, pcs_list in (("read", (1, 4, 16)), ("write", (1, 4, 16)), ("copy", (2, 8, 32)))
                 for pcs in pcs_list for size in (4 << 10, 64 << 10, 1 * MiB, 16 * MiB, 64 * MiB)]
# random and strided transactions: 64 and 128 B ones are bound by row activations (random_txn_ns)
ACCESS_POINTS = ([("read", 1, 1 * MiB), ("read", 1, 16 * MiB)]
                 + [(d, 1, 1 * MiB, "random", t, None) for d in ("read", "write") for t in (64, 128, 256, 1024)]
                 + [("read", 1, 1 * MiB, "stride", t, 8192) for t in (64, 128)])
GEMM_SHAPES = [(64, 64, 64), (50, 720, 960), (256, 256, 256), (512, 512, 512), (1024, 768, 768),
               # many short tiles: where the per-step overhead shows
               (4096, 64, 64), (8192, 64, 64), (8192, 64, 192), (16384, 64, 64), (2048, 64, 128)]
TRANSFER_POINTS = [(d, n) for d in ("h2d", "d2h") for n in (64, 4096, 64 << 10, 1 * MiB, 16 * MiB, 256 * MiB)]


def _writer(out: Path, stamp: str, bench: str, mode: str, design, columns, extra=None) -> wmod.RunWriter:
    when = dt.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.timezone.utc)
    device, xclbin, runtime, emulator = (rg.card_device if mode == "hw" else rg.emu_device)(design.name)
    timing = "measured" if mode == "hw" else "model"
    ctx = wmod.run_context(bench, mode, timing, design=design.to_context(), dtype=design.dtype,
                           clock_mhz=design.freq_mhz, clock_source="device" if mode == "hw" else "design",
                           device=device, xclbin=xclbin, runtime=runtime, notes=[], emulator=emulator)
    ctx.update(rg.FIXED, command=["harness", "bench", bench])
    ctx.update(extra or {})
    saved = wmod.utc_now
    wmod.utc_now = lambda: when
    try:
        return wmod.RunWriter(bench, mode, ctx, out, columns)
    finally:
        wmod.utc_now = saved


def _times(rng, t_true: float, n: int) -> list[float]:
    return list(t_true * np.exp(rng.normal(0.0, NOISE, n)))


def _samples(rng, t_true: float, common: dict, rate=None):
    """2 warm-ups then REPEATS measured repetitions of one point, all verified."""
    rows = []
    for phase, count in (("warmup", 2), ("measure", REPEATS)):
        for rep, t in enumerate(_times(rng, t_true * (1.05 if phase == "warmup" else 1.0), count)):
            row = {"phase": phase, "repetition": rep, "time_s": t, "wall_time_s": t * 1.1, "h2d_time_s": 0.0,
                   "d2h_time_s": 0.0, "verified": True, "error": "", "device_time_s": None, **common}
            if rate:
                row[rate[0]] = row[rate[1]] / t / 1e9
            rows.append(row)
    return rows


def memcpy_run(out: Path, stamp="20260101T000000Z", mode="hw", truth=None, seed=1, points=MEMCPY_POINTS) -> Path:
    truth = TRUE if truth is None else truth
    rng = np.random.default_rng(seed)
    design = load_design("memcpy")
    p = design.all_params("bw_memcpy")
    w = _writer(out, stamp, "memcpy", mode, design, schema.MEMCPY.sample_columns)
    timing = "measured" if mode == "hw" else "model"
    for point, (direction, pcs, size, *access) in enumerate(points):
        pattern, txn, stride = access or ("seq", None, None)
        cus = pcs // 2 if direction == "copy" else pcs
        kreps = min(1024, 64 * MiB // size)
        kw = dict(memory="hbm", ports=2 if direction == "copy" else 1, direction=direction, width_bits=512,
                  clock_mhz=design.freq_mhz, burst=p["MEMCPY_BURST"], outstanding=p["MEMCPY_OUTSTANDING"],
                  bytes=size * kreps)
        if pattern != "seq":
            kw.update(pattern=pattern, txn_bytes=txn, stride_bytes=stride)
        with data.trial(truth):
            t_true = model.dispatch_overhead_s() + model.predict_memcpy("u280", **kw).time_s
        model_t = model.predict_memcpy("u280", **kw).time_s
        moved = cus * size * kreps * (2 if direction == "copy" else 1)
        common = {"point": point, "timing_source": timing, "direction": direction, "pcs": pcs, "cus": cus,
                  "bytes_per_pc": size, "kernel_reps": kreps, "bytes": moved, "model_time_s": model_t,
                  "pattern": pattern, "txn_bytes": txn, "stride_bytes": stride}
        for row in _samples(rng, t_true, common, ("bandwidth_GBps", "bytes")):
            w.add_sample({k: row.get(k) for k in schema.MEMCPY.sample_columns if k != "run_id"})
    w.finish(summarize_samples("memcpy", w.rows))
    return w.path


# A cross-switch card: the lateral link passes 62% of a PC's bandwidth (PG276 says up to 50% is lost)
# and adds 70 ns to a round trip (Shuhai's worst case 48.9 ns); the rest as TRUE, but for random_txn_ns
# at its default: below Little's law for small random transactions, so that their round trips bind
# (local ones pin the AXI overheads, other-group ones the lateral latency on top)
SWITCH_TRUE = {**{k: v for k, v in TRUE.items() if k != ("memory", "hbm", "random_txn_ns")},
               ("memory", "hbm", "lateral_efficiency"): 0.62,                 # (0.5)
               ("memory", "hbm", "lateral_latency_ns"): 70.0}                 # (48.9)
# (direction, bytes per PC, port PC, target PC[, pattern, txn_bytes]) of a `--port-pc ... --target-pc ...`
# run, one CU per point: read and copy from in ports (even PCs), write from out ports (odd PCs); local,
# same-group and other-group targets; streams of 1-64 MiB, and small random transactions whose round
# trip binds (the lateral latency shows there)
SWITCH_POINTS = ([(d, size, port + (d == "write"), target + (d == "write"))
                  for d in ("read", "write", "copy") for port in (0, 6, 20)
                  for target in (port, port ^ 1, 30 - port, (port + 12) % 32) for size in (1 * MiB, 64 * MiB)]
                 + [(d, 1 * MiB, port + (d == "write"), target + (d == "write"), "random", t)
                    for d in ("read", "write") for port in (0, 6) for target in (port, 30 - port, (port + 12) % 32)
                    for t in (64, 128, 256)])


def switch_run(out: Path, stamp="20260101T030000Z", mode="hw", truth=None, seed=4, points=SWITCH_POINTS,
               requested=None, context=None) -> Path:
    """A memcpy run of `--port-pc ... --target-pc ...`: one CU per point, port_pc and target_pc columns,
    times from the bench's own prediction (harness.bench.memcpy.predict_point) with `truth`."""
    from harness.bench import memcpy as mc
    truth = SWITCH_TRUE if truth is None else truth
    rng = np.random.default_rng(seed)
    design = load_design("memcpy")
    kern, params = design.kernels["bw_memcpy"], design.all_params("bw_memcpy")
    plat = model.load_platform("u280")
    w = _writer(out, stamp, "memcpy", mode, design, schema.MEMCPY.sample_columns,
                {"port_pc": sorted({p[2] for p in points}),
                 "target_pc": requested or sorted({str(p[3]) for p in points}), **(context or {})})
    timing = "measured" if mode == "hw" else "model"
    for point, (direction, size, port, target, *access) in enumerate(points):
        pattern, txn = access or ("seq", None)
        kreps = min(1024, 64 * MiB // size)
        pt = mc.MemcpyPoint(direction, 2 if direction == "copy" else 1, size, kreps, pattern, txn, None, str(target),
                            port, mc.port_cus(kern, direction)[port])
        assert mc.point_pcs(kern, plat, pt) == (port, target)
        with data.trial(truth):
            t_true = model.dispatch_overhead_s() + mc.predict_point(plat, kern, params, design.freq_mhz, pt).time_s
        common = {"point": point, "timing_source": timing, "direction": direction, "pcs": pt.pcs, "cus": 1,
                  "bytes_per_pc": size, "kernel_reps": kreps, "bytes": size * kreps * (2 if direction == "copy" else 1),
                  "model_time_s": mc.predict_point(plat, kern, params, design.freq_mhz, pt).time_s,
                  "pattern": pattern, "txn_bytes": txn, "stride_bytes": None, "port_pc": port, "target_pc": target}
        for row in _samples(rng, t_true, common, ("bandwidth_GBps", "bytes")):
            w.add_sample({k: row.get(k) for k in schema.MEMCPY.sample_columns if k != "run_id"})
    w.finish(summarize_samples("memcpy", w.rows))
    return w.path


def gemm_run(out: Path, stamp="20260101T010000Z", truth=None, seed=2, shapes=GEMM_SHAPES) -> Path:
    truth = TRUE if truth is None else truth
    rng = np.random.default_rng(seed)
    design = gb.load_gemm_design("fp32")
    cus = design.kernels["gemm"].cus
    cols = schema.GEMM.sample_columns_for(cus)
    w = _writer(out, stamp, "gemm", "hw", design, cols,
                {"gemm": {"epilogue": "none", "compare_fusion": False, "shapes": "fit fixture"}})
    params = design.all_params("gemm")
    for point, (M, K, N) in enumerate(shapes):
        with data.trial(truth):
            t_true = model.dispatch_overhead_s() + model.predict_gemm(
                "u280", dtype="fp32", M=M, K=K, N=N, epilogue="none", params=params, cus=cus,
                clock_mhz=design.freq_mhz).time_s
        flop = gb.point_flop(M, K, N)
        nbytes = gb.point_bytes("fp32", M, K, N, "none", "gemm")
        common = {"point": point, "timing_source": "measured", "dtype": "fp32", "M": M, "K": K, "N": N,
                  "epilogue": "none", "path": "gemm", "flop": flop, "bytes": nbytes, "epilogue_time_s": None}
        for row in _samples(rng, t_true, common, ("throughput_GFLOPps", "flop")):
            t = row["time_s"]
            row.update(bandwidth_GBps=nbytes / t / 1e9, gemm_time_s=t, **rg.cu_figures(design, M, K, N, t, True))
            w.add_sample({k: row.get(k) for k in cols if k != "run_id"})
    w.finish(summarize_samples("gemm", w.rows, cus))
    return w.path


def transfer_run(out: Path, stamp="20260101T020000Z", truth=None, seed=3, points=TRANSFER_POINTS) -> Path:
    from harness.model.transfer import predict_transfer
    truth = TRUE if truth is None else truth
    rng = np.random.default_rng(seed)
    sch = schema.TRANSFER
    design = load_design("memcpy")
    w = _writer(out, stamp, "transfer", "hw", design, sch.sample_columns)
    for point, (direction, n) in enumerate(points):
        with data.trial(truth):
            t_true = predict_transfer(n, direction).time_s
        common = {"point": point, "timing_source": "measured", "direction": direction, "bank": "HBM[0]",
                  "bytes": n, "model_time_s": predict_transfer(n, direction).time_s}
        for row in _samples(rng, t_true, common, ("bandwidth_GBps", "bytes")):
            row[f"{direction}_time_s"] = row["time_s"]
            w.add_sample({k: row.get(k) for k in sch.sample_columns if k != "run_id"})
    w.finish(summarize_samples("transfer", w.rows))
    return w.path
