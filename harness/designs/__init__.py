"""Kernel designs: kernels/designs/*.toml (the only source of every build fact), their native
build for the emulator, and the codes the kernels' scalar arguments take.

`python -m harness.designs mk | cfg NAME` renders the Makefile fragment and the v++ connectivity
file; `python -m harness.designs.native [DESIGN ...]` builds the designs natively.
"""
from harness.designs.files import (DESIGNS_DIR, KERNELS_DIR, Arg, Bank, Design, Kernel, all_designs, design_names, list_designs,
                                   load_design, parse_bank, parse_cfg)

__all__ = ["DESIGNS_DIR", "KERNELS_DIR", "Arg", "Bank", "Design", "Kernel", "all_designs", "design_names", "list_designs", "load_design",
           "parse_bank", "parse_cfg"]
