"""Where the emulator's native code runs: device memory, kernel worker processes, buffer operations.

- `Arena`: the emulated device's memory. One sparse shared-memory file (memfd) per
  process, mapped here and in every worker, so a kernel running in a worker reads
  and writes the same bytes the harness syncs. Pages cost memory only once
  touched; a freed buffer's pages are returned at once.
- `Pool`: worker processes (harness/runtime/emu_worker.py), one per core, that
  run kernel calls. CUs launched together run on different cores. A wait has a
  wall-clock deadline; when it passes, or on Ctrl-C, the worker running the
  kernel is killed, so native code never outlives the harness's decision to stop.
  A kernel that crashes fails its run, not the harness.
- `ops()`: fill, compare and copy in native code on every core (emu_ops.c), for
  sync and the buffer operations a verified repetition needs (`BufferOps`,
  harness.runtime.buffers).
"""
from __future__ import annotations

import atexit
import bisect
import collections
import ctypes
import mmap
import os
import pickle
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

from harness.runtime.buffers import BufferOps as _GenericBufferOps
from harness.runtime.buffers import IndexWords

ARENA_BYTES = 1 << 40          # virtual: pages exist only where buffers are touched
ALIGN = 1 << 12


# --------------------------------------------------------------------------- memory
class Arena:
    """Shared device memory with a first-fit allocator (4 KiB aligned).

    A memfd, which a freshly started worker maps; where that file cannot be made that large
    (a file-size limit, RLIMIT_FSIZE, applies to it), anonymous shared memory that workers
    inherit by fork (`fd` is then None)."""

    def __init__(self, nbytes: int = ARENA_BYTES):
        self.size = nbytes
        try:
            self.fd = os.memfd_create("harness-emu-device", 0)
            try:
                os.ftruncate(self.fd, nbytes)
            except OSError:
                os.close(self.fd)
                raise
            self.map = mmap.mmap(self.fd, nbytes)
        except (OSError, AttributeError):
            self.fd = None
            # MAP_NORESERVE (0x4000 on Linux; Python names it from 3.12): pages count once touched
            self.map = mmap.mmap(-1, nbytes, flags=mmap.MAP_SHARED | getattr(mmap, "MAP_NORESERVE", 0x4000))
        self.base = ctypes.addressof(ctypes.c_char.from_buffer(self.map))
        self._free = [(0, nbytes)]          # sorted (offset, size)
        self._lock = threading.Lock()
        self._punch = True                  # freed pages are returned (and read as zeros again)

    def alloc(self, nbytes: int) -> int:
        n = -(-max(1, nbytes) // ALIGN) * ALIGN
        with self._lock:
            for i, (off, size) in enumerate(self._free):
                if size >= n:
                    self._free[i:i + 1] = [(off + n, size - n)] if size > n else []
                    if not self._punch:     # a new buffer starts as zeros, whatever was there before
                        ctypes.memset(self.base + off, 0, n)
                    return off
        raise MemoryError(f"std::bad_alloc: the emulator's device memory is exhausted ({nbytes} bytes)")

    def free(self, off: int, nbytes: int) -> None:
        n = -(-max(1, nbytes) // ALIGN) * ALIGN
        try:   # give the pages back: the next buffer here starts as zeros, like a fresh one
            self.map.madvise(mmap.MADV_REMOVE, off, n)
        except (OSError, ValueError, AttributeError):
            self._punch = False
        with self._lock:
            i = bisect.bisect_left(self._free, (off, 0))
            self._free.insert(i, (off, n))
            # coalesce with the neighbours
            if i + 1 < len(self._free) and off + n == self._free[i + 1][0]:
                self._free[i:i + 2] = [(off, n + self._free[i + 1][1])]
            if i > 0 and self._free[i - 1][0] + self._free[i - 1][1] == self._free[i][0]:
                prev = self._free[i - 1]
                self._free[i - 1:i + 1] = [(prev[0], prev[1] + self._free[i][1])]

    def view(self, off: int, nbytes: int):
        import numpy as np
        return np.frombuffer(self.map, np.uint8, count=nbytes, offset=off)


_arena: Arena | None = None


def arena() -> Arena:
    global _arena
    if _arena is None:
        _arena = Arena()
    return _arena


# --------------------------------------------------------------------------- kernel workers
class Job:
    """One kernel call: queued, then running on a worker, then done (ok or with an error)."""
    __slots__ = ("id", "library", "symbol", "kinds", "args", "keep", "fault", "spans", "done", "error", "worker")

    def __init__(self, jid, library, symbol, kinds, args, keep, fault=0, spans=None):
        self.id, self.library, self.symbol, self.kinds, self.args, self.keep = jid, library, symbol, kinds, args, keep
        self.fault = fault
        self.spans = list(spans) if spans is not None else [0] * len(args)
        self.done, self.error, self.worker = False, None, None


class _Forked:
    """A forked worker's pid with the part of Popen's interface the pool uses."""

    def __init__(self, pid: int):
        self.pid, self.returncode = pid, None

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                self.returncode = 0
                break
            if pid:
                self.returncode = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
                break
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.005)
        return self.returncode


class _Worker:
    def __init__(self, arena_: Arena):
        parent_sock, child_sock = socket.socketpair()
        if arena_.fd is not None:
            script = Path(__file__).with_name("emu_worker.py")
            self.proc = subprocess.Popen(
                [sys.executable, "-I", str(script), str(child_sock.fileno()), str(arena_.fd), str(arena_.size),
                 str(os.getpid())],
                pass_fds=(child_sock.fileno(), arena_.fd), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, close_fds=True)
        else:
            self.proc = _Forked(_fork_worker(child_sock.fileno(), parent_sock.fileno(), arena_.base))
        child_sock.close()
        self.sock = parent_sock
        self.job: Job | None = None
        self.libraries: dict[str, str] = {}       # path -> sha256 loaded there
        self._buf = bytearray()

    def send(self, msg) -> None:
        data = pickle.dumps(msg, protocol=pickle.HIGHEST_PROTOCOL)
        self.sock.sendall(struct.pack("<Q", len(data)) + data)

    def read_message(self):
        """A complete message if one has arrived (call after select), None if not yet; EOFError if gone."""
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise EOFError
        self._buf += chunk
        if len(self._buf) < 8:
            return None
        (size,) = struct.unpack("<Q", self._buf[:8])
        if len(self._buf) < 8 + size:
            return None
        msg = pickle.loads(bytes(self._buf[8:8 + size]))
        del self._buf[:8 + size]
        return msg

    def kill(self) -> None:
        try:
            self.proc.kill()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self.sock.close()

    def exit_reason(self) -> str:
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return "stopped answering"
        if code < 0:
            try:
                return f"was killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"was killed by signal {-code}"
        return f"exited with status {code}"


def _fork_worker(child_fd: int, parent_fd: int, base: int) -> int:
    """Fork a worker that inherits the device memory; in the child, serve and never return."""
    parent = os.getpid()
    pid = os.fork()
    if pid:
        return pid
    try:   # the child: nothing of the harness's but the socket and the inherited mapping
        os.close(parent_fd)
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.closerange(3, child_fd)
        os.closerange(child_fd + 1, os.sysconf("SC_OPEN_MAX") if hasattr(os, "sysconf") else 4096)
        from harness.runtime import emu_worker
        emu_worker.serve(child_fd, base, parent)
    finally:
        os._exit(0)


class Pool:
    """Worker processes that run kernel calls, at most one per core at a time."""

    def __init__(self, size: int | None = None):
        self.size = size or max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                                else (os.cpu_count() or 1))
        self.workers: list[_Worker] = []
        self.queue: collections.deque[Job] = collections.deque()
        self._next = 0

    # -- submitting
    def submit(self, library: str, sha256: str, symbol: str, kinds: str, args: list, keep=(), fault: int = 0,
               spans=None) -> Job:
        """Queue a call of `symbol` (pointer args as arena offsets); `fault`: the in-kernel fault
        code switched on for this call (kernels/common/emu_faults.h), 0 for none; `spans`: bytes of
        each pointer argument's buffer (what a burst_maxi port may address; 0 for scalars)."""
        self._next += 1
        job = Job(self._next, (library, sha256), symbol, kinds, args, keep, fault, spans)
        self.queue.append(job)
        self._pump()
        return job

    def _pump(self) -> None:
        while self.queue:
            w = next((w for w in self.workers if w.job is None), None)
            if w is None:
                if len(self.workers) >= self.size:
                    return
                w = _Worker(arena())
                self.workers.append(w)
            job = self.queue.popleft()
            path, sha = job.library
            if w.libraries.get(path, sha) != sha:
                # the library at this path was rebuilt: a process cannot load a second copy of it
                self._retire(w)
                self.queue.appendleft(job)
                continue
            try:
                w.send(("call", job.id, path, job.symbol, job.kinds, job.args, job.fault, job.spans))
            except OSError:
                self._retire(w)
                self.queue.appendleft(job)
                continue
            w.libraries[path] = sha
            w.job, job.worker = job, w

    def _retire(self, w: _Worker) -> None:
        w.kill()
        if w in self.workers:
            self.workers.remove(w)

    # -- waiting
    def wait(self, job: Job, deadline: float | None) -> bool:
        """Block until `job` is done (True) or the wall-clock `deadline` (time.monotonic) passes
        (False: the job is stopped: its worker killed, or taken off the queue). Ctrl-C stops every
        running kernel at once and re-raises."""
        try:
            while not job.done:
                self._pump()
                busy = [w for w in self.workers if w.job is not None]
                if job.worker is None and job not in self.queue:
                    raise RuntimeError("internal: a kernel call that is neither queued nor running")
                timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
                ready, _, _ = select.select([w.sock for w in busy], [], [], timeout)
                if not ready and deadline is not None and time.monotonic() >= deadline:
                    self.stop(job, "stopped at the wall-clock deadline")
                    return False
                for w in [w for w in busy if w.sock in ready]:
                    self._receive(w)
            return True
        except KeyboardInterrupt:
            self.abort("interrupted")
            raise

    def _receive(self, w: _Worker) -> None:
        try:
            msg = w.read_message()
        except (EOFError, OSError):
            job = w.job
            reason = w.exit_reason()
            self._retire(w)
            if job is not None:
                job.done, job.error = True, f"the native kernel {job.symbol} crashed: its process {reason}"
                job.keep = ()
            return
        if msg is None:
            return
        job = w.job
        w.job = None
        if job is not None and msg[1] == job.id:
            job.done = True
            job.error = msg[2] if msg[0] == "err" else None
            job.keep = ()
            job.worker = None

    def stop(self, job: Job, why: str) -> None:
        """Stop one call now: kill the process running it, or take it off the queue."""
        if job.done:
            return
        if job.worker is not None:
            self._retire(job.worker)
        elif job in self.queue:
            self.queue.remove(job)
        job.done, job.error, job.worker, job.keep = True, why, None, ()

    def abort(self, why: str) -> None:
        """Stop every running and queued kernel call now."""
        for w in list(self.workers):
            if w.job is not None:
                w.job.done, w.job.error, w.job.keep = True, why, ()
                self._retire(w)
        while self.queue:
            j = self.queue.popleft()
            j.done, j.error, j.keep = True, why, ()

    def close(self) -> None:
        for w in list(self.workers):
            self._retire(w)


_pool: Pool | None = None


def pool() -> Pool:
    global _pool
    if _pool is None:
        _pool = Pool()
    return _pool


@atexit.register
def _shutdown() -> None:
    if _pool is not None:
        _pool.close()


# --------------------------------------------------------------------------- buffer operations
_OPS_SOURCE = Path(__file__).with_name("emu_ops.c")


class _Ops:
    """emu_ops.c through ctypes (which releases the GIL, so its threads run on every core)."""

    def __init__(self):
        from harness.designs.native import BUILD_DIR, build_cached
        lib = ctypes.CDLL(str(build_cached([_OPS_SOURCE], ["-O3", "-march=native", "-fPIC", "-shared", "-pthread"],
                                           BUILD_DIR / "ops", "emu_ops")))
        P = ctypes.c_void_p
        self.fill_many = lib.fill_many
        self.fill_many.argtypes = [ctypes.c_int, P, P, ctypes.c_uint64, ctypes.c_int]
        self.compare_many = lib.compare_many
        self.compare_many.argtypes = [ctypes.c_int, P, P, P, P, P, P, ctypes.c_int]
        self.copy_bytes = lib.copy_bytes
        self.copy_bytes.argtypes = [P, P, ctypes.c_size_t, ctypes.c_int]
        self.copy_bytes.restype = None
        self.threads = pool().size


_ops: _Ops | None = None
SYNC_NATIVE_BYTES = 1 << 20     # smaller syncs: numpy's copy costs less than starting threads


def copy(dst_addr: int, src_addr: int, nbytes: int) -> None:
    lib = ops()
    lib.copy_bytes(dst_addr, src_addr, nbytes, lib.threads)


def ops() -> _Ops:
    global _ops
    if _ops is None:
        _ops = _Ops()
    return _ops


# --------------------------------------------------------------------------- buffer operations
_U64, _I64, _PTR = ctypes.c_uint64, ctypes.c_int64, ctypes.c_void_p


def _pcie_s(nbytes: int, direction: str) -> float:
    from harness.runtime import costs
    return costs.pcie_transfer_s(nbytes, direction)


class BufferOps(_GenericBufferOps):
    """The generic buffer operations' results in fewer passes, in native code on every core.

    Both work on the device copy, where the semantics allow: poison writes the word
    straight into device memory (on the card it gets there through the host copy and a
    DMA that costs the host nothing); fetch_compare compares the device copy with the
    expected words in place, so the host copy of an output is left as it was (on the
    card it then holds the fetched output; nothing in a verified repetition reads it,
    and a bench that wants it calls Session.from_device). Both advance the modeled clock
    by the PCIe transfer, as sync does, so transfer times are those of the card.
    """

    def poison(self, items: list, word: int) -> None:
        if not items:
            return
        words = [nbytes // 8 for _, nbytes in items]
        if any(nbytes % 8 or nbytes < 0 or nbytes > b._dev.size for (b, nbytes) in items):
            raise RuntimeError("poison: sizes must be multiples of 8 bytes within the buffer")
        lib, base = ops(), arena().base
        n = len(items)
        dst = (_PTR * n)(*[base + b._arena_off for b, _ in items])
        cnt = (_U64 * n)(*words)
        lib.fill_many(n, dst, cnt, int(word) & 0xFFFFFFFFFFFFFFFF, lib.threads)
        for b, nbytes in items:
            b._dev_obj.now_ns += _pcie_s(nbytes, "h2d") * 1e9

    def fetch_compare(self, items: list) -> list[tuple[int, int]]:
        import numpy as np
        if not items:
            return []
        items = [(*it, 0) if len(it) == 2 else tuple(it) for it in items]
        wants = [w if isinstance(w, IndexWords) else np.ascontiguousarray(np.asarray(w).reshape(-1), dtype=np.uint64)
                 for _, w, _ in items]
        for (b, _, _), w in zip(items, wants):
            if w.size * 8 > b._dev.size:
                raise RuntimeError("sync range exceeds the buffer")
        lib, base = ops(), arena().base
        n = len(items)
        src = (_PTR * n)(*[base + b._arena_off for b, _, _ in items])
        exp = (_PTR * n)(*[None if isinstance(w, IndexWords) else w.ctypes.data for w in wants])
        cnt = (_U64 * n)(*[w.size for w in wants])
        keys = (_U64 * n)(*[int(k) & 0xFFFFFFFFFFFFFFFF for _, _, k in items])
        bad = (_U64 * n)()
        first = (_I64 * n)()
        lib.compare_many(n, src, exp, keys, cnt, bad, first, lib.threads)
        for (b, _, _), w in zip(items, wants):
            b._dev_obj.now_ns += _pcie_s(w.size * 8, "d2h") * 1e9
        return [(int(bad[i]), int(first[i])) for i in range(n)]
