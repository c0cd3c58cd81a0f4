"""Native kernels in worker processes: stopped at once on a deadline or Ctrl-C, crashes contained,
libraries checked before loading, compiler failures named, buffer operations exact."""
from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from harness.designs import load_design, native
from harness.errors import RunFailed, UserError
from harness.runtime import emu_native, open_runtime
from harness.runtime.buffers import BufferOps as GenericOps
from harness.runtime.buffers import IndexWords
from harness.runtime.session import Session

FOREVER = 2 ** 32 - 1          # in-kernel repetitions: hours of native work


def _busy_workers():
    pool = emu_native.pool()
    return [w for w in pool.workers if w.job is not None]


def _long_runs(sess, cus=1):
    runs = []
    for cu in range(cus):
        a = sess.alloc("bw_memcpy", cu, "in", 1 << 20)
        b = sess.alloc("bw_memcpy", cu, "out", 64)
        runs.append(sess.run("bw_memcpy", cu, [a, b, (1 << 20) // 64, FOREVER, 0, 0, 0, 0, 0]))
    return runs


def test_the_timeout_stops_native_code_at_once(memcpy_session, monkeypatch):
    """wait(ms) bounds the host time of the native run too: past it the worker is killed."""
    from harness.runtime import costs
    s = memcpy_session
    monkeypatch.setattr(costs, "kernel_time_s", lambda *a: 1e-6)      # modeled: a microsecond
    runs = _long_runs(s, cus=3)           # more CUs than cores: some wait in the queue
    t0 = time.monotonic()
    with pytest.raises(RunFailed, match="TIMEOUT; no completion within 500 ms.*still running on the host"):
        s.launch(runs, 500, "forever")
    assert time.monotonic() - t0 < 5
    assert not _busy_workers() and not emu_native.pool().queue


def test_a_run_given_up_on_in_modeled_time_stops_its_native_call(memcpy_session):
    s = memcpy_session
    t0 = time.monotonic()
    with pytest.raises(RunFailed, match="TIMEOUT"):
        s.launch(_long_runs(s), 100, "modeled for years")
    assert time.monotonic() - t0 < 5
    assert not _busy_workers()


def test_ctrl_c_stops_the_kernel_and_raises(memcpy_session):
    s = memcpy_session
    runs = _long_runs(s)
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    t0 = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            s.launch(runs, 10 ** 9, "forever")
    finally:
        timer.cancel()
    assert time.monotonic() - t0 < 5
    assert not _busy_workers()
    # the device still works afterwards (a fresh worker)
    a = s.alloc("bw_memcpy", 0, "in", 4096)
    b = s.alloc("bw_memcpy", 0, "out", 4096)
    np.frombuffer(a.map(), np.uint64)[:] = np.arange(512, dtype=np.uint64)
    s.to_device([a])
    s.launch([s.run("bw_memcpy", 0, [a, b, 64, 1, 2, 0, 0, 0, 0])], 10_000, "after")
    _, [(bad, _)] = s.fetch_compare([(b, np.arange(512, dtype=np.uint64))])
    assert bad == 0


def _fake_design_dir(tmp_path, memcpy_xclbin, library: Path, sha: str | None = None) -> Path:
    """A copy of the memcpy emulated xclbin that points at another library."""
    src = Path(memcpy_xclbin)
    desc = json.loads(src.read_text())
    shutil.copy(src.parent / desc["cfg"], tmp_path / desc["cfg"])
    shutil.copy(library, tmp_path / library.name)
    desc["library"] = library.name
    desc["library_sha256"] = sha if sha is not None else native.file_sha256(library)
    x = tmp_path / "memcpy.emu.xclbin"
    x.write_text(json.dumps(desc))
    return x


def test_a_kernel_that_crashes_fails_its_run_not_the_harness(tmp_path, memcpy_xclbin):
    src = tmp_path / "crash.c"
    src.write_text('extern "C" void bw_memcpy(void* a, void* b, unsigned n, unsigned r, unsigned m) '
                   '{ *(volatile int*)0 = 1; }\n')
    lib = native.build_cached([src], ["-O1", "-fPIC", "-shared"], tmp_path / "build", "crash")
    sess = Session(open_runtime("emu"), load_design("memcpy"), _fake_design_dir(tmp_path, memcpy_xclbin, lib))
    a = sess.alloc("bw_memcpy", 0, "in", 4096)
    b = sess.alloc("bw_memcpy", 0, "out", 4096)
    with pytest.raises(RunFailed, match="ERROR.*crashed.*SIGSEGV"):
        sess.launch([sess.run("bw_memcpy", 0, [a, b, 64, 1, 2, 0, 0, 0, 0])], 10_000, "crash")


@pytest.mark.parametrize("damage", ["truncate", "flip", "foreign"])
def test_a_damaged_library_is_refused_before_loading(tmp_path, memcpy_xclbin, damage):
    desc = json.loads(Path(memcpy_xclbin).read_text())
    lib = tmp_path / "orig" / desc["library"]
    lib.parent.mkdir()
    shutil.copy(Path(memcpy_xclbin).parent / desc["library"], lib)
    x = _fake_design_dir(tmp_path, memcpy_xclbin, lib, sha=desc["library_sha256"])
    target = tmp_path / lib.name
    data = target.read_bytes()
    if damage == "truncate":
        target.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        target.write_bytes(data[:100] + bytes([data[100] ^ 1]) + data[101:])
    else:
        shutil.copy(native.build_cached([Path(__file__).parents[1] / "harness" / "runtime" / "emu_ops.c"],
                                        ["-O1", "-fPIC", "-shared", "-pthread"], tmp_path / "b", "x"), target)
    with pytest.raises(UserError, match="does not match the SHA-256.*make emu"):
        Session(open_runtime("emu"), load_design("memcpy"), x)


def test_a_corrupted_build_is_rebuilt_not_called_up_to_date(tmp_path, monkeypatch, capsys, memcpy_xclbin):
    design = load_design("memcpy")
    shutil.copytree(Path(memcpy_xclbin).parent, tmp_path / "emu",
                    ignore=shutil.ignore_patterns("plain", "ops", "contracting", ".build-*"))
    monkeypatch.setattr(native, "BUILD_DIR", tmp_path / "emu")
    lib = native.paths(design)["library"]
    before = lib.stat().st_mtime_ns
    x = native.ensure_built(design, quiet=True)
    assert lib.stat().st_mtime_ns == before               # the copy is up to date: nothing rebuilt
    good = native.file_sha256(lib)
    lib.write_bytes(lib.read_bytes()[:1000])            # truncated
    assert native.ensure_built(design, quiet=True) == x
    assert "does not match the SHA-256" in capsys.readouterr().err
    assert native.file_sha256(lib) == good                # rebuilt: same compiler, same bits
    assert json.loads(x.read_text())["library_sha256"] == good


def _script(tmp_path, name: str, body: str) -> str:
    p = tmp_path / name
    p.write_text("#!/bin/sh\n" + body)
    p.chmod(p.stat().st_mode | stat.S_IEXEC)
    return str(p)


@pytest.mark.parametrize("body,needle", [
    ("exit 1\n", "is not a working C++ compiler"),
    ('echo "cc1: fatal error: out of cheese" >&2; exit 3\n', "out of cheese"),
    ('if [ "$1" = --version ]; then echo "fakecc 1.0"; exit 0; fi\n'
     'echo "x.cpp:1: error: boom" >&2; exit 1\n', "exited with status 1: x.cpp:1: error: boom"),
    ('if [ "$1" = --version ]; then echo "fakecc 1.0"; exit 0; fi\necho "compiled, honest"\n',
     "wrote no shared library (it printed compiled, honest)"),
])
def test_a_compiler_that_fails_or_is_not_one_is_named_with_its_output(tmp_path, monkeypatch, body, needle):
    monkeypatch.setattr(native, "BUILD_DIR", tmp_path / "emu")
    monkeypatch.setattr(native, "CXX", _script(tmp_path, f"cc{abs(hash(body))}", body))
    with pytest.raises(UserError) as exc:
        native.ensure_built(load_design("memcpy"), quiet=True)
    msg = str(exc.value)
    assert needle in msg and "\n" not in msg
    assert not (tmp_path / "emu" / "libmemcpy.so").exists()


def test_a_missing_compiler_says_how_to_get_one(monkeypatch):
    monkeypatch.setattr(native, "CXX", "no-such-compiler-xyz")
    with pytest.raises(UserError, match="not found; install g\\+\\+"):
        native.compiler_identity()


# ------------------------------------------------------------------ device memory
@pytest.mark.parametrize("punch", [True, False])
def test_device_memory_never_overlaps_and_starts_as_zeros(punch):
    arena = emu_native.Arena(64 << 20)
    arena._punch = punch
    rng = np.random.default_rng(1)
    live = {}
    for step in range(300):
        if live and rng.random() < 0.45:
            off = list(live)[int(rng.integers(len(live)))]
            arena.free(off, live.pop(off))
            continue
        n = int(rng.integers(1, 3 << 20))
        try:
            off = arena.alloc(n)
        except MemoryError:
            continue
        view = arena.view(off, n)
        assert not view.any(), f"step {step}: a new buffer holds old data"
        view[:] = 0xA5
        for o, m in live.items():
            assert off + n <= o or o + m <= off, f"step {step}: buffers overlap"
        live[off] = n
    for off, n in list(live.items()):
        arena.free(off, n)
    assert arena._free == [(0, 64 << 20)]                 # everything coalesced back


# ------------------------------------------------------------------ buffer operations
def _ops_pair(memcpy_session):
    s = memcpy_session
    return s, [("emulator", s.rt.buffers), ("generic", GenericOps(s.rt.xrt))]


@pytest.mark.parametrize("words", [1, 7, 64, 65, 200_003])
def test_poison_and_fetch_compare_agree_in_both_implementations(memcpy_session, words):
    s, impls = _ops_pair(memcpy_session)
    rng = np.random.default_rng(words)
    for name, ops in impls:
        b = s.alloc("bw_memcpy", 0, "out", words * 8 + 64)
        ops.poison([(b, words * 8)], 0xDEADBEEFDEADBEEF)
        want = np.full(words, 0xDEADBEEFDEADBEEF, np.uint64)
        assert ops.fetch_compare([(b, want)]) == [(0, -1)], name
        # the device copy is what a kernel left: change some words there, then compare
        dev = np.frombuffer(b._dev, np.uint64, count=words)
        bad = sorted(set(rng.integers(0, words, size=min(words, 5)).tolist()))
        dev[bad] = 1
        assert ops.fetch_compare([(b, want)]) == [(len(bad), bad[0])], name
        # and what a kernel wrote differently from the expected words, wherever it is
        dev[:] = want
        dev[-1] ^= np.uint64(1 << 63)
        assert ops.fetch_compare([(b, want)]) == [(1, words - 1)], name
        # words that must be their own index, under a key
        key = 0x0123456789ABCDEF
        dev[:] = np.arange(words, dtype=np.uint64) ^ np.uint64(key)
        assert ops.fetch_compare([(b, IndexWords(words), key)]) == [(0, -1)], name
        dev[words // 2] ^= np.uint64(4)
        assert ops.fetch_compare([(b, IndexWords(words), key)]) == [(1, words // 2)], name
        assert ops.fetch_compare([(b, IndexWords(words), 0)])[0][0] == words, name     # no key: all differ


def test_poison_reaches_the_device_copy_the_kernel_reads(memcpy_session):
    s = memcpy_session
    a = s.alloc("bw_memcpy", 0, "in", 4096)
    b = s.alloc("bw_memcpy", 0, "out", 4096)
    s.poison([(a, 4096)], 0x0123456789ABCDEF)
    s.launch([s.run("bw_memcpy", 0, [a, b, 64, 1, 2, 0, 0, 0, 0])], 10_000, "copy poison")
    _, [(bad, _)] = s.fetch_compare([(b, np.full(512, 0x0123456789ABCDEF, np.uint64))])
    assert bad == 0


def test_under_a_file_size_limit_device_memory_is_shared_by_fork(tmp_path, memcpy_xclbin):
    """RLIMIT_FSIZE forbids the 1 TiB sparse memfd: the emulator falls back to anonymous shared
    memory and forked workers, and every repetition still runs and verifies."""
    import resource

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 << 20, 64 << 20))
    res = subprocess.run([sys.executable, "-m", "harness", "bench", "memcpy", "--mode", "emu", "--sizes", "4K,1M",
                          "--pcs", "4", "--direction", "read,write,copy", "--warmup", "1", "--repeats", "2",
                          "--out", str(tmp_path)], preexec_fn=limit, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    probe = subprocess.run([sys.executable, "-c", "from harness.runtime import emu_native as e; "
                            "print(e.arena().fd is None)"], preexec_fn=limit, capture_output=True, text=True)
    assert probe.stdout.strip() == "True"
    (run,) = tmp_path.iterdir()
    import pandas as pd
    s = pd.read_csv(run / "samples.csv")
    assert len(s) == 3 * 2 * 3 and s["verified"].all()
