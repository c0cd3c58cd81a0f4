"""`harness --help` and `harness predict` start quickly: the heavy libraries (numpy, pandas,
matplotlib, hls4ml) are imported only by the commands that use them. (Start-up time itself
is a figure of tests/benchmark.py, not a test.)"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("numpy", "pandas", "matplotlib", "hls4ml")
PROBE = """
import json, sys
from harness.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps([m for m in %r if m in sys.modules]), file=sys.stderr)
""" % (HEAVY,)


@pytest.mark.parametrize("argv", [["--help"], ["bench", "memcpy", "--help"], ["predict", "memcpy"],
                                  ["predict", "gemm", "--shape", "64x960x960"], ["predict", "latency"]])
def test_no_heavy_import_before_it_is_needed(argv):
    res = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, timeout=60)
    loaded = json.loads(res.stderr.strip().splitlines()[-1])
    assert loaded == [], f"harness {' '.join(argv)} imported {loaded}"


def test_the_probe_sees_a_heavy_import():
    """The check can fail: a command that does use pandas shows up."""
    res = subprocess.run([sys.executable, "-c", PROBE.replace("main(sys.argv[1:])", "import pandas")],
                         capture_output=True, text=True, timeout=60)
    assert "pandas" in json.loads(res.stderr.strip().splitlines()[-1])
