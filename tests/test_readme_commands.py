"""Every `harness ...` command line in the README's shell blocks parses with the real CLI parser.

A README that names a flag the CLI does not have (a renamed or removed option) is a broken promise to
the reader; this test fails on it. Optional parts `[...]` are kept (their flags must exist too),
alternatives `a|b` take the first, and `...` standing alone (more of the same) is dropped.
"""
from __future__ import annotations

import re
import shlex

import pytest

from harness import REPO_ROOT
from harness.cli import build_parser

SH_BLOCK = re.compile(r"```sh\n(.*?)```", re.S)


def readme_commands(text: str) -> list[str]:
    cmds = []
    for block in SH_BLOCK.findall(text):
        joined = re.sub(r"\\\n\s*", " ", block)            # continuation lines
        for line in joined.splitlines():
            line = line.split(" #", 1)[0].strip()
            if line.startswith("harness "):
                cmds.append(line)
    return cmds


# Synopsis placeholders that stand for a choice: the first value the CLI accepts.
PLACEHOLDER = {"M": "emu", "MS": "1000", "F": "0.5"}


def argv_of(line: str) -> list[str]:
    line = re.sub(r"\(([^()|]*)\|[^()]*\)", r"\1", line)     # (a | b): the first alternative
    line = line.replace("[", " ").replace("]", " ")
    argv = []
    for w in shlex.split(line)[1:]:
        if w == "|":
            continue
        if w.strip(",") == "...":           # more of the same; after a bare option, one value for it
            if argv and argv[-1].startswith("--"):
                argv.append("RUN_DIR")
            continue
        w = w.split("|", 1)[0]
        argv.append(PLACEHOLDER.get(w, w))
    return argv


COMMANDS = readme_commands((REPO_ROOT / "README.md").read_text())


def test_the_readme_has_harness_commands():
    assert len(COMMANDS) >= 20


@pytest.mark.parametrize("line", COMMANDS)
def test_a_readme_command_parses(line):
    try:
        build_parser().parse_args(argv_of(line))
    except SystemExit as exc:
        pytest.fail(f"README command does not parse (exit {exc.code}): {line}")


def test_the_check_fails_on_a_flag_the_cli_does_not_have():
    with pytest.raises(SystemExit):
        build_parser().parse_args(argv_of("harness predict gemm --shape 8x8x8 --pe 256"))
