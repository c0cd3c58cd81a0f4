"""The timing model: platforms as data, memory bandwidth, GEMM / elementwise time, dispatch,
host transfers.

Used both by `harness predict` and by the emulator (harness.runtime.costs), so
the two always agree. Every parameter is data with a source
(harness/platforms/*.toml, harness/data/model_params.toml, calibrated against
harness/data/calibration.csv). See harness/docs/model.md.
"""
from harness.model.compute import (ElementwisePrediction, GemmPrediction, dispatch_overhead,
                                   dispatch_overhead_s, dispatch_spread, GemmDesign, pcie_transfer, split_columns,
                                   predict_elementwise, predict_flops, predict_gemm,
                                   predict_reference_design)
from harness.model.data import version as model_version
from harness.model.memory import (MEMCPY_PORTS, TARGETS, MemPrediction, predict_memcpy, predict_memcpy_cu,
                                  predict_memcpy_placed, switch_target, target_of, target_pc_for)
from harness.model.transfer import TransferPrediction, predict_transfer
from harness.model.platform import DTYPES, Memory, MemoryGroup, Platform, known_platforms, load_platform

__all__ = ["load_platform", "known_platforms", "Platform", "Memory", "MemoryGroup", "DTYPES",
           "predict_memcpy", "predict_memcpy_cu", "predict_memcpy_placed", "MemPrediction", "switch_target",
           "TARGETS", "target_pc_for", "target_of", "MEMCPY_PORTS", "predict_gemm", "GemmPrediction", "predict_elementwise", "predict_reference_design", "predict_flops",
           "ElementwisePrediction", "dispatch_overhead", "dispatch_overhead_s", "dispatch_spread",
           "pcie_transfer", "predict_transfer", "TransferPrediction", "GemmDesign", "split_columns", "model_version"]
