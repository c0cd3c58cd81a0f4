"""The roofline as a library (the README's "Python API"):

    from harness.results.reader import load_runs
    from harness.roofline import analyze
    a = analyze(load_runs([...run directories...]), "smolvla")   # or analyze([paths], "smolvla")
    a.summary            # the answers (roofline.json "summary")
    a.dataframe()        # one row per op and ceiling set (ops.csv columns)
    fig = a.plot()       # the matplotlib Figure

Imports are lazy: importing harness.roofline loads neither pandas nor matplotlib.
"""
from __future__ import annotations

__all__ = ["analyze", "COLUMNS"]

COLUMNS = ["ceiling_set", "stage", "name", "kind", "M", "K", "N", "count", "launches", "element_type",
           "flop", "bytes", "weight_bytes", "in_bytes", "out_bytes", "oi_FLOPpB",
           "time_s", "time_total_s", "time_share", "time_source", "time_detail", "run_id", "bound",
           "attained_GFLOPps", "compute_roof_GFLOPps", "compute_ceiling", "memory_GBps", "memory_ceiling",
           "memory_bottleneck", "kernel_source"]


def analyze(runs, workload=None, **kwargs):
    """The roofline of `workload` ("smolvla", a Workload, or None) from `runs` (Run objects or run
    directories); keyword arguments: precision, derate, platform_name (harness.roofline.analysis.analyze)."""
    from harness.roofline.analysis import analyze as _analyze
    return _analyze(runs, workload, **kwargs)
