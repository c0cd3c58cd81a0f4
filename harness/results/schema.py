"""The run-directory schema: what a run directory holds and which version of it this harness reads.

A run directory is `context.json` (provenance and `status`) + `samples.csv` (every repetition)
+ `summary.csv` (per point, from verified measured repetitions). It is marked
`status: incomplete` from the moment it exists and becomes `complete` only after the last point
is written, so an interrupted or failed run is never mistaken for a finished one.
Columns and keys: harness/docs/design.md, "Run directories".
"""
from __future__ import annotations

from harness import REPO_ROOT

SCHEMA_VERSION = 1
RUNS_DIR = REPO_ROOT / "results" / "runs"
BENCHES = ("memcpy", "gemm", "latency", "kernel")
# measured: timed on the card; model: the built-in emulator's modeled clock (harness.model);
# emulation: XRT's hw_emu/sw_emu, whose host times are the simulator's wall clock and whose
# device times (device_time_s) are simulated cycles: checks of a kernel, never a ceiling.
# none: a `bench kernel` run whose spec has no cycle model in --mode emu ("functional only: no
# time"): verified results, no time, never a performance figure.
TIMING_SOURCES = ("measured", "emulation", "model", "none")
CEILING_SOURCES = ("measured", "model")
