"""The repository stands alone: nothing outside tests/ and .ci/ cites a file outside it,
and every harness/docs/*.md that anything cites exists."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
THIS = Path(__file__).resolve().relative_to(ROOT).as_posix()

# Citations of material that lives outside the repository (the reference sheets the
# project was written from, and the read-only binding beside the checkout).
OUTSIDE = re.compile(r"shared/reference|\.\./shared|/work/")
# Names of reference sheets that have no counterpart in harness/docs/.
RETIRED = re.compile(r"\b(?:seed-critique|style-anchors)\.md\b")
DOC_CITE = re.compile(r"harness/docs/[\w.-]+?\.md\b")
# Only tests and CI may use the binding outside the repository.
MAY_CITE_OUTSIDE = ("tests/", ".ci/")


def tracked_files() -> list[str]:
    """Files under version control (a walk of the tree when git is not there)."""
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
        files = [f for f in out.stdout.decode().split("\0") if f]
        if files:
            return files
    except (OSError, subprocess.CalledProcessError):
        pass
    skip = {".git", ".venv", "build", "runs", "__pycache__", ".pytest_cache", ".hypothesis"}
    return [p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*")
            if p.is_file() and not skip.intersection(p.relative_to(ROOT).parts)]


def read_text(rel: str) -> str | None:
    try:
        return (ROOT / rel).read_text(encoding="utf-8")
    except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
        return None          # binary, or deleted in the work tree


def violations(rel: str, text: str, root: Path = ROOT) -> list[str]:
    """What in file `rel` (contents `text`) breaks self-containment, one line each."""
    found = []
    for n, line in enumerate(text.splitlines(), 1):
        if not rel.startswith(MAY_CITE_OUTSIDE):
            for m in OUTSIDE.finditer(line):
                found.append(f"{rel}:{n}: cites {m.group(0)!r}, a path outside the repository")
            for m in RETIRED.finditer(line):
                found.append(f"{rel}:{n}: cites {m.group(0)!r}, which is not in the repository")
        for m in DOC_CITE.finditer(line):
            if not (root / m.group(0)).is_file():
                found.append(f"{rel}:{n}: cites {m.group(0)}, which does not exist")
    return found


def test_nothing_cites_a_file_outside_the_repository():
    found = []
    for rel in tracked_files():
        text = None if rel == THIS else read_text(rel)
        if text is not None:
            found += violations(rel, text)
    assert not found, "\n".join(found)


def test_the_docs_the_project_relies_on_are_there():
    for name in ("published-measurements", "smolvla", "critique", "xrt-and-vitis"):
        assert (ROOT / "harness" / "docs" / f"{name}.md").is_file(), name


# The check must fail on the mistakes it exists for.
SHARED = "shared/" + "reference"


@pytest.mark.parametrize("rel,text", [
    ("README.md", f"figures in `{SHARED}/published-measurements.md`"),
    ("harness/workload/smolvla.py", f"conventions: /work/{SHARED}/smolvla.md"),
    ("harness/data/model_params.toml", 'detail = "see ../' + 'shared/xrt/README.md"'),
    ("harness/roofline/seed.py", '"seed-critique.md: quote"'),
    ("kernels/gemm/README.md", "see style-anchors.md"),
], ids=["readme", "absolute", "binding", "retired-critique", "retired-anchors"])
def test_check_catches_outside_citations(rel, text):
    assert violations(rel, text)


def test_check_catches_a_missing_doc_anywhere():
    missing = "harness/docs/" + "no-such-page.md"
    assert violations("tests/test_x.py", f"# from {missing}")
    assert violations("harness/cli.py", f'help="see {missing}"')
    assert not violations("harness/cli.py", 'help="see harness/docs/smolvla.md"')


def test_tests_and_ci_may_use_the_binding_outside():
    line = "PYTHONPATH=../" + "shared/xrt"
    assert not violations(".ci/run", line)
    assert not violations("tests/test_hw_path.py", line)
    assert violations("Makefile", line)
