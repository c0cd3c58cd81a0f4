"""The `harness` command line. Each subcommand lives in harness/commands/."""
from __future__ import annotations

import argparse
import importlib
import io
import os
import sys

from harness import __version__
from harness.errors import DISK_ERRNOS, RunFailed, UserError

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


def _close_progress() -> None:
    """Clear any progress bar still on the terminal, so a message never glues onto its line."""
    common = sys.modules.get("harness.bench.common")      # loaded only if a bench ran
    if common is None:
        return
    try:
        common.Progress.clear_all()
    except Exception:  # noqa: BLE001 - clearing a bar must never hide the real message
        pass


def _say(message: str) -> None:
    _close_progress()
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        pass
    print(message, file=sys.stderr)


def _silence_stdout() -> None:
    """After a broken pipe (`harness ... | head`): nothing more reaches the closed pipe, not even at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        pass


def _run_dir_note(exc: BaseException) -> str:
    where = getattr(exc, "run_dir", None)
    return f"; the run directory {where} is left marked incomplete" if where else ""


def _use_params(args) -> None:
    """--params FILE: the one switch of the model's parameters (harness.model.data.use_params); a
    command without the option runs with the defaults, even after another in this process."""
    if getattr(args, "params", None) is not None:
        from harness.model import data
        data.use_params(args.params)
    elif "harness.model.data" in sys.modules:
        sys.modules["harness.model.data"].use_params(None)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        _use_params(args)
        if getattr(args, "wants_cli", False):
            rc = int(args.func(args, main) or 0)
        else:
            rc = int(args.func(args) or 0)
        sys.stdout.flush()          # a closed pipe shows up here, not at interpreter exit
        return rc
    except UserError as exc:
        _say(f"error: {exc}")
        return UserError.exit_code
    except RunFailed as exc:
        _say(f"error: {exc}{_run_dir_note(exc)}")
        return RunFailed.exit_code
    except KeyboardInterrupt as exc:
        where = getattr(exc, "run_dir", None)
        _say(f"error: interrupted; the run directory {where} is left marked incomplete" if where else
             "error: interrupted before any run directory was written; nothing was recorded")
        return 130
    except BrokenPipeError:
        _close_progress()
        _silence_stdout()
        return 141                  # as a command killed by SIGPIPE: quiet, the reader went away
    except OSError as exc:
        if exc.errno not in DISK_ERRNOS:
            raise
        name = f" {exc.filename}" if exc.filename else ""
        _say(f"error: cannot write{name} ({exc.strerror}); free some space or choose a writable directory "
             f"(--out){_run_dir_note(exc)}")
        return UserError.exit_code
