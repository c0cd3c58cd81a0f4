"""The speed figures of issue 14, printed with the machine they were taken on (`make bench`).

Not a test: nothing here passes or fails on time. Each figure is printed beside its
target so a reader can judge, and every figure depends on the machine and on what
else runs on it (the load average is printed before and after).

    python tests/benchmark.py [--only memcpy,sweep,switch,startup,gemm,clone] [--reps N]

memcpy   emulated memcpy per repetition (everything in a repetition: poison, launch,
         fetch, compare, the sample) against single-thread np.copyto, at 64 MiB per
         PC on 2, 4 and 16 PCs, each direction. Counted bytes per second of host time.
sweep    the default emulated sweep (`harness bench memcpy --mode emu`): time, peak memory.
switch   the emulated port PC x target PC matrix (`--direction read,write --port-pc all --target-pc
         all`, 2 x 16 x 32 points at the defaults) and its heat map (`harness plot`).
startup  `harness --help` and `harness predict` start-up, best of 5.
gemm     the native fp32 GEMM kernel against single-thread numpy matmul.
clone    fresh clones, empty package caches: `make demo` in one (virtual environment
         included), `make test` twice in another (the first makes the environment and
         every native build, the second reuses them).
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")     # numpy's single-thread rate is the yardstick
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

MiB = 1 << 20


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{cpu}, {cores} cores, {mem:.0f} GiB, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, {_cxx()}")


def _cxx() -> str:
    try:
        return subprocess.run([os.environ.get("CXX", "g++"), "--version"], capture_output=True,
                              text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        return "no g++"


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def row(name: str, value: str, target: str = "") -> None:
    print(f"  {name:<44} {value:<26} {target}", flush=True)


# ------------------------------------------------------------------------------- memcpy
def copyto_rate(nbytes: int = 64 * MiB, reps: int = 7) -> float:
    """Single-thread np.copyto of nbytes, B/s (median of reps, after a warm-up)."""
    a = np.random.default_rng(1).integers(0, 255, nbytes, dtype=np.uint8)
    b = np.empty_like(a)
    np.copyto(b, a)
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        np.copyto(b, a)
        ts.append(time.perf_counter() - t)
    return nbytes / float(np.median(ts))


def bench_memcpy(reps: int) -> None:
    from harness.bench import memcpy as mc
    from harness.bench.common import Progress, RunOptions

    class Stamps(Progress):
        """Records when each repetition ends (the benchmark's clock, not the bench's)."""

        def __init__(self, *a, **k):
            super().__init__(*a, stream=open(os.devnull, "w"), tty=False, **k)
            self.stamps: list[float] = []

        def point(self, label):
            self.stamps.append(time.perf_counter())
            super().point(label)

        def update(self, weight=1.0):
            self.stamps.append(time.perf_counter())
            super().update(weight)

    print(f"emulated memcpy, 64 MiB per PC, median of {reps} measured repetitions after 1 warm-up "
          "(target: >= 0.40x np.copyto)")
    out = tempfile.mkdtemp(prefix="harness-bench-")
    try:
        for direction in ("read", "write", "copy"):
            for pcs in (2, 4, 16):
                pt = mc.MemcpyPoint(direction, pcs, 64 * MiB, mc.auto_kernel_reps(64 * MiB))
                plan = mc.MemcpyPlan([pt], RunOptions(mode="emu", warmup=1, repeats=reps, out=out))
                before = copyto_rate()
                bar = Stamps(1.0, "bench")
                t0 = time.perf_counter()
                res = mc.run(plan, bar=bar)
                total = time.perf_counter() - t0
                after = copyto_rate()
                if not res.summary["verified"].all():
                    row(f"{direction} {pcs} PCs", "NOT VERIFIED")
                    continue
                # stamps: point start, then one per repetition; the first interval holds the set-up
                per_rep = np.diff(bar.stamps[1:])
                rep_s = float(np.median(per_rep))
                counted = pt.cus * pt.bytes_per_pc * pt.kernel_reps * (2 if direction == "copy" else 1)
                ref = float(np.median([before, after]))
                ratio = counted / rep_s / ref
                row(f"{direction} {pcs} PCs ({pt.cus} CU{'s' if pt.cus > 1 else ''})",
                    f"{ratio:.2f}x  ({counted / rep_s / 1e9:.2f} GB/s)",
                    f"copyto {ref / 1e9:.2f} GB/s; {rep_s * 1e3:.0f} ms/rep; set-up "
                    f"{bar.stamps[1] - bar.stamps[0]:.2f} s; run {total:.1f} s")
    finally:
        shutil.rmtree(out, ignore_errors=True)


# ------------------------------------------------------------------------------- sweep
SWEEP = """
import runpy, sys
sys.argv = ["harness", "bench", "memcpy", "--mode", "emu", "--out", sys.argv[1]]
try:
    runpy.run_module("harness", run_name="__main__")
except SystemExit:
    pass
# VmHWM: this process's peak (ru_maxrss would start from the parent's at fork)
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(f"PEAK {hwm}", file=sys.stderr)
"""


def bench_sweep() -> None:
    out = tempfile.mkdtemp(prefix="harness-bench-")
    try:
        t0 = time.perf_counter()
        res = subprocess.run([sys.executable, "-c", SWEEP, out], cwd=REPO, capture_output=True, text=True)
        dt = time.perf_counter() - t0
        peak = next((int(ln.split()[1]) / 1024 for ln in res.stderr.splitlines() if ln.startswith("PEAK ")), 0.0)
        note = next((ln for ln in res.stderr.splitlines() if "default sizes stop" in ln), "")
        print("default emulated sweep (`harness bench memcpy --mode emu`)")
        row("time", f"{dt:.1f} s" + ("" if res.returncode == 0 else f" (exit {res.returncode})"))
        row("peak memory (VmHWM)", f"{peak:.0f} MiB", "target: within 2 GiB")
        if note:
            row("sizes", note.split("note: emulated: ", 1)[-1][:60] + "...")
    finally:
        shutil.rmtree(out, ignore_errors=True)


def bench_switch() -> None:
    out = Path(tempfile.mkdtemp(prefix="harness-bench-"))
    try:
        cmd = [sys.executable, "-m", "harness", "bench", "memcpy", "--mode", "emu", "--direction", "read,write",
               "--port-pc", "all", "--target-pc", "all", "--out", str(out / "runs")]
        t0 = time.perf_counter()
        res = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
        dt = time.perf_counter() - t0
        print("emulated port PC x target PC matrix (`harness bench memcpy --mode emu --direction read,write "
              "--port-pc all --target-pc all`)")
        row("run", f"{dt:.1f} s" + ("" if res.returncode == 0 else f" (exit {res.returncode})"),
            "target: a minute or two")
        runs = list((out / "runs").iterdir()) if (out / "runs").exists() else []
        if runs:
            t0 = time.perf_counter()
            res = subprocess.run([sys.executable, "-m", "harness", "plot", str(runs[0]), "--out", str(out / "plot")],
                                 cwd=REPO, capture_output=True, text=True)
            row("harness plot (both PNGs)", f"{time.perf_counter() - t0:.1f} s"
                + ("" if res.returncode == 0 else f" (exit {res.returncode})"))
    finally:
        shutil.rmtree(out, ignore_errors=True)


# ------------------------------------------------------------------------------- startup
def bench_startup() -> None:
    print("start-up, best of 5 (target: under 0.3 s)")
    for argv in (["--help"], ["predict", "memcpy"]):
        ts = []
        for _ in range(5):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "harness", *argv], cwd=REPO, capture_output=True)
            ts.append(time.perf_counter() - t0)
        row(f"harness {' '.join(argv)}", f"{min(ts):.3f} s")


# ------------------------------------------------------------------------------- gemm
def bench_gemm() -> None:
    from harness.bench import gemm as gb
    from harness.bench.common import RunOptions
    from harness.runtime import open_runtime
    from harness.runtime.session import Session
    from harness.designs.native import ensure_built

    print("native fp32 GEMM kernel (emulator) against single-thread numpy matmul")
    design = gb.load_gemm_design("fp32")
    rt = open_runtime("emu", announce=lambda *_: None)
    sess = Session(rt, design, ensure_built(design, quiet=True))
    for M, K, N in ((64, 960, 960), (50, 720, 2048)):
        case = gb.GemmCase(sess, "fp32", M, K, N, "none", "gemm", gb.shape_rng(M, K, N), opts=RunOptions())
        case.launch()
        ts = []
        for _ in range(3):
            t0 = time.perf_counter()
            sess.launch(case.runs[0], 600_000, "bench")        # the gemm stage, every CU
            ts.append(time.perf_counter() - t0)
        native = 2 * M * K * N / min(ts) / 1e9
        a, b = case.A, case.B
        ts = []
        for _ in range(5):
            t0 = time.perf_counter()
            a @ b
            ts.append(time.perf_counter() - t0)
        ref = 2 * M * K * N / min(ts) / 1e9
        row(f"{M}x{K}x{N}", f"{native:.2f} GFLOP/s = {native / ref:.2f}x", f"numpy {ref:.1f} GFLOP/s")


# ------------------------------------------------------------------------------- clone
def _timed(cmd: list[str], cwd: Path, env: dict) -> tuple[float, int, str]:
    t0 = time.perf_counter()
    res = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    return time.perf_counter() - t0, res.returncode, (res.stdout + res.stderr)[-2000:]


def bench_clone() -> None:
    print("fresh clones (git clone of HEAD, empty package caches, environment made by the target)")
    tmp = Path(tempfile.mkdtemp(prefix="harness-clone-"))
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                                            "MKL_NUM_THREADS", "VIRTUAL_ENV")}
    env.update(PIP_NO_CACHE_DIR="1", UV_NO_CACHE="1")
    try:
        for name in ("demo", "test"):
            subprocess.run(["git", "clone", "-q", str(REPO), str(tmp / name)], check=True)
        dt, rc, out = _timed(["make", "demo"], tmp / "demo", env)
        row("make demo (environment included)", f"{dt:.1f} s" + ("" if rc == 0 else f" FAILED ({rc})"),
            "target: 60 s")
        if rc:
            print(out)
        first, rc1, out1 = _timed(["make", "test"], tmp / "test", env)
        second, rc2, out2 = _timed(["make", "test"], tmp / "test", env)
        row("make test, first run (environment included)", f"{first:.1f} s" + ("" if rc1 == 0 else f" FAILED ({rc1})"))
        row("make test, second run", f"{second:.1f} s = {second / first:.0%} of the first"
            + ("" if rc2 == 0 else f" FAILED ({rc2})"), "target: at most 60%")
        for rc, out in ((rc1, out1), (rc2, out2)):
            if rc:
                print(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


SECTIONS = {"sweep": bench_sweep, "switch": bench_switch, "memcpy": None, "startup": bench_startup, "gemm": bench_gemm,
            "clone": bench_clone}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default=",".join(SECTIONS), help="comma list of " + ", ".join(SECTIONS))
    ap.add_argument("--reps", type=int, default=9, help="measured repetitions per memcpy point (default 9)")
    args = ap.parse_args()
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in only if s not in SECTIONS]
    if unknown:
        ap.error(f"unknown section {unknown[0]!r}")
    print(f"machine: {machine()}")
    print(f"{load()} at the start (figures move with the machine's other work)\n")
    t0 = time.perf_counter()
    for s in only:
        if s == "memcpy":
            bench_memcpy(args.reps)
        else:
            SECTIONS[s]()
        print()
    print(f"{load()} at the end; benchmark took {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
