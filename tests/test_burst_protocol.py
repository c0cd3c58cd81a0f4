"""The native hls::burst_maxi (kernels/common/native/hls_burst_maxi.h) refuses every break of the
protocol a hardware build relies on, and the emulator fails the launch with the reason."""
from __future__ import annotations

import ctypes

import numpy as np
import pytest

from harness.errors import RunFailed
from native_util import REPO, build, load

SRC = REPO / "tests" / "kernels" / "burst_misuse.cpp"
WORDS = 16


@pytest.fixture(scope="module")
def lib():
    lib = load(build([SRC]))
    lib.burst_misuse.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint, ctypes.c_uint, ctypes.c_uint]
    lib.burst_misuse.restype = None
    lib.harness_emu_call_begin.argtypes = [ctypes.c_uint, ctypes.POINTER(ctypes.c_uint64),
                                           ctypes.POINTER(ctypes.c_uint64)]
    lib.harness_emu_call_begin.restype = None
    lib.harness_emu_call_error.argtypes = []
    lib.harness_emu_call_error.restype = ctypes.c_char_p
    return lib


def call(lib, misuse: int, n: int):
    """Run the kernel as the emulator's worker does (buffer sizes first); (error text, in, out)."""
    src = np.arange(WORDS * 8, dtype=np.uint64).reshape(WORDS, 8)
    out = np.zeros((WORDS, 8), dtype=np.uint64)
    addrs = (ctypes.c_uint64 * 2)(src.ctypes.data, out.ctypes.data)
    sizes = (ctypes.c_uint64 * 2)(src.nbytes, out.nbytes)
    lib.harness_emu_call_begin(2, addrs, sizes)
    lib.burst_misuse(src.ctypes.data, out.ctypes.data, misuse, n, WORDS)
    return lib.harness_emu_call_error().decode(), src, out


def test_a_kernel_that_keeps_the_protocol_passes_and_moves_its_data(lib):
    for n in (1, 3, 4):
        err, src, out = call(lib, 0, n)
        assert err == ""
        acc = sum(int(w) for w in src[:n, 0]) * 2      # lane 0 of the sum of 2 x n words (no carries here)
        assert out[n - 1, 0] == acc + n + n - 1        # the second request's last word wins


MISUSES = {
    1: (4, "more reads than read_request asked for"),
    2: (4, "never read"),
    3: (4, "write_response() with no write request"),
    4: (4, "still waiting for 1 of its 4 elements"),
    5: (4, "more writes than write_request asked for"),
    6: (4, "write_response() was never called"),
    7: (4, "beyond the buffer's 16 elements"),
    8: (1, "3 bursts outstanding; the m_axi pragma allows 2"),
    9: (9, "3 bursts outstanding; the m_axi pragma allows 2"),
    10: (1, "read_request of 0 elements"),
    11: (1, "write_request would make 3 bursts outstanding"),
}


@pytest.mark.parametrize("misuse", list(MISUSES))
def test_every_misuse_is_refused_with_its_reason(lib, misuse):
    n, reason = MISUSES[misuse]
    err, src, out = call(lib, misuse, n)
    assert "hls::burst_maxi protocol error" in err and reason in err, err
    # the next call starts clean (the worker's begin resets the error)
    assert call(lib, 0, 2)[0] == ""


def test_a_dead_port_touches_no_memory(lib):
    """After a violation the call's reads and writes go nowhere (no stray write past a buffer)."""
    err, src, out = call(lib, 5, 4)          # writes one word more than requested
    assert err and (out[4:] == 0).all()


def test_the_emulator_fails_a_launch_whose_kernel_reads_past_its_buffer(memcpy_session):
    """bw_memcpy asked for more words than its input buffer holds: the request is refused and the
    launch fails with the reason (before, the kernel read whatever lay beyond the buffer)."""
    s = memcpy_session
    a = s.alloc("bw_memcpy", 0, "in", 4096)
    b = s.alloc("bw_memcpy", 0, "out", 4096)
    with pytest.raises(RunFailed, match="read_request of elements .* beyond the buffer's 64 elements"):
        s.launch([s.run("bw_memcpy", 0, [a, b, 128, 1, 0, 0, 0, 0, 0])], 10_000, "past the buffer")
    # and with a buffer that holds them, the same launch passes
    s.launch([s.run("bw_memcpy", 0, [a, b, 64, 1, 0, 0, 0, 0, 0])], 10_000, "within the buffer")


def test_a_stride_transaction_that_wraps_is_two_requests_within_the_buffer(memcpy_session):
    """txn 4 words at stride 7 over 64 words: transaction 9 covers words 63, 0, 1, 2. The kernel asks for
    them as two requests, both inside the buffer (one request of 4 words at 63 would be refused)."""
    s = memcpy_session
    a = s.alloc("bw_memcpy", 0, "in", 4096)
    b = s.alloc("bw_memcpy", 0, "out", 4096)
    for mode in (0, 1, 2):
        s.launch([s.run("bw_memcpy", 0, [a, b, 64, 2, mode, 1, 4, 7, 0])], 10_000, "wrapping stride")
