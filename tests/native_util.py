"""Compile a kernel source natively with g++ (as the emulator does) and load it.

Only for tests/test_kernels_native.py, which builds variants the design files
do not (small tiles, bad parameters); the compiler, flags and header location are
harness/designs/native.py's, so these tests compile exactly as the emulator does.

Builds are content-addressed under build/test-kernels/ (sources, headers, flags and
the compiler's identity in the key, the library's SHA-256 checked before reuse), so
a second `make test` compiles nothing that did not change. A build that fails is
cached too (its compiler output), keyed the same way.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
KERNELS = REPO / "kernels"
CACHE = REPO / "build" / "test-kernels"
from harness.designs import native  # noqa: E402
from harness.designs.native import COMMON_FLAGS, ap_types_dir, profile_flags  # noqa: E402


class CompileError(RuntimeError):
    def __init__(self, cmd: list[str], stderr: str):
        super().__init__(f"compile failed: {' '.join(cmd)}\n{stderr[-4000:]}")
        self.cmd = cmd
        self.stderr = stderr


def flags(sources: list[Path], defines: dict[str, int | str] | None, profile: str = "release") -> list[str]:
    incs = {str(KERNELS / "common")} | {str(s.parent) for s in sources}
    # the shims first (hls_burst_maxi.h ...), before the hls4ml headers, as the emulator's build
    return (profile_flags(profile) + COMMON_FLAGS + [f"-I{native.NATIVE_SHIMS}", f"-I{ap_types_dir()}"]
            + [f"-I{i}" for i in sorted(incs)]
            + [f"-D{k}={v}" for k, v in sorted((defines or {}).items())])


def _digest(sources: list[Path], flag_list: list[str]) -> str:
    h = hashlib.sha256(native.compiler_identity().encode() + b"\0" + "\0".join(flag_list).encode())
    headers = sorted({p for s in sources for p in s.parent.glob("*.h")}
                     | set((KERNELS / "common").glob("*.h")) | set(native.NATIVE_SHIMS.glob("*.h")))
    for p in list(sources) + headers:
        h.update(str(p).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()[:16]


def build(sources: list[str | Path], cache_dir: Path | None = None,
          defines: dict[str, int | str] | None = None, profile: str = "release") -> Path:
    """Build `sources` (paths relative to kernels/ or absolute) into a cached .so."""
    cache_dir = Path(cache_dir or CACHE)
    cache_dir.mkdir(parents=True, exist_ok=True)
    srcs = [p if Path(p).is_absolute() else KERNELS / p for p in map(Path, sources)]
    fl = flags(srcs, defines, profile)
    stem = f"lib{srcs[0].stem}-{_digest(srcs, fl)}"
    out, record, failed = (cache_dir / f"{stem}.so", cache_dir / f"{stem}.sha256",
                           cache_dir / f"{stem}.err")
    cmd = [native.CXX, *fl, *map(str, srcs), "-o", str(out)]
    if failed.is_file():
        raise CompileError(cmd, failed.read_text())
    try:
        if native.library_matches(out, record.read_text().strip()):
            return out
    except OSError:
        pass
    try:
        native.compile_library(srcs, fl, out, stem)
    except native.BuildFailed as exc:
        if "error" in exc.output:          # a compiler's verdict on the source, not a crash or interrupt
            _write(failed, exc.output)
        raise CompileError(cmd, exc.output) from None
    _write(record, native.file_sha256(out) + "\n")
    return out


def _write(path: Path, text: str) -> None:
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def load(path: Path) -> ctypes.CDLL:
    return ctypes.CDLL(str(path))
