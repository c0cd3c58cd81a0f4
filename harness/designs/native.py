"""Native build of the HLS kernels for the emulator: the same sources, g++ instead of v++.

Each design becomes `build/emu/lib<design>.so` plus two files the emulator
loads like an xclbin: `<design>.cfg` (the connectivity file v++ gets, rendered
from the design) and `<design>.emu.xclbin` (JSON: kernels, arguments, build
parameters, library, a build hash and the SHA-256 of the library produced).

- A build is redone when any kernel source, header, design file, flag or the
  compiler changes (content hash), so `make emu` and the harness's
  build-on-first-use never use a stale library.
- The library's own SHA-256 is checked before it is used: a truncated,
  corrupted or foreign library is rebuilt (here) or refused (by the emulator),
  never loaded.
- A compiler that fails, or is not a compiler, is named in one line with its
  output; the whole output goes to `build/emu/<design>.build.log`.
- Every library compiled is also kept in `build/cache/` under a key made of
  what went into it (compiler, flags, sources and headers by content, not by
  path), so the same kernel built again anywhere, by any run, is a copy.

Flags: `-O3 -march=native` for speed, with `-ffp-contract=off` so that no
multiply and add are fused: every float result is bit-identical to the plain
build (`PROFILES["plain"]`, -O0), which tests/test_native_build.py checks on
every design. -O3 never reorders float sums (that needs -ffast-math).

`python -m harness.designs.native [DESIGN ...]` builds all designs or the named ones.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid as uuidlib
from pathlib import Path

from harness import REPO_ROOT
from harness.designs.files import KERNELS_DIR, Design, all_designs, load_design
from harness.errors import UserError
from harness.results.schema import EMU_XCLBIN_FORMAT, EMU_XSA_NAME

BUILD_ROOT = REPO_ROOT / "build"
BUILD_DIR = BUILD_ROOT / "emu"
CACHE_DIR = BUILD_ROOT / "cache"     # every library built, by content (compile_library)
CXX = os.environ.get("CXX", "g++")
COMMON_FLAGS = ["-fPIC", "-shared", "-std=c++17", "-Wno-unknown-pragmas"]
# -ffp-contract=off in every profile: a multiply and an add are never fused into an FMA (whatever
# -march), so the fp32 kernels sum exactly as kernels/gemm/README.md "Summation order" says and the
# host check (harness.bench.reference.replay_f32) can demand the same bits; a user's kernel (a spec)
# likewise, as Vitis HLS keeps fmul and fadd apart.
PROFILES = {
    # what the emulator runs: as fast as the compiler allows, same bits as "plain"
    "release": ["-O3", "-march=native", "-ffp-contract=off"],
    # the reference build the release one is compared with, byte for byte
    "plain": ["-O0", "-ffp-contract=off"],
}
CXXFLAGS = PROFILES["release"] + COMMON_FLAGS
# The emulator's libraries also carry the fault hooks of kernels/common/emu_faults.h (off unless
# HARNESS_EMU_FAULT selects one); -funswitch-loops (also in -O3; named so a change of -O keeps it)
# moves their loop-invariant tests out of the hot loops, so a fault-free call gives the same bits.
EMU_FAULT_FLAGS = ["-DHARNESS_EMU_FAULTS=1", "-funswitch-loops"]


class BuildFailed(UserError):
    """The compiler failed or is not a compiler; `output` is everything it printed."""

    def __init__(self, message: str, output: str = ""):
        super().__init__(message)
        self.output = output

# What Vitis ships and the hls4ml headers lack (hls_math.h with hls::tanh ...), for g++ only:
# searched before the hls4ml headers, whose own hls_math.h has a few ap_fixed functions only.
NATIVE_SHIMS = KERNELS_DIR / "common" / "native"


def ap_types_dir() -> Path:
    """Xilinx's ap_int.h/ap_fixed.h/hls_stream.h as shipped inside the hls4ml package."""
    try:
        import hls4ml  # noqa: F401  (import only to find its files)
    except ImportError as exc:
        raise UserError("the hls4ml package (Xilinx ap_types headers) is missing; run `make emu` "
                        "or `pip install hls4ml` in this environment") from exc
    base = Path(hls4ml.__file__).resolve().parent / "templates" / "vivado" / "ap_types"
    if not (base / "ap_int.h").is_file():
        raise UserError(f"hls4ml is installed but has no ap_types headers at {base}; reinstall hls4ml")
    return base


def _one_line(text: str, limit: int = 300) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    errors = [ln for ln in lines if "error" in ln.lower()]
    picked = " | ".join((errors or lines)[:2])
    return picked if len(picked) <= limit else picked[:limit - 3] + "..."


def compiler_identity() -> str:
    """The compiler's --version line and the target -march=native resolves to (both in the hash)."""
    return _identity(CXX)


@functools.lru_cache(maxsize=None)
def _identity(cxx: str) -> str:
    if shutil.which(cxx) is None:
        raise UserError(f"C++ compiler {cxx!r} not found; install g++ (apt-get install g++) or set CXX")
    try:
        res = subprocess.run([cxx, "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UserError(f"CXX={cxx!r} cannot be run as a C++ compiler ({exc}); set CXX to g++") from exc
    first = (res.stdout or res.stderr).strip().splitlines()
    if res.returncode != 0 or not first:
        said = _one_line(res.stdout + res.stderr) or "nothing"
        raise UserError(f"CXX={cxx!r} is not a working C++ compiler: `{cxx} --version` exited with status "
                        f"{res.returncode} and printed {said}; set CXX to g++")
    try:
        target = subprocess.run([cxx, "-march=native", "-Q", "--help=target"], capture_output=True, text=True,
                                timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        target = ""
    march = [ln.split() for ln in target.splitlines() if ln.strip().startswith(("-march=", "-mtune="))]
    return first[0] + "".join(f" {' '.join(m)}" for m in march)


def profile_flags(profile: str = "release") -> list[str]:
    """PROFILES[profile], and for -march=native the extensions it must not use: GCC 12 folds the
    float -> _Float16 -> float round trip away in AVX512-FP16 vector code (the emulator's
    accumulate:fp16 fault then changes nothing); without that extension the conversion goes
    through F16C and rounds, as the plain build does."""
    flags = list(PROFILES[profile])
    if "-march=native" in flags and "-mavx512fp16" in _native_enabled(CXX):
        flags.append("-mno-avx512fp16")
    return flags


@functools.lru_cache(maxsize=None)
def _native_enabled(cxx: str) -> frozenset:
    """The -m options -march=native turns on for this compiler and CPU."""
    try:
        out = subprocess.run([cxx, "-march=native", "-Q", "--help=target"], capture_output=True, text=True,
                             timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        return frozenset()
    return frozenset(ln.split()[0] for ln in out.splitlines()
                     if ln.strip().startswith("-m") and ln.rstrip().endswith("[enabled]"))


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def library_matches(path: Path, sha256: str | None) -> bool:
    """Whether `path` is the library whose SHA-256 was recorded when it was built."""
    try:
        return bool(sha256) and path.is_file() and file_sha256(path) == sha256
    except OSError:
        return False


def _dir_digest(path: str) -> str:
    """The headers of an include directory, by content."""
    h = hashlib.sha256()
    for f in sorted(Path(path).glob("*.h*")):
        if f.is_file():
            h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def _cache_key(sources: list[Path], flags: list[str]) -> str:
    """What a library is made of, by content and not by where it lies: the compiler, the flags with
    each include directory replaced by its headers' digest, and every source (with its directory's
    headers). The same key is the same library, built in any directory by any run."""
    h = hashlib.sha256(compiler_identity().encode())
    for f in flags:
        h.update(b"\0" + (_dir_digest(f[2:]).encode() if f.startswith("-I") else f.encode()))
    for src in sources:
        h.update(b"\0" + src.read_bytes() + b"\0" + _dir_digest(str(src.parent)).encode())
    return h.hexdigest()[:24]


def compile_library(sources: list[Path], flags: list[str], out: Path, what: str,
                    log: Path | None = None) -> None:
    """Compile `sources` into the shared library `out` (written under a temporary name, then renamed,
    so an interrupted build never leaves a library that looks complete). UserError on failure.

    Every library built is kept in build/cache/ under its content key (_cache_key) with its SHA-256;
    a build whose key is there copies it instead of compiling (tests build the same kernels into
    fresh directories on every run)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        key = _cache_key(sources, flags)
    except OSError:
        key = None
    cached = CACHE_DIR / f"{key}.so" if key else None
    if cached is not None and _from_cache(cached, out):
        return
    _compile(sources, flags, out, what, log)
    if cached is not None:
        _to_cache(out, cached)


def _from_cache(cached: Path, out: Path) -> bool:
    try:
        if not library_matches(cached, cached.with_suffix(".sha256").read_text().strip()):
            return False
        tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
        shutil.copyfile(cached, tmp)
        os.replace(tmp, out)
        return True
    except OSError:
        return False


def _to_cache(out: Path, cached: Path) -> None:
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_name(f".{cached.name}.{os.getpid()}.tmp")
        shutil.copyfile(out, tmp)
        record = cached.with_suffix(".sha256")
        rtmp = record.with_name(f".{record.name}.{os.getpid()}.tmp")
        rtmp.write_text(file_sha256(tmp) + "\n")
        os.replace(tmp, cached)
        os.replace(rtmp, record)
    except OSError:
        pass          # a cache that cannot be written only costs a compile next time


def _compile(sources: list[Path], flags: list[str], out: Path, what: str, log: Path | None) -> None:
    cmd_for = lambda o: [CXX, *flags, *map(str, sources), "-o", str(o)]   # noqa: E731
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".build-") as tmp:
        tmp_out = Path(tmp) / out.name
        cmd = cmd_for(tmp_out)
        try:
            res = subprocess.run(cmd, capture_output=True, text=True)
        except OSError as exc:
            raise UserError(f"native build of {what}: cannot run the C++ compiler {CXX!r} ({exc.strerror or exc}); "
                            "install g++ or set CXX") from exc
        output = (res.stderr + res.stdout).strip()
        where = ""
        if log is not None and output:
            log.write_text(" ".join(cmd_for(out)) + "\n\n" + output + "\n")
            where = f" (full output in {_label(log)})"
        if res.returncode != 0:
            raise BuildFailed(f"native build of {what} failed: {CXX} exited with status {res.returncode}: "
                              f"{_one_line(output) or 'no output'}{where}", output)
        try:
            magic = tmp_out.read_bytes()[:4]
        except OSError:
            magic = b""
        if magic != b"\x7fELF":
            said = _one_line(output) or "nothing"
            raise BuildFailed(f"native build of {what}: {CXX!r} exited with status 0 but wrote no shared library "
                              f"(it printed {said}); is CXX a C++ compiler? set CXX to g++", output)
        os.replace(tmp_out, out)


def _inputs(design: Design) -> list[Path]:
    """Every file whose content goes into the library: sources, headers, the design file."""
    files = {design.root / s for s in design.sources()}
    for s in list(files):
        files.update(p for p in s.parent.glob("*.h"))
        files.update(p for p in s.parent.glob("*.hpp"))
    files.update((KERNELS_DIR / "common").glob("*.h"))
    files.update(NATIVE_SHIMS.glob("*.h"))
    files.add(Path(design.file) if design.file else KERNELS_DIR / "designs" / f"{design.base}.toml")
    files.update(Path(p) for p in design.extra_inputs)
    return sorted(files)


def design_flags(design: Design, profile: str = "release") -> list[str]:
    return [*profile_flags(profile), *COMMON_FLAGS, *EMU_FAULT_FLAGS, f"-I{NATIVE_SHIMS}", f"-I{ap_types_dir()}",
            f"-I{KERNELS_DIR / 'common'}", *design.define_flags(), *design.cflags]


def _label(path: Path) -> str:
    try:
        return path.relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


def build_hash(design: Design, profile: str = "release") -> str:
    h = hashlib.sha256()
    h.update(compiler_identity().encode())
    h.update(" ".join(design_flags(design, profile)).encode())
    for f in _inputs(design):
        h.update(_label(f).encode())
        try:
            h.update(f.read_bytes())
        except OSError as exc:
            raise UserError(f"cannot read {_label(f)} ({exc.strerror}), which the build of {design.name} "
                            "needs") from None
    return h.hexdigest()[:16]


def build_dir(profile: str = "release") -> Path:
    return BUILD_DIR if profile == "release" else BUILD_DIR / profile


def paths(design: Design, profile: str = "release") -> dict[str, Path]:
    d = build_dir(profile)
    return {"library": d / f"lib{design.name}.so",
            "cfg": d / f"{design.name}.cfg",
            "xclbin": d / f"{design.name}.emu.xclbin",
            "log": d / f"{design.name}.build.log"}


def _up_to_date(p: dict[str, Path], digest: str) -> tuple[bool, str]:
    """(usable, why not): the descriptor names this build and the library is the one it recorded."""
    try:
        desc = json.loads(p["xclbin"].read_text())
    except (OSError, ValueError):
        return False, ""
    if not isinstance(desc, dict) or desc.get("build_hash") != digest:
        return False, ""
    if not p["library"].is_file():
        return False, f"{_label(p['library'])} is missing"
    if not library_matches(p["library"], desc.get("library_sha256")):
        return False, (f"{_label(p['library'])} does not match the SHA-256 recorded when it was built "
                       "(truncated, corrupted or replaced)")
    if not p["cfg"].is_file():
        return False, f"{_label(p['cfg'])} is missing"
    return True, ""


def ensure_built(design: Design, quiet: bool = False, profile: str = "release") -> Path:
    """Build the design if it is missing, stale or damaged; return its emulated xclbin path."""
    p = paths(design, profile)
    digest = build_hash(design, profile)
    ok, why = _up_to_date(p, digest)
    if ok:
        return p["xclbin"]
    p["library"].parent.mkdir(parents=True, exist_ok=True)
    if why:
        print(f"note: {why}; rebuilding it", file=sys.stderr)
    if not quiet:
        print(f"building {design.name} natively (g++, emulation) -> {_label(p['library'])}", file=sys.stderr)
    compile_library([design.root / s for s in design.sources()], design_flags(design, profile), p["library"],
                    design.name, log=p["log"])
    p["cfg"].write_text(design.cfg_text())
    descriptor = {
        "format": EMU_XCLBIN_FORMAT,
        "design": design.name,
        "design_file": design.file_label,
        "dtype": design.dtype,
        "platform": "u280",
        "xsa_name": EMU_XSA_NAME,
        "uuid": str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, f"harness-emu:{design.name}:{digest}")),
        "build_hash": digest,
        "library": p["library"].name,
        "library_sha256": file_sha256(p["library"]),
        "cfg": p["cfg"].name,
        "freq_mhz": design.freq_mhz,
        "params": design.all_params(),
        "codes": design.codes,
        "compiler": compiler_identity(),
        "flags": profile_flags(profile),
        "kernels": [{"name": k.name, "model": k.model,
                     "args": [{"name": a.name, "kind": a.kind, "width_bits": a.width_bits} for a in k.args],
                     **({"timing": k.timing} if k.timing is not None else {})}
                    for k in design.kernels.values()],
    }
    tmp_x = p["xclbin"].with_suffix(".tmp")
    tmp_x.write_text(json.dumps(descriptor, indent=2))
    os.replace(tmp_x, p["xclbin"])
    return p["xclbin"]


def build_cached(sources: list[Path], flags: list[str], cache_dir: Path, name: str) -> Path:
    """A library of self-contained sources (the emulator's own helpers), content-addressed in
    `cache_dir`: built once per distinct source, flags and compiler, its SHA-256 checked before reuse."""
    h = hashlib.sha256(compiler_identity().encode() + b"\0" + "\0".join(flags).encode())
    for f in sources:
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    out = cache_dir / f"lib{name}-{h.hexdigest()[:16]}.so"
    record = out.with_suffix(".sha256")
    try:
        if library_matches(out, record.read_text().strip()):
            return out
    except OSError:
        pass
    compile_library(sources, flags, out, name)
    tmp = record.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(file_sha256(out) + "\n")
    os.replace(tmp, record)
    return out


def main(argv: list[str]) -> int:
    try:
        designs = [load_design(n) for n in argv] if argv else all_designs()
        for d in designs:
            path = ensure_built(d, quiet=True)
            print(f"{d.name}: {path.relative_to(REPO_ROOT)} (library {paths(d)['library'].name})")
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
