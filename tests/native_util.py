"""Compile a kernel source natively with g++ (as the emulator does) and load it.

Only for tests/test_kernels_native.py, which builds variants the design files
do not (small tiles, bad parameters); the compiler, flags and header location are
harness/designs/native.py's, so these tests compile exactly as the emulator does.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
KERNELS = REPO / "kernels"
from harness.designs.native import CXX, CXXFLAGS as BASE_FLAGS, ap_types_dir  # noqa: E402


class CompileError(RuntimeError):
    def __init__(self, cmd: list[str], stderr: str):
        super().__init__(f"compile failed: {' '.join(cmd)}\n{stderr[-4000:]}")
        self.cmd = cmd
        self.stderr = stderr


def _flags(sources: list[Path], defines: dict[str, int | str] | None) -> list[str]:
    incs = {str(KERNELS / "common")} | {str(s.parent) for s in sources}
    return (BASE_FLAGS + [f"-I{ap_types_dir()}"] + [f"-I{i}" for i in sorted(incs)]
            + [f"-D{k}={v}" for k, v in sorted((defines or {}).items())])


def _digest(sources: list[Path], flags: list[str]) -> str:
    h = hashlib.sha256("\0".join(flags).encode())
    headers = sorted({p for s in sources for p in s.parent.glob("*.h")}
                     | set((KERNELS / "common").glob("*.h")))
    for p in list(sources) + headers:
        h.update(str(p).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()[:16]


def build(sources: list[str | Path], cache_dir: Path,
          defines: dict[str, int | str] | None = None) -> Path:
    """Build `sources` (paths relative to kernels/ or absolute) into a cached .so."""
    srcs = [p if Path(p).is_absolute() else KERNELS / p for p in map(Path, sources)]
    flags = _flags(srcs, defines)
    out = Path(cache_dir) / f"lib{srcs[0].stem}-{_digest(srcs, flags)}.so"
    if out.exists():
        return out
    tmp = out.with_suffix(f".{os.getpid()}.tmp")
    cmd = [CXX, *flags, *map(str, srcs), "-o", str(tmp)]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise CompileError(cmd, res.stderr)
    tmp.replace(out)
    return out


def load(path: Path) -> ctypes.CDLL:
    return ctypes.CDLL(str(path))
