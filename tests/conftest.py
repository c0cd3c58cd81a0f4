"""Shared fixtures: the emulated builds are made once per session."""
from __future__ import annotations

import os

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.pop("HARNESS_EMU_FAULT", None)


@pytest.fixture(scope="session")
def memcpy_xclbin():
    from harness.designs import load_design
    from harness.designs.native import ensure_built
    return ensure_built(load_design("memcpy"), quiet=True)


@pytest.fixture()
def memcpy_session(memcpy_xclbin):
    from harness.designs import load_design
    from harness.runtime import open_runtime
    from harness.runtime.session import Session
    rt = open_runtime("emu")
    return Session(rt, load_design("memcpy"), memcpy_xclbin)


@pytest.fixture()
def runs_dir(tmp_path):
    d = tmp_path / "runs"
    d.mkdir()
    return d


@pytest.fixture()
def only_run():
    """The single run directory a bench wrote under --out."""
    def find(runs_dir):
        dirs = list(runs_dir.iterdir())
        assert len(dirs) == 1, f"expected one run directory, found {dirs}"
        return dirs[0]
    return find
