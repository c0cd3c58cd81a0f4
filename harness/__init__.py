"""Benchmark harness for the Alveo U280: measured ceilings for the smolVLA roofline."""

__version__ = "0.1.0"

import pathlib as _pathlib

# The repository root (kernels/, build/, results/ live there). The package is
# installed editable, so this is the checkout the user is working in.
REPO_ROOT = _pathlib.Path(__file__).resolve().parent.parent
