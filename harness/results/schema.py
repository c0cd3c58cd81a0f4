"""The run-directory schema: what a run directory holds and which version of it this harness reads.

A run directory is `context.json` (provenance and `status`) + `samples.csv` (every repetition)
+ `summary.csv` (per point, from verified measured repetitions). It is marked
`status: incomplete` from the moment it exists and becomes `complete` only after the last point
is written, with the SHA-256 of both CSV files in `context.json` (`sha256`), so an interrupted,
failed or edited run is never mistaken for a finished one.
Columns and keys: harness/docs/design.md, "Run directories"; the checks a reader makes:
harness/results/reader.py.
"""
from __future__ import annotations

from dataclasses import dataclass

from harness import REPO_ROOT

# 2: sha256 of samples.csv and summary.csv in context.json; one `dtype` key (not also in `design`);
#    xclbin `format` and `runtime` recorded; the emulator block whenever the xclbin is emulated.
# 3: memcpy columns pattern, txn_bytes, stride_bytes (access patterns from one xclbin).
SCHEMA_VERSION = 3
RUNS_DIR = REPO_ROOT / "results" / "runs"
BENCHES = ("memcpy", "gemm", "latency", "flops", "kernel", "transfer")
MODES = ("hw", "hw_emu", "sw_emu", "emu")
# measured: timed on the card; model: the built-in emulator's modeled clock (harness.model);
# emulation: XRT's hw_emu/sw_emu, whose host times are the simulator's wall clock and whose
# device times (device_time_s) are simulated cycles: checks of a kernel, never a ceiling.
# none: a `bench kernel` run whose spec has no cycle model in --mode emu ("functional only: no
# time"): verified results, no time, never a performance figure.
TIMING_SOURCES = ("measured", "emulation", "model", "none")
CEILING_SOURCES = ("measured", "model")
HASHED_FILES = ("samples.csv", "summary.csv")

# Keys every context.json has (a reader refuses a context without one of them).
CONTEXT_KEYS = ("schema_version", "harness_version", "run_id", "bench", "status", "mode", "timing_source",
                "platform", "design", "dtype", "clock_mhz", "device", "xclbin", "runtime", "started_utc")

# What marks an emulated run. The emulator writes every one of them (device name and BDF, the
# xclbin's format, the runtime module, the `emulator` block), so editing any single field of a
# run's context cannot make it pass as a measurement on a card (reader: `measured` requires none
# of them, plus a real xclbin (format `xclbin2`), the `pyxrt` module and an xclbin UUID).
EMULATED_DEVICE_NAME = "harness-emulated-u280"
EMULATED_BDF_PREFIX = "emulated"
EMU_XCLBIN_FORMAT = "harness-emu-xclbin/1"
EMU_XSA_NAME = "harness_emulated_u280"
REAL_XCLBIN_FORMAT = "xclbin2"          # the magic at the start of every xclbin v++ writes (axlf header)
PYXRT_MODULE = "pyxrt"

COMMON_SAMPLE_COLUMNS = ["run_id", "point", "phase", "repetition", "time_s", "wall_time_s",
                         "h2d_time_s", "d2h_time_s", "verified", "error", "timing_source", "device_time_s"]
TIME_STAT_COLUMNS = ["time_s_median", "time_s_min", "time_s_max", "time_s_p99", "time_s_iqr", "time_s_cv"]


@dataclass(frozen=True)
class BenchSchema:
    """The columns of one bench's samples.csv and summary.csv."""
    name: str
    sample_columns: list           # exactly these, in this order
    summary_keys: list             # what identifies a point (before `point`)
    rate_cols: tuple = ()          # figures per sample with a _best and _median in the summary
    summary_extra: tuple = ()      # summary columns after the common ones
    # Per CU i of the design (its count: cus_of(context)): sample columns cu<i>_<name>, after the
    # bench's own; in the summary cu<i>_<name> for the first (the point's, same in every row) and
    # cu<i>_<name>_median for the rest (verified measured rows), after summary_extra.
    per_cu: tuple = ()
    per_cu_first: tuple = ()

    @property
    def summary_columns(self) -> list:
        return self.summary_columns_for(0)

    def sample_columns_for(self, cus: int) -> list:
        return self.sample_columns + [f"cu{i}_{c}" for i in range(cus) for c in self.per_cu]

    def summary_columns_for(self, cus: int) -> list:
        cols = [*self.summary_keys, "point", "n", "n_verified", "verified", *TIME_STAT_COLUMNS,
                "device_time_s_median"]
        for c in self.rate_cols:
            cols += [f"{c}_best", f"{c}_median"]
        cols += ["timing_source", "errors", *self.summary_extra]
        for i in range(cus):
            cols += [f"cu{i}_{c}" if c in self.per_cu_first else f"cu{i}_{c}_median" for c in self.per_cu]
        return cols


# pattern: seq | stride | random; txn_bytes, stride_bytes: the transactions of stride and random
# points (empty for seq). port_pc: the PC next to the switch port of bw_memcpy_1's port under test
# (in; write: out), or with --port-pc of the one CU driven; target_pc: the PC its buffer lies in
# (every CU's at the same place relative to its own port).
MEMCPY = BenchSchema(
    "memcpy",
    COMMON_SAMPLE_COLUMNS + ["direction", "pcs", "cus", "bytes_per_pc", "kernel_reps", "bytes", "bandwidth_GBps",
                             "model_time_s", "pattern", "txn_bytes", "stride_bytes", "port_pc", "target_pc"],
    ["direction", "pcs", "cus", "bytes_per_pc", "kernel_reps", "model_time_s", "pattern", "txn_bytes",
     "stride_bytes", "port_pc", "target_pc"], ("bandwidth_GBps",))
# cus: the CUs a point launched (a CU given no columns is not launched); per CU: its columns
# (cu<i>_N, 0 when not launched), its time and its rate (2 M K cu<i>_N / cu<i>_time_s).
GEMM = BenchSchema(
    "gemm",
    COMMON_SAMPLE_COLUMNS + ["dtype", "M", "K", "N", "epilogue", "path", "flop", "bytes", "throughput_GFLOPps",
                             "bandwidth_GBps", "gemm_time_s", "epilogue_time_s", "cus"],
    ["dtype", "M", "K", "N", "epilogue", "path"], ("throughput_GFLOPps", "bandwidth_GBps"),
    ("gemm_time_s_median", "epilogue_time_s_median", "flop", "bytes", "cus"),
    per_cu=("N", "time_s", "throughput_GFLOPps"), per_cu_first=("N",))
# The compute-ceiling kernel: F multiply-adds per element over `elements` elements of every CU.
FLOPS = BenchSchema(
    "flops",
    COMMON_SAMPLE_COLUMNS + ["dtype", "flops_per_element", "n_words", "cus", "elements", "flop", "bytes",
                             "oi_FLOPpB", "throughput_GFLOPps", "bandwidth_GBps"],
    ["dtype", "flops_per_element", "n_words", "cus", "oi_FLOPpB"], ("throughput_GFLOPps", "bandwidth_GBps"))
LATENCY = BenchSchema(
    "latency",
    COMMON_SAMPLE_COLUMNS + ["kind", "dtype", "M", "K", "N", "epilogue", "flop", "bytes"],
    ["kind", "dtype", "M", "K", "N", "epilogue"], (),
    # harness.model's prediction per point (not derived from the samples)
    ("predicted_time_s", "pipeline_fill_s", "pipeline_depth_s", "predicted_dispatch_s"))
# `harness bench kernel` (a spec's kernel): the op names a point stands for, its dims, work and the
# spec's cycle model; rates empty when the run is functional only (timing_source 'none').
KERNEL = BenchSchema(
    "kernel",
    COMMON_SAMPLE_COLUMNS + ["kernel", "ops", "dims", "M", "K", "N", "flop", "bytes", "cycles", "predicted_time_s",
                             "throughput_GFLOPps", "bandwidth_GBps"],
    ["kernel", "ops", "dims", "M", "K", "N", "flop", "bytes", "cycles", "predicted_time_s"],
    ("throughput_GFLOPps", "bandwidth_GBps"))
# `harness bench transfer`: one bo.sync() of `bytes` per sample, h2d (XCL_BO_SYNC_BO_TO_DEVICE) or d2h
# (XCL_BO_SYNC_BO_FROM_DEVICE), of a buffer in `bank`; time_s is that sync's time (its direction's
# h2d_time_s or d2h_time_s holds the same, the other 0); model_time_s harness.model.predict_transfer's.
TRANSFER = BenchSchema(
    "transfer",
    COMMON_SAMPLE_COLUMNS + ["direction", "bank", "bytes", "bandwidth_GBps", "model_time_s"],
    ["direction", "bank", "bytes", "model_time_s"], ("bandwidth_GBps",))
SCHEMAS = {s.name: s for s in (MEMCPY, GEMM, LATENCY, FLOPS, KERNEL, TRANSFER)}
# Rates and the sample column each is computed from (rate = work / time_s / 1e9).
RATE_WORK = {"bandwidth_GBps": "bytes", "throughput_GFLOPps": "flop"}


def cus_of(context: dict) -> int:
    """The CUs of a run's per-CU columns: those of its bench's kernel in the design it recorded
    (0 for a bench without per-CU columns)."""
    sch = SCHEMAS.get(context.get("bench"))
    if sch is None or not sch.per_cu:
        return 0
    kern = (((context.get("design") or {}).get("kernels") or {}).get(context["bench"]) or {})
    cus = kern.get("cus")
    return cus if isinstance(cus, int) and not isinstance(cus, bool) and cus >= 0 else 0
