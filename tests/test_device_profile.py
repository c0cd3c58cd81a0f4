"""hw_emu device times from XRT's device trace (fixture files in XRT's VTF text format)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.runtime import profile

FIX = Path(__file__).parent / "fixtures" / "xrt_profile"


def test_trace_files_in_the_order_xrt_wrote_them():
    assert [p.name for p in profile.trace_files(FIX)] == ["device_trace_0.csv", "2-device_trace_0.csv"]


def test_kernel_executions_pair_starts_and_ends_across_dumps():
    ex = profile.executions(FIX)
    assert ex["bw_memcpy_1"] == [(0.12, 0.1805), (0.3, 0.361), (0.5, 0.56)]
    # started in the first dump, ended in the second
    assert ex["bw_memcpy_2"] == [(0.30025, 0.3625), (0.5001, 0.5651)]
    # memory-transfer events of the same rows are not executions
    assert set(ex) == {"bw_memcpy_1", "bw_memcpy_2"}


def test_a_launch_of_several_cus_spans_the_first_start_to_the_last_end():
    log = [["bw_memcpy_1"], ["bw_memcpy_1", "bw_memcpy_2"], ["bw_memcpy_1", "bw_memcpy_2"]]
    times = profile.launch_device_times(profile.executions(FIX), log)
    assert times == pytest.approx([60.5e-6, 62.5e-6, 65.1e-6])


def test_launches_missing_from_the_trace_are_said_to_be_missing(tmp_path):
    shutil.copy(FIX / "device_trace_0.csv", tmp_path)         # the second dump has not come yet
    log = [["bw_memcpy_1"], ["bw_memcpy_1", "bw_memcpy_2"], ["bw_memcpy_1", "bw_memcpy_2"]]
    times, status = profile.collect(tmp_path, log, wait_s=0)
    assert times == [pytest.approx(60.5e-6), None, None]
    assert status["launches_with_device_time"] == 1 and "2 of 3 launches" in status["incomplete"]
    times, status = profile.collect(tmp_path / "nothing", log, wait_s=0)
    assert times == [None, None, None] and "--profile.data" in status["absent"]
