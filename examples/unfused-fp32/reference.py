"""numpy references for the three kernels of this example, for `harness bench kernel`.

Each function takes the kernel's input buffers (1-D numpy arrays, named as the spec's
[[args]]) and the shape's dimensions, and returns the expected output: an array, or
(expected, tolerance) when an exact replay is impossible.

gemm and add_bias replay the kernels' fp32 arithmetic exactly (same operations, same order,
every result rounded to fp32), so any difference, even in the last bit, fails the check.
gelu cannot be replayed exactly: hls::tanh on Vitis is bit-approximate ("typically 1-4 ULP"
from the standard C function, UG1399 "HLS Math Library Accuracy"), and numpy's tanh is not
the C library's either. Everything around tanh is replayed in fp32, and the tolerance is what
a tanh error of TANH_ULP units in the last place can change in the result, plus one rounding
step of each later operation: far below what a 16-bit or erf-form GELU would differ by.
"""
import numpy as np

TANH_ULP = 5      # 4: the HLS math library (UG1399), +1: numpy's own float32 tanh


def gemm(A, B, M, K, N):
    """C = A x B, each element summed over k in order in fp32, as gemm.cpp does."""
    a = A.reshape(M, K)
    b = B.reshape(K, N)
    C = np.empty((M, N), np.float32)
    rows = max(1, 65536 // max(N, 1))          # keep the accumulator block in cache
    for m0 in range(0, M, rows):
        acc = np.zeros((min(rows, M - m0), N), np.float32)
        prod = np.empty_like(acc)
        for k in range(K):
            np.multiply(a[m0:m0 + rows, k, None], b[k, None, :], out=prod)   # fp32 product
            acc += prod                                                       # fp32 sum
        C[m0:m0 + rows] = acc
    return C


def add_bias(X, bias, M, N):
    """Y = X + bias (broadcast over rows), one fp32 add per element, as add_bias.cpp does."""
    return X.reshape(M, N) + bias[None, :]


def gelu(X, n):
    """gelu.cpp's fp32 arithmetic with numpy's tanh, and the tolerance tanh's error allows."""
    x = X[:n].astype(np.float32)
    f = np.float32
    u = f(0.7978845608) * (x + f(0.044715) * x * x * x)
    t = np.tanh(u)
    s = f(1.0) + t
    h = f(0.5) * x
    y = h * s
    tol = (np.abs(h.astype(np.float64)) * (TANH_ULP * np.spacing(np.abs(t)).astype(np.float64)
                                            + np.spacing(np.abs(s)).astype(np.float64))
           + np.spacing(np.abs(y)).astype(np.float64))
    return y, tol
