"""Host side of the GEMM kernel's memory layout (kernels/gemm/gemm.cpp, README "Memory layout").

Every port of `gemm` and `bias_gelu` moves 512-bit words. The host:

- splits N between the CUs in whole groups of GEMM_COLS columns (`split_columns`);
  each CU gets its own A (the whole A), B columns, bias columns and C;
- packs A (`pack_a`): rows padded with zeros to lda = ceil(K/LA) words, each tile
  of TM rows stored as its K chunks one after another (row-major inside a chunk;
  for K <= TK that is plain row-major);
- packs B for the B ports (`pack_b`): per N tile, the words of every row dealt
  round-robin to the ports (word w of a row to port w % ports), the rows in K order;
- pads bias to whole words (`pack_bias`);
- reads C (`unpack_c`): per N tile a block of M rows x ceil(nv/16) words of 32-bit
  outputs, row-major (for N <= TN plain row-major with a pitch of ceil(N/16) words).

LA = 512 / element bits (fp32 16, fp16 and fx16 32, int8 64). All sizes come from
the design's build parameters, passed in as a dict.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.model.compute import split_columns as model_split

WORD_BYTES = 64
OUT_LANES = 16          # 32-bit outputs per word


def cdiv(a: int, b: int) -> int:
    return -(-a // b)


@dataclass(frozen=True)
class Geometry:
    """The kernel's tiles, read from the design's -D parameters."""
    rows: int       # GEMM_ROWS
    cols: int       # GEMM_COLS
    tm: int
    tn: int
    tk: int
    b_ports: int
    lanes: int      # elements per word

    @classmethod
    def from_params(cls, params: dict, elem_bytes: int) -> "Geometry":
        return cls(int(params["GEMM_ROWS"]), int(params["GEMM_COLS"]), int(params["GEMM_TILE_M"]),
                   int(params["GEMM_TILE_N"]), int(params["GEMM_TILE_K"]), int(params["GEMM_B_PORTS"]),
                   WORD_BYTES // elem_bytes)


def split_columns(N: int, cus: int, unit: int) -> list[tuple[int, int]]:
    """[(n_start, n_count)] per CU (the model's split, harness.model.compute.split_columns):
    a CU with no columns gets (n, 0) and is not launched."""
    return model_split(N, cus, unit)


def _pad_cols(x: np.ndarray, cols: int) -> np.ndarray:
    if x.shape[1] == cols:
        return np.ascontiguousarray(x)
    out = np.zeros((x.shape[0], cols), dtype=x.dtype)
    out[:, : x.shape[1]] = x
    return out


def pack_a(a: np.ndarray, g: Geometry) -> np.ndarray:
    """A (M x K, element dtype) in the kernel's packed order, as a flat element array (M x lda*LA)."""
    M, K = a.shape
    lda = cdiv(K, g.lanes)
    ap = _pad_cols(a, lda * g.lanes)
    tkw = g.tk // g.lanes
    if lda <= tkw:                      # one chunk: plain row-major
        return ap.reshape(-1)
    parts = []
    for m0 in range(0, M, g.tm):
        tile = ap[m0:m0 + g.tm]
        for w0 in range(0, lda, tkw):
            parts.append(tile[:, w0 * g.lanes:(w0 + tkw) * g.lanes].reshape(-1))
    return np.concatenate(parts)


def b_row_words(nv: int, g: Geometry) -> int:
    """Words of one B row of an N tile on each port."""
    return cdiv(cdiv(nv, g.lanes), g.b_ports)


def pack_b(b: np.ndarray, g: Geometry) -> list[np.ndarray]:
    """B (K x N, element dtype) -> one flat element array per B port (all the same length)."""
    K, N = b.shape
    ports: list[list[np.ndarray]] = [[] for _ in range(g.b_ports)]
    for n0 in range(0, N, g.tn):
        nv = min(g.tn, N - n0)
        q = b_row_words(nv, g)
        t = _pad_cols(b[:, n0:n0 + nv], q * g.b_ports * g.lanes).reshape(K, q * g.b_ports, g.lanes)
        for p in range(g.b_ports):
            ports[p].append(t[:, p::g.b_ports, :].reshape(-1))
    return [np.concatenate(x) for x in ports]


def pack_bias(bias: np.ndarray, lanes: int) -> np.ndarray:
    """bias (N,) zero-padded to whole words."""
    n = cdiv(bias.shape[0], lanes) * lanes
    out = np.zeros(max(n, lanes), dtype=bias.dtype)
    out[: bias.shape[0]] = bias
    return out


def c_words(M: int, N: int, g: Geometry) -> int:
    """Words of a packed C (or bias_gelu in/out) of M x N outputs."""
    return sum(M * cdiv(min(g.tn, N - n0), OUT_LANES) for n0 in range(0, N, g.tn))


def c_bytes(M: int, N: int, g: Geometry) -> int:
    return c_words(M, N, g) * WORD_BYTES


def unpack_c(flat: np.ndarray, M: int, N: int, g: Geometry) -> np.ndarray:
    """The M x N outputs of a packed C (flat 32-bit elements)."""
    blocks, off = [], 0
    for n0 in range(0, N, g.tn):
        nv = min(g.tn, N - n0)
        w = cdiv(nv, OUT_LANES) * OUT_LANES
        blocks.append(flat[off:off + M * w].reshape(M, w)[:, :nv])
        off += M * w
    return np.concatenate(blocks, axis=1) if len(blocks) > 1 else blocks[0]


def pack_c(c: np.ndarray, g: Geometry) -> np.ndarray:
    """M x N 32-bit outputs -> a packed C (what gemm writes; bias_gelu's input)."""
    M, N = c.shape
    parts = []
    for n0 in range(0, N, g.tn):
        nv = min(g.tn, N - n0)
        parts.append(_pad_cols(c[:, n0:n0 + nv], cdiv(nv, OUT_LANES) * OUT_LANES).reshape(-1))
    return np.concatenate(parts)
