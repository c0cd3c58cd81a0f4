"""Native build of the HLS kernels for the emulator: the same sources, g++ instead of v++.

Each design becomes `build/emu/lib<design>.so` plus two files the emulator
loads like an xclbin: `<design>.cfg` (the connectivity file v++ gets, rendered
from the design) and `<design>.emu.xclbin` (JSON: kernels, arguments, build
parameters, library and a build hash). A build is redone when any kernel
source, header, design file, flag or the compiler changes (content hash), so
`make emu` and the harness's build-on-first-use never use a stale library.

`python -m harness.designs.native [DESIGN ...]` builds all designs or the named ones.
"""
from __future__ import annotations

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

BUILD_DIR = REPO_ROOT / "build" / "emu"
CXX = os.environ.get("CXX", "g++")
# -ffp-contract=off: a multiply and an add are never fused into an FMA (whatever -march), so
# the fp32 kernels sum exactly as kernels/gemm/README.md "Summation order" says and the host
# check (harness.bench.reference.replay_f32) can demand the same bits; a user's kernel (a spec)
# likewise, as Vitis HLS keeps fmul and fadd apart.
CXXFLAGS = ["-O3", "-ffp-contract=off", "-fPIC", "-shared", "-std=c++17", "-Wno-unknown-pragmas"]
# The emulator's libraries also carry the fault hooks of kernels/common/emu_faults.h (off unless
# HARNESS_EMU_FAULT selects one); -funswitch-loops (also in -O3; named so a change of -O keeps it)
# moves their loop-invariant tests out of the hot loops, so a fault-free call gives the same bits.
EMU_FAULT_FLAGS = ["-DHARNESS_EMU_FAULTS=1", "-funswitch-loops"]
# What Vitis ships and the hls4ml headers lack (hls_math.h with hls::tanh ...), for g++ only:
# searched before the hls4ml headers, whose own hls_math.h has a few ap_fixed functions only.
NATIVE_SHIMS = KERNELS_DIR / "common" / "native"
EMU_XCLBIN_FORMAT = "harness-emu-xclbin/1"


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


def _compiler_version() -> str:
    if shutil.which(CXX) is None:
        raise UserError(f"C++ compiler {CXX!r} not found; install g++ (apt-get install g++) or set CXX")
    return subprocess.run([CXX, "--version"], capture_output=True, text=True).stdout.splitlines()[0]


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


def _command(design: Design, out: Path) -> list[str]:
    return [CXX, *CXXFLAGS, *EMU_FAULT_FLAGS, f"-I{NATIVE_SHIMS}", f"-I{ap_types_dir()}",
            f"-I{KERNELS_DIR / 'common'}", *design.define_flags(), *design.cflags,
            *[str(design.root / s) for s in design.sources()], "-o", str(out)]


def _label(path: Path) -> str:
    try:
        return path.relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


def build_hash(design: Design) -> str:
    h = hashlib.sha256()
    h.update(_compiler_version().encode())
    h.update(" ".join(_command(design, Path("OUT"))).encode())
    for f in _inputs(design):
        h.update(_label(f).encode())
        try:
            h.update(f.read_bytes())
        except OSError as exc:
            raise UserError(f"cannot read {_label(f)} ({exc.strerror}), which the build of {design.name} "
                            "needs") from None
    return h.hexdigest()[:16]


def paths(design: Design) -> dict[str, Path]:
    return {"library": BUILD_DIR / f"lib{design.name}.so",
            "cfg": BUILD_DIR / f"{design.name}.cfg",
            "xclbin": BUILD_DIR / f"{design.name}.emu.xclbin"}


def ensure_built(design: Design, quiet: bool = False) -> Path:
    """Build the design if it is missing or stale; return its emulated xclbin path."""
    p = paths(design)
    digest = build_hash(design)
    if p["xclbin"].is_file():
        try:
            if json.loads(p["xclbin"].read_text()).get("build_hash") == digest and p["library"].is_file():
                return p["xclbin"]
        except json.JSONDecodeError:
            pass
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    if not quiet:
        print(f"building {design.name} natively (g++, emulation) -> {_label(p['library'])}", file=sys.stderr)
    # Build into temporary names and rename: a concurrent or interrupted build never
    # leaves a library that looks complete.
    with tempfile.TemporaryDirectory(dir=BUILD_DIR) as tmp:
        lib_tmp = Path(tmp) / p["library"].name
        res = subprocess.run(_command(design, lib_tmp), capture_output=True, text=True)
        if res.returncode != 0:
            first = next((ln for ln in res.stderr.splitlines() if "error" in ln), res.stderr.strip()[:300])
            raise UserError(f"native build of {design.name} failed: {first.strip()}")
        os.replace(lib_tmp, p["library"])
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
        "cfg": p["cfg"].name,
        "freq_mhz": design.freq_mhz,
        "params": design.all_params(),
        "codes": design.codes,
        "compiler": _compiler_version(),
        "kernels": [{"name": k.name, "model": k.model,
                     "args": [{"name": a.name, "kind": a.kind, "width_bits": a.width_bits} for a in k.args],
                     **({"timing": k.timing} if k.timing is not None else {})}
                    for k in design.kernels.values()],
    }
    tmp_x = p["xclbin"].with_suffix(".tmp")
    tmp_x.write_text(json.dumps(descriptor, indent=2))
    os.replace(tmp_x, p["xclbin"])
    return p["xclbin"]


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
