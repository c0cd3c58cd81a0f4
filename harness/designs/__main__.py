"""python -m harness.designs mk | cfg | check | budget | toolchain | report (see files.main)."""
import sys

from harness.designs import budget, reports, toolchain
from harness.designs.files import main

_TOOLS = {"budget": budget.main, "toolchain": toolchain.main, "report": reports.main}
argv = sys.argv[1:]
raise SystemExit(_TOOLS[argv[0]](argv[1:]) if argv and argv[0] in _TOOLS and len(argv) > 1 else main(argv))
