"""A worker process of the emulator: runs native kernels, one call at a time.

Started by harness.runtime.emu_native as `python -I emu_worker.py SOCK_FD ARENA_FD ARENA_BYTES
PARENT_PID`, or (where the device memory cannot be a file) forked, running `serve`. Kernels run here, not in the harness's process, so that a timeout
or Ctrl-C stops them at once (the harness kills this process) and a kernel that
crashes (SIGSEGV, SIGBUS) fails its run instead of the harness.

Device memory is the emulator's shared arena (a memfd), mapped here too: a pointer
argument arrives as an offset into it. Messages are length-prefixed pickles over a
Unix socket: ("call", job, library, symbol, argkinds, args, fault, spans) -> ("ok", job) or
("err", job, text); `fault` is the in-kernel fault code switched on for that call
(the library's `harness_emu_fault_<symbol>`, kernels/common/emu_faults.h), 0 for none;
`spans` the bytes of each pointer argument's buffer, which a library with hls::burst_maxi ports
(kernels/common/native/hls_burst_maxi.h) is told before the call (harness_emu_call_begin) so it
can refuse requests beyond them; its protocol error, if any (harness_emu_call_error), fails the call.
Standard library only, so it starts in a few milliseconds.
"""
import ctypes
import mmap
import os
import pickle
import signal
import socket
import struct
import sys


def _recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return bytes(buf)


def _send(sock, msg):
    data = pickle.dumps(msg, protocol=pickle.HIGHEST_PROTOCOL)
    sock.sendall(struct.pack("<Q", len(data)) + data)


def _protocol(lib):
    """(begin, error) of a library whose kernels check the burst_maxi protocol, else None."""
    try:
        begin, error = lib.harness_emu_call_begin, lib.harness_emu_call_error
    except AttributeError:
        return None
    begin.restype, error.restype = None, ctypes.c_char_p
    begin.argtypes = [ctypes.c_uint, ctypes.POINTER(ctypes.c_uint64), ctypes.POINTER(ctypes.c_uint64)]
    error.argtypes = []
    return begin, error


def main(argv):
    sock_fd, arena_fd, arena_bytes, parent = (int(x) for x in argv[1:5])
    arena = mmap.mmap(arena_fd, arena_bytes)
    return serve(sock_fd, ctypes.addressof(ctypes.c_char.from_buffer(arena)), parent)


def serve(sock_fd: int, base: int, parent: int) -> int:
    """The worker's loop: `base` is the address of the device memory in this process."""
    # Ctrl-C reaches the whole process group: the harness decides, and kills this process.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:   # die with the harness (PR_SET_PDEATHSIG = 1), even in the middle of a kernel
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        return 0
    sock = socket.socket(fileno=sock_fd)
    libs, fns = {}, {}
    while True:
        try:
            (size,) = struct.unpack("<Q", _recv_exact(sock, 8))
            msg = pickle.loads(_recv_exact(sock, size))
        except (EOFError, OSError):
            return 0
        if msg[0] == "quit":
            return 0
        _, job, lib, symbol, kinds, args, fault, spans = msg
        try:
            entry = fns.get((lib, symbol))
            if entry is None:
                if lib not in libs:
                    libs[lib] = ctypes.CDLL(lib)
                fn = getattr(libs[lib], symbol)
                fn.restype = None
                fn.argtypes = [ctypes.c_void_p if k == "p" else ctypes.c_uint32 for k in kinds]
                try:
                    selector = ctypes.c_int.in_dll(libs[lib], f"harness_emu_fault_{symbol}")
                except ValueError:      # a kernel without fault hooks
                    selector = None
                entry = fns[(lib, symbol)] = (fn, selector, _protocol(libs[lib]))
            fn, selector, protocol = entry
            if selector is not None:
                selector.value = fault
            elif fault:
                raise RuntimeError(f"{symbol} has no fault hooks, yet fault {fault} was asked for")
            values = [base + a if k == "p" else a for k, a in zip(kinds, args)]
            if protocol is not None:
                ptrs = [(v, n) for k, v, n in zip(kinds, values, spans) if k == "p"]
                protocol[0](len(ptrs), (ctypes.c_uint64 * len(ptrs))(*[v for v, _ in ptrs]),
                            (ctypes.c_uint64 * len(ptrs))(*[n for _, n in ptrs]))
            fn(*values)
            error = protocol[1]() if protocol is not None else None
            reply = ("err", job, error.decode(errors="replace")) if error else ("ok", job)
        except Exception as exc:  # noqa: BLE001 - any failure is the run's, reported to the harness
            reply = ("err", job, f"{type(exc).__name__}: {exc}")
        try:
            _send(sock, reply)
        except OSError:
            return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
