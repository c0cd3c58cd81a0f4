"""The emulator behaves like the card where a benchmark can go wrong."""
from __future__ import annotations

import numpy as np
import pytest

from harness.bench import reference
from harness.bench.memcpy import read_checksum, write_pattern
from harness.errors import RunFailed, UserError
from harness.runtime import emulator as xrt

TO = xrt.xclBOSyncDirection.XCL_BO_SYNC_BO_TO_DEVICE
FROM = xrt.xclBOSyncDirection.XCL_BO_SYNC_BO_FROM_DEVICE
DONE = xrt.ert_cmd_state.ERT_CMD_STATE_COMPLETED


@pytest.fixture()
def dev(memcpy_xclbin):
    d = xrt.device(0)
    xb = xrt.xclbin(str(memcpy_xclbin))
    uid = d.load_xclbin(xb)
    return d, uid


def _kernel(dev, cu=1):
    d, uid = dev
    return xrt.kernel(d, uid, f"bw_memcpy:{{bw_memcpy_{cu}}}")


def _bufs(dev, k, nbytes, cu=1):
    """in and out of CU `cu` in its ports' own PCs (HBM[2cu-2], HBM[2cu-1]), placed by memory index:
    the ports reach every PC, so group_id does not name one (test_group_id_of_a_range_port...)."""
    d, _ = dev
    a = xrt.bo(d, nbytes, xrt.bo.normal, 2 * cu - 2)
    b = xrt.bo(d, nbytes, xrt.bo.normal, 2 * cu - 1)
    return a, b


def test_copy_without_sync_gives_stale_data_as_on_the_card(dev):
    k = _kernel(dev)
    a, b = _bufs(dev, k, 4096)
    src = np.arange(512, dtype=np.uint64)
    np.frombuffer(a.map(), np.uint64)[:] = src
    # forgot a.sync(TO): the kernel copies what is in device memory (zeros)
    r = k(a, b, 64, 1, 2)
    assert r.wait() == DONE
    b.sync(FROM, 4096, 0)
    assert not np.frombuffer(b.map(), np.uint64).any()
    a.sync(TO, 4096, 0)
    r = k(a, b, 64, 1, 2)
    r.wait()
    # forgot b.sync(FROM): the host still sees the old contents
    assert not np.frombuffer(b.map(), np.uint64).any()
    b.sync(FROM, 4096, 0)
    assert np.array_equal(np.frombuffer(b.map(), np.uint64), src)


@pytest.mark.parametrize("n_words", [1, 3, 1000])
@pytest.mark.parametrize("reps", [1, 3])
def test_memcpy_modes_match_numpy(dev, n_words, reps):
    k = _kernel(dev, cu=2)
    a, b = _bufs(dev, k, n_words * 64, cu=2)
    data = np.random.default_rng(n_words).integers(0, 2 ** 63, n_words * 8, dtype=np.uint64)
    np.frombuffer(a.map(), np.uint64)[:] = data
    a.sync(TO, a.size(), 0)
    for mode, expect in ((0, read_checksum(data, reps)), (1, write_pattern(n_words, reps)),
                         (2, data ^ reference.memcpy_copy_key(reps))):
        k(a, b, n_words, reps, mode).wait()
        b.sync(FROM, b.size(), 0)
        got = np.frombuffer(b.map(), np.uint64)[:expect.size]
        assert np.array_equal(got, expect), f"mode {mode}"


def test_read_checksum_counts_every_rep_with_its_number():
    data = np.arange(16, dtype=np.uint64)
    assert read_checksum(data, 2).any()
    # not simply reps x one pass: a rep done twice in place of another would give that
    assert not np.array_equal(read_checksum(data, 2), read_checksum(data, 1) * np.uint64(2))
    # nor blind to the order of the words
    assert not np.array_equal(read_checksum(data[::-1].copy(), 1), read_checksum(data, 1))


def test_bank_capacity_is_enforced_per_pc(dev):
    d, _ = dev
    k = _kernel(dev)
    big = xrt.bo(d, 200 << 20, xrt.bo.normal, 0)
    with pytest.raises(MemoryError, match="bad_alloc"):
        xrt.bo(d, 100 << 20, xrt.bo.normal, 0)
    other = xrt.bo(d, 100 << 20, xrt.bo.normal, 1)               # another PC has room
    assert other.size() == 100 << 20
    del big
    xrt.bo(d, 100 << 20, xrt.bo.normal, 0)                       # freed on release


def test_memory_is_allocated_per_buffer_not_up_front(dev):
    import resource
    d, _ = dev
    k = _kernel(dev)
    assert sum(d._bank_used.values()) == 0                       # nothing reserved by opening the device
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    b = xrt.bo(d, 64 << 20, xrt.bo.normal, 0)
    assert d._bank_used["HBM[0]"] == 64 << 20
    # untouched pages are not resident: a 64 MiB buffer does not cost 128 MiB (host + device) up front
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 32 << 10    # KiB
    del b
    assert d._bank_used["HBM[0]"] == 0


def test_a_buffer_in_a_pc_the_port_does_not_reach_is_refused(dev):
    d, _ = dev
    k = _kernel(dev, cu=1)
    a = xrt.bo(d, 4096, xrt.bo.normal, 0)
    ddr = xrt.costs.platform().memory("DDR[0]").index
    wrong = xrt.bo(d, 4096, xrt.bo.normal, ddr)                  # DDR[0]: out reaches HBM[0:31] only
    with pytest.raises(RuntimeError, match="DDR\\[0\\].*HBM\\[0:31\\]\\.1.*copy it to HBM\\[1\\]"):
        k(a, wrong, 64, 1, 2)
    far = xrt.bo(d, 4096, xrt.bo.normal, 17)                     # any PC of the range is reachable
    assert k(a, far, 64, 1, 2).wait() == DONE


def test_group_id_of_a_range_port_is_its_last_bank_like_xrt(dev):
    """XRT 2.13 (tests/test_real_pyxrt.py, the same connectivity) answers group_id of a port on
    HBM[0:31] with 31; with several CUs, the last CU's."""
    d, uid = dev
    k_all = xrt.kernel(d, uid, "bw_memcpy:{bw_memcpy_1,bw_memcpy_3}")
    assert k_all.group_id(0) == 31 and _kernel(dev, cu=2).group_id(1) == 31


def test_scalars_are_converted_like_pyxrt(dev):
    """run.set_arg takes a C++ int (TypeError otherwise); kernel(...) swallows the error, leaving the
    argument unset (tests/test_real_pyxrt.py compares these with XRT's own binding)."""
    k = _kernel(dev)
    r = xrt.run(k)
    for bad in (2 ** 31, 2 ** 40, -2 ** 31 - 1, 1.5, "5"):
        with pytest.raises(TypeError):
            r.set_arg(2, bad)
    assert 2 not in r._args
    r.set_arg(2, -1)                     # 2**32 - 1, as the harness passes it
    assert r._args[2] == 2 ** 32 - 1
    with pytest.raises(TypeError):
        r.wait(2 ** 32)
    with pytest.raises(IndexError):
        r.set_arg(9, 1)


def test_session_passes_unsigned_values_above_2_31_as_the_same_32_bits(memcpy_session):
    s = memcpy_session
    a = s.alloc("bw_memcpy", 0, "in", 4096)
    b = s.alloc("bw_memcpy", 0, "out", 4096)
    r = s.run("bw_memcpy", 0, [a, b, 64, 2 ** 31 + 5, 2, 0, 0, 0, 0])
    assert r._args[3] == 2 ** 31 + 5       # encoded as -(2**31 - 5) for set_arg, the same 32 bits


def test_session_refuses_wide_scalars_and_foreign_buffers(memcpy_session):
    s = memcpy_session
    a = s.alloc("bw_memcpy", 0, "in", 4096)
    b = s.alloc("bw_memcpy", 0, "out", 4096)
    with pytest.raises(UserError, match="32-bit"):
        s.run("bw_memcpy", 0, [a, b, 2 ** 33, 1, 2, 0, 0, 0, 0])
    other = s.alloc("bw_memcpy", 1, "out", 4096)                 # HBM[3]: CU 1's out reaches it too
    s.run("bw_memcpy", 0, [a, other, 64, 1, 2, 0, 0, 0, 0])
    ddr = s.rt.xrt.bo(s.rt.device, 4096, s.rt.xrt.bo.normal, s.mem_index["DDR[0]"])
    with pytest.raises(UserError, match="not in HBM\\[0:31\\]\\.1"):
        s.run("bw_memcpy", 0, [a, ddr, 64, 1, 2, 0, 0, 0, 0])


def test_session_places_a_buffer_in_an_explicit_pc_of_the_ports_range(memcpy_session):
    s = memcpy_session
    b = s.alloc("bw_memcpy", 0, "in", 4096, pc=21)
    assert s.placed_in("bw_memcpy", 0, "in", b) == "HBM[21]"
    assert s.placed_in("bw_memcpy", 0, "in", s.alloc("bw_memcpy", 0, "in", 4096)) == "HBM[0]"   # its own PC
    with pytest.raises(UserError, match="reaches HBM\\[0:31\\]\\.0 .*not HBM\\[32\\]"):
        s.alloc("bw_memcpy", 0, "in", 4096, pc=32)


def test_cus_launched_together_run_concurrently_in_modeled_time(memcpy_session):
    s = memcpy_session
    size = 8 << 20
    runs = []
    for cu in range(4):
        a = s.alloc("bw_memcpy", cu, "in", size)
        b = s.alloc("bw_memcpy", cu, "out", 64)
        runs.append((s.run("bw_memcpy", cu, [a, b, size // 64, 1, 0, 0, 0, 0, 0]), a, b))
    one, _ = s.launch([runs[0][0]], 10_000, "one CU")
    four, _ = s.launch([r for r, _, _ in runs], 10_000, "four CUs")
    assert four == pytest.approx(one, rel=0.05)                 # not 4x: they overlap
    seq = sum(s.launch([r], 10_000, "one at a time")[0] for r, _, _ in runs)
    assert seq == pytest.approx(4 * one, rel=0.05)


def test_transfers_take_modeled_time_apart_from_kernel_time(memcpy_session):
    s = memcpy_session
    a = s.alloc("bw_memcpy", 0, "in", 16 << 20)
    b = s.alloc("bw_memcpy", 0, "out", 64)
    r = s.run("bw_memcpy", 0, [a, b, (16 << 20) // 64, 1, 0, 0, 0, 0, 0])
    alone, _ = s.launch([r], 10_000, "no transfer before")
    assert s.to_device([a]) > 0
    after, _ = s.launch([r], 10_000, "after a 16 MiB transfer")
    assert after == pytest.approx(alone)                         # the DMA is never part of kernel time


@pytest.mark.parametrize("fault,state", [("timeout", "TIMEOUT"), ("error", "ERROR"), ("hang", "TIMEOUT")])
def test_fault_injection_reaches_the_runtime_error_paths(memcpy_session, monkeypatch, fault, state):
    s = memcpy_session
    a = s.alloc("bw_memcpy", 0, "in", 4096)
    b = s.alloc("bw_memcpy", 0, "out", 4096)
    r = s.run("bw_memcpy", 0, [a, b, 64, 1, 2, 0, 0, 0, 0])
    monkeypatch.setenv("HARNESS_EMU_FAULT", fault)
    with pytest.raises(RunFailed, match=state):
        s.launch([r], 100, "faulty")


def test_device_info_is_json_like_pyxrt(dev):
    import json
    d, _ = dev
    assert json.loads(d.get_info(xrt.xrt_info_device.thermal))["emulated"] is True
    assert float(d.get_info(xrt.xrt_info_device.max_clock_frequency_mhz)) > 0
    assert isinstance(d.get_info(xrt.xrt_info_device.name), str)
