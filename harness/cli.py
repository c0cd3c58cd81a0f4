"""The `harness` command line. Each subcommand lives in harness/commands/."""
from __future__ import annotations

import argparse
import importlib
import sys

from harness import __version__
from harness.errors import RunFailed, UserError

# Subcommand modules, each with register(subparsers) that sets `func` on its parser.
COMMANDS = ["bench", "roofline", "plot", "compare", "workload", "predict", "info", "demo"]


class _OneLineErrors(argparse.ArgumentParser):
    """Bad arguments: one line that says what to do, exit code 2 (argparse prints usage too)."""

    def error(self, message: str):
        self.exit(2, f"error: {message}; see `{self.prog} --help`\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineErrors(
        prog="harness",
        description="Measure HBM bandwidth, compute throughput and latency on an Alveo U280 "
        "(or its emulator) and draw the smolVLA roofline from the measurements.",
    )
    parser.add_argument("--version", action="version", version=f"harness {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"harness.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        if getattr(args, "wants_cli", False):
            return int(args.func(args, main) or 0)
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return UserError.exit_code
    except RunFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return RunFailed.exit_code
    except KeyboardInterrupt:
        print("error: interrupted; the run directory is left marked incomplete", file=sys.stderr)
        return 130
