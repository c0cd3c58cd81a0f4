"""How fast the natively built GEMM kernel runs in emulation, against single-thread numpy matmul.

For every distinct linear-layer shape of one smolVLA inference (harness workload smolvla), the
kernel of kernels/designs/gemm.toml is called as the emulator calls it: once per CU on that CU's
columns, in the kernel's packed layout (packing not timed). Its FLOP rate is compared with
numpy's float32 matmul of the same shape on one thread. Best of --repeats for both.

    .venv/bin/python benchmarks/emulation_speed.py [--dtype fp32|fp16|fx16|int8|all] [--repeats 3]

Exits 1 if a shape moves less than 1/20 of numpy's rate (issue 12's target). A benchmark, not a
test: the machine's load changes the figures.
"""
from __future__ import annotations

import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ[_v] = "1"          # before numpy loads its BLAS: one thread

import argparse      # noqa: E402
import ctypes        # noqa: E402
import sys           # noqa: E402
import time          # noqa: E402
from pathlib import Path   # noqa: E402

import numpy as np   # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from harness.bench import gemm as gb                  # noqa: E402
from harness.bench import gemm_layout as lay           # noqa: E402
from harness.designs import load_design                # noqa: E402
from harness.designs.native import ensure_built, paths  # noqa: E402

TARGET = 1 / 20


def best(fn, repeats: int) -> float:
    t = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        t = min(t, time.perf_counter() - t0)
    return t


def kernel_fn(lib, design, dtype, a, b, bias):
    """A callable running every CU's part of C = A B once, as the emulator does (inputs packed first)."""
    g = gb.geometry(design, dtype)
    M, K = a.shape
    ap = lay.pack_a(a, g)
    calls = []
    for n0, nc in gb.cu_split(design, b.shape[1]):
        if nc == 0:
            continue
        bp = lay.pack_b(np.ascontiguousarray(b[:, n0:n0 + nc]), g)
        bi = lay.pack_bias(bias[n0:n0 + nc], g.lanes)
        c = np.zeros(lay.c_words(M, nc, g) * 16, np.uint32)
        calls.append((bp, bi, c, nc))
    vp = ctypes.c_void_p
    argv = [(vp(ap.ctypes.data), *[vp(x.ctypes.data) for x in bp], vp(c.ctypes.data), vp(bi.ctypes.data), M, K, nc, 0)
            for bp, bi, c, nc in calls]
    fn = lib.gemm

    def run():
        for args in argv:
            fn(*args)
    run.keep = (ap, calls)          # the arrays outlive the pointers
    return run


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dtype", default="fp32", choices=["fp32", "fp16", "fx16", "int8", "all"])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    dtypes = ["fp32", "fp16", "fx16", "int8"] if args.dtype == "all" else [args.dtype]
    shapes = list(gb.smolvla_shapes())
    worst_all = float("inf")
    for dtype in dtypes:
        design = load_design("gemm", dtype=dtype)
        ensure_built(design, quiet=True)
        lib = ctypes.CDLL(str(paths(design)["library"]))
        print(f"\n{dtype}: emulated gemm ({design.kernels['gemm'].cus} CUs, {design.name}) vs numpy float32 "
              "matmul, one thread, best of", args.repeats)
        print(f"{'M x K x N':>16} {'emu GFLOP/s':>12} {'numpy GFLOP/s':>14} {'ratio':>8}")
        tot_flop = tot_emu = tot_np = 0.0
        worst = float("inf")
        for M, K, N in shapes:
            rng = gb.shape_rng(M, K, N)
            a, b, bias = gb.gemm_inputs(dtype, M, K, N, rng, design.all_params())
            t_emu = best(kernel_fn(lib, design, dtype, a, b, bias), args.repeats)
            af, bf = a.astype(np.float32), b.astype(np.float32)
            t_np = best(lambda: af @ bf, args.repeats)
            flop = 2 * M * K * N
            ratio = t_np / t_emu
            worst = min(worst, ratio)
            tot_flop += flop
            tot_emu += t_emu
            tot_np += t_np
            print(f"{M:>5}x{K:>5}x{N:>5} {flop / t_emu / 1e9:>12.2f} {flop / t_np / 1e9:>14.1f} "
                  f"{'1/%.1f' % (1 / ratio):>8}")
        print(f"{'all shapes':>16} {tot_flop / tot_emu / 1e9:>12.2f} {tot_flop / tot_np / 1e9:>14.1f} "
              f"{'1/%.1f' % (tot_emu / tot_np):>8}   worst shape 1/{1 / worst:.1f} (target 1/{1 / TARGET:.0f})")
        worst_all = min(worst_all, worst)
    return 0 if worst_all >= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
