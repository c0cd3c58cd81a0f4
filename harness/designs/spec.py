"""Kernel spec files: one kernel of *your* xclbin, described for `harness bench kernel`.

A spec (TOML; README "Writing a spec for your own kernel", examples/unfused-fp32/*.toml)
gives the kernel's name, CU count and clock, its arguments in order (buffers with element
type, size, bank and direction; scalars as expressions), the shapes to run (explicit dims,
or smolVLA op names that bind M, K, N), FLOPs and bytes per launch, an optional numpy
reference, the HLS source and flags for emulation, and an optional cycle model (an
expression, which may use the loop figures of a Vitis HLS csynth.rpt).

`load_spec(path)` checks all of it before anything runs: every expression must evaluate for
every shape, every bank must exist, the reference must import. The spec becomes a
harness.designs Design (`KernelSpec.design()`), so Session, the native build and the
emulator treat it exactly as they treat the harness's own designs.
"""
from __future__ import annotations

import difflib
import hashlib
import importlib
import importlib.util
import inspect
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from harness import REPO_ROOT
from harness.designs.expr import Expr
from harness.designs.files import Arg, Design, Kernel, _platform_bank_tags
from harness.errors import UserError

BUFFER_TYPES = ("float32", "float16", "float64", "int8", "uint8", "int16", "uint16", "int32", "uint32",
                "int64", "uint64")
DIRECTIONS = ("in", "out", "inout")
U32_MAX = 2 ** 32 - 1
GEMM_FLOP = "2*M*K*N"
FLAG_RE = re.compile(r"^-(D[A-Za-z_][A-Za-z0-9_]*(=.*)?|U[A-Za-z_][A-Za-z0-9_]*|I.+)$")
CLOCK_NAME = "clock_mhz"
WORKLOAD_DIMS = {"gemm": ("M", "K", "N"), "attention": ("M", "K", "N"), "elementwise": ("M", "N")}
# element type of a buffer -> the precision name the workload and roofline use
_PRECISION_OF = {"float32": "fp32", "float16": "fp16", "int8": "int8"}

_TOP_KEYS = {"kernel", "constants", "args", "shapes", "counts", "reference", "timing"}
_KERNEL_KEYS = {"name", "cus", "freq_mhz", "source", "flags", "precision", "xclbin"}
_BUFFER_KEYS = {"name", "kind", "type", "size", "bank", "direction", "range"}
_SCALAR_KEYS = {"name", "kind", "value"}
_SHAPES_KEYS = {"workload", "ops", "dims", "params"}
_COUNTS_KEYS = {"flop", "bytes"}
_REFERENCE_KEYS = {"function", "atol", "rtol"}
_TIMING_KEYS = {"cycles", "report"}


@dataclass(frozen=True)
class BufferArg:
    name: str
    dtype: np.dtype
    size: Expr                     # elements
    bank: str                      # e.g. 'HBM[0]' (may hold {cu})
    direction: str                 # in | out | inout
    fill: tuple[float, float]      # inputs are drawn uniformly from this range

    kind = "buffer"

    @property
    def is_input(self) -> bool:
        return self.direction in ("in", "inout")

    @property
    def is_output(self) -> bool:
        return self.direction in ("out", "inout")


@dataclass(frozen=True)
class ScalarArg:
    name: str
    value: Expr

    kind = "scalar"


@dataclass(frozen=True)
class Point:
    """One shape the kernel runs: its dimensions and the workload ops it stands for."""
    dims: dict
    ops: tuple[str, ...] = ()

    def label(self) -> str:
        return " ".join(f"{k}={v}" for k, v in self.dims.items())


@dataclass
class Reference:
    text: str                      # 'module:function'
    function: object
    params: tuple[str, ...] | None  # the names it takes, or None when it takes **kwargs
    atol: float
    rtol: float
    file: Path | None              # the module's file, when it sits beside the spec


@dataclass
class Timing:
    cycles: Expr
    report: Path | None
    figures: dict                  # report loop figures, NAME_ii / NAME_depth / NAME_trip / NAME_latency
    dims: dict                     # dim -> the scalar argument that passes it unchanged


@dataclass
class KernelSpec:
    path: Path
    name: str
    cus: int
    freq_mhz: float
    sources: list[Path]
    flags: list[str]
    precision: str | None
    xclbin: Path | None
    constants: dict
    args: list
    points: list[Point]
    shape_source: dict
    flop: Expr
    bytes: Expr
    counts_source: dict
    reference: Reference | None
    timing: Timing | None
    text: str = field(repr=False, default="")

    # ------------------------------------------------------------ values per point
    @property
    def buffers(self) -> list[BufferArg]:
        return [a for a in self.args if a.kind == "buffer"]

    @property
    def scalars(self) -> list[ScalarArg]:
        return [a for a in self.args if a.kind == "scalar"]

    def names(self, point: Point) -> dict:
        return {**self.constants, **point.dims}

    def sizes(self, point: Point) -> dict[str, int]:
        """Elements of every buffer."""
        ns = self.names(point)
        return {b.name: b.size.integer(ns, minimum=1) for b in self.buffers}

    def scalar_values(self, point: Point) -> dict[str, int]:
        ns = self.names(point)
        out = {}
        for s in self.scalars:
            v = s.value.integer(ns, minimum=None)
            if not 0 <= v <= U32_MAX:
                raise UserError(f"{self.path.name}: scalar {s.name} = {s.value.text!r} gives {v} for "
                                f"{point.label()}, which does not fit an unsigned 32-bit kernel argument")
            out[s.name] = v
        return out

    def flop_of(self, point: Point) -> int:
        return self.flop.integer(self.names(point))

    def bytes_of(self, point: Point) -> int:
        return self.bytes.integer(self.names(point))

    def cycle_names(self, point: Point) -> dict:
        """What a cycle expression sees: constants, dims, scalar arguments, report figures, clock."""
        t = self.timing
        return {**self.constants, **point.dims, **self.scalar_values(point), **(t.figures if t else {}),
                CLOCK_NAME: self.freq_mhz}

    def cycles_of(self, point: Point) -> float | None:
        if self.timing is None:
            return None
        return self.timing.cycles.number(self.cycle_names(point))

    # ------------------------------------------------------------ the design
    @property
    def label(self) -> str:
        """The spec's path, relative to the repository when it lies inside it."""
        return _label(self.path)

    @property
    def design_name(self) -> str:
        digest = hashlib.sha1(str(self.path.resolve()).encode()).hexdigest()[:8]
        stem = re.sub(r"\W", "_", self.path.stem)
        return f"spec_{stem}_{digest}"

    def design(self) -> Design:
        """The kernel as a harness.designs Design: Session, the native build and the emulator use it."""
        root = self.path.parent
        args = []
        for a in self.args:
            if a.kind == "buffer":
                # a spec mirrors an xclbin someone else linked: ports sharing a bank are as built
                args.append(Arg(a.name, "ptr", a.bank, a.dtype.itemsize * 8, shared=True,
                                dir={"in": "read", "out": "write", "inout": "rw"}[a.direction]))
            else:
                args.append(Arg(a.name, "u32"))
        timing = None
        if self.timing is not None:
            timing = {"cycles": self.timing.cycles.text, "dims": dict(self.timing.dims),
                      "constants": dict(self.constants), "figures": dict(self.timing.figures),
                      "report": str(self.timing.report) if self.timing.report else None}
        rel = [str(s.relative_to(root)) if s.is_relative_to(root) else str(s) for s in self.sources]
        kernel = Kernel(self.name, rel[0] if rel else "", "cycles" if timing else "none", self.cus, {}, args,
                        timing=timing)
        d = Design(base=self.path.stem, name=self.design_name, freq_mhz=self.freq_mhz, params={},
                   kernels={self.name: kernel}, dtype=self.precision, file=self.label, root=root,
                   cflags=list(self.flags), extra_sources=rel[1:],
                   extra_inputs=[str(self.timing.report)] if self.timing and self.timing.report else [])
        d.validate(_platform_bank_tags())
        return d

    def to_context(self) -> dict:
        """What context.json records of the spec (the file itself is copied beside it)."""
        return {
            "file": self.label,
            "sha256": hashlib.sha256(self.text.encode()).hexdigest(),
            "kernel": self.name, "cus": self.cus, "freq_mhz": self.freq_mhz, "precision": self.precision,
            "sources": [_label(s) for s in self.sources], "flags": self.flags,
            "args": [({"name": a.name, "kind": "buffer", "type": a.dtype.name, "size": a.size.text,
                       "bank": a.bank, "direction": a.direction} if a.kind == "buffer"
                      else {"name": a.name, "kind": "scalar", "value": a.value.text}) for a in self.args],
            "constants": self.constants,
            "shapes": self.shape_source,
            "counts": self.counts_source,
            "reference": None if self.reference is None else {
                "function": self.reference.text, "atol": self.reference.atol, "rtol": self.reference.rtol,
                "file": _label(self.reference.file) if self.reference.file else None},
            "timing": None if self.timing is None else {
                "cycles": self.timing.cycles.text,
                "report": _label(self.timing.report) if self.timing.report else None,
                "figures": self.timing.figures},
        }


# ---------------------------------------------------------------- loading
def _label(path: Path) -> str:
    try:
        return Path(path).relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


def _fail(path: Path, msg: str):
    raise UserError(f"{path}: {msg}")


def _table(raw: dict, key: str, path: Path, allowed: set, required: bool = False) -> dict:
    t = raw.get(key)
    if t is None:
        if required:
            _fail(path, f"no [{key}] table; see README 'Writing a spec for your own kernel'")
        return {}
    if not isinstance(t, dict):
        _fail(path, f"[{key}] must be a table")
    _unknown(t, allowed, f"[{key}]", path)
    return t


def _unknown(t: dict, allowed: set, where: str, path: Path) -> None:
    extra = sorted(set(t) - allowed)
    if extra:
        hint = difflib.get_close_matches(extra[0], sorted(allowed), n=1)
        _fail(path, f"{where} has no key {extra[0]!r}" + (f" (did you mean {hint[0]!r}?)" if hint else
                                                          f"; keys: {', '.join(sorted(allowed))}"))


def _ident(name, what: str, path: Path) -> str:
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        _fail(path, f"{what} {name!r} is not a name (letters, digits, _)")
    return name


def _int(v, what: str, path: Path, minimum: int = 1) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
        _fail(path, f"{what} must be a whole number >= {minimum}, got {v!r}")
    return v


def load_spec(path, workload_config=None) -> KernelSpec:
    """Read and check a kernel spec; UserError (one line) for anything that cannot run."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"kernel spec {path} does not exist; give the path of a .toml spec "
                        "(examples/unfused-fp32/gemm.toml is one)")
    text = path.read_text()
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path} is not valid TOML ({exc})") from None
    path = path.resolve()
    _unknown(raw, _TOP_KEYS, "the spec", path)
    root = path.parent

    k = _table(raw, "kernel", path, _KERNEL_KEYS, required=True)
    name = _ident(k.get("name"), "[kernel] name", path)
    cus = _int(k.get("cus", 1), "[kernel] cus", path)
    freq = k.get("freq_mhz", 300)
    if isinstance(freq, bool) or not isinstance(freq, (int, float)) or not 0 < freq <= 1000:
        _fail(path, f"[kernel] freq_mhz is the kernel clock in MHz, e.g. 300; got {freq!r}")
    src = k.get("source", [])
    srcs = [src] if isinstance(src, str) else src
    if not isinstance(srcs, list) or not all(isinstance(s, str) for s in srcs):
        _fail(path, "[kernel] source is a path or a list of paths of the kernel's HLS C++, relative to the spec")
    sources = [(root / s).resolve() for s in srcs]
    flags = k.get("flags", [])
    if not isinstance(flags, list) or not all(isinstance(f, str) for f in flags):
        _fail(path, "[kernel] flags is a list of strings, e.g. [\"-DTILE=16\"]")
    for f in flags:
        if not FLAG_RE.match(f):
            _fail(path, f"[kernel] flags: {f!r} is not -DNAME[=VALUE], -UNAME or -IDIR (the flags v++ -c and "
                        "g++ both take)")
    flags = [f"-I{(root / f[2:]).resolve()}" if f.startswith("-I") else f for f in flags]
    xclbin = k.get("xclbin")
    if xclbin is not None and not isinstance(xclbin, str):
        _fail(path, "[kernel] xclbin is the path of the xclbin holding this kernel (for --mode hw)")
    xclbin = (root / xclbin).resolve() if xclbin else None

    constants = {}
    for cname, v in (raw.get("constants") or {}).items():
        _ident(cname, "[constants] name", path)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            _fail(path, f"[constants] {cname} must be a number, got {v!r}")
        constants[cname] = v

    args = _args(raw.get("args"), path)
    points, shape_source = _points(_table(raw, "shapes", path, _SHAPES_KEYS, required=True), path,
                                   workload_config)
    for p in points:
        clash = sorted(set(p.dims) & set(constants))
        if clash:
            _fail(path, f"{clash[0]} is both a dimension and a constant; rename the constant")

    counts = _table(raw, "counts", path, _COUNTS_KEYS)
    gemm_like = all({"M", "K", "N"} <= set(p.dims) for p in points)
    if "flop" in counts:
        flop = Expr(counts["flop"], f"{path.name}: [counts] flop")
        flop_src = {"flop": flop.text, "flop_source": "spec"}
    elif gemm_like:
        flop = Expr(GEMM_FLOP, f"{path.name}: default flop")
        flop_src = {"flop": GEMM_FLOP, "flop_source": "default for GEMM-like kernels (2 M K N)"}
    else:
        _fail(path, "[counts] flop is needed: the default, 2*M*K*N, is for GEMM-like kernels whose shapes "
                    "bind M, K and N; e.g. flop = \"M*N\" for a bias add")
    buffers = [a for a in args if a.kind == "buffer"]
    if "bytes" in counts:
        nbytes = Expr(counts["bytes"], f"{path.name}: [counts] bytes")
        bytes_src = {"bytes": nbytes.text, "bytes_source": "spec"}
    else:
        terms = [f"{(2 if b.direction == 'inout' else 1) * b.dtype.itemsize}*({b.size.text})" for b in buffers]
        nbytes = Expr(" + ".join(terms), f"{path.name}: default bytes")
        bytes_src = {"bytes": nbytes.text, "bytes_source": "default: every buffer once (inout twice), "
                                                           "element size x size"}

    precision = k.get("precision")
    if precision is None:
        kinds = {_PRECISION_OF.get(b.dtype.name) for b in buffers}
        precision = kinds.pop() if len(kinds) == 1 else None
    else:
        from harness.workload.precision import PRECISIONS
        if precision not in PRECISIONS:
            _fail(path, f"[kernel] precision {precision!r}: use one of {', '.join(PRECISIONS)}")

    reference = _reference(_table(raw, "reference", path, _REFERENCE_KEYS), path, args, points, constants)
    timing = _timing(_table(raw, "timing", path, _TIMING_KEYS), path, args, points, constants)

    spec = KernelSpec(path, name, cus, float(freq), sources, flags, precision, xclbin, constants, args, points,
                      shape_source, flop, nbytes, {**flop_src, **bytes_src}, reference, timing, text)
    _check_points(spec)
    spec.design()                     # banks against the platform
    return spec


def _args(raw, path: Path) -> list:
    if not isinstance(raw, list) or not raw:
        _fail(path, "no [[args]]: list the kernel's arguments in order, e.g. "
                    "[[args]] name = \"A\", type = \"float32\", size = \"M*K\", bank = \"HBM[0]\", direction = \"in\"")
    out, seen = [], set()
    for i, a in enumerate(raw):
        if not isinstance(a, dict):
            _fail(path, f"[[args]] entry {i + 1} must be a table")
        aname = _ident(a.get("name"), f"[[args]] entry {i + 1} name", path)
        if aname in seen:
            _fail(path, f"argument {aname} is listed twice")
        seen.add(aname)
        kind = a.get("kind") or ("scalar" if "value" in a else "buffer")
        where = f"argument {aname}"
        if kind == "scalar":
            _unknown(a, _SCALAR_KEYS, where, path)
            if "value" not in a:
                _fail(path, f"{where}: a scalar needs value = \"<expression>\", e.g. value = \"M\"")
            out.append(ScalarArg(aname, Expr(a["value"], f"{path.name}: {where} value")))
            continue
        if kind != "buffer":
            _fail(path, f"{where}: kind must be buffer or scalar, got {kind!r}")
        _unknown(a, _BUFFER_KEYS, where, path)
        for key in ("type", "size", "bank", "direction"):
            if key not in a:
                _fail(path, f"{where}: a buffer needs {key} (type, size, bank, direction)")
        if a["type"] not in BUFFER_TYPES:
            _fail(path, f"{where}: type {a['type']!r}; use one of {', '.join(BUFFER_TYPES)}")
        if a["direction"] not in DIRECTIONS:
            _fail(path, f"{where}: direction {a['direction']!r}; use in, out or inout")
        if not isinstance(a["bank"], str):
            _fail(path, f"{where}: bank is a memory tag like \"HBM[0]\" or \"DDR[1]\"")
        dtype = np.dtype(a["type"])
        rng = a.get("range")
        if rng is None:
            if dtype.kind == "f":
                rng = (-1.0, 1.0)
            else:
                info = np.iinfo(dtype)
                rng = (max(info.min, -128), min(info.max, 127))
        elif not (isinstance(rng, list) and len(rng) == 2 and all(isinstance(x, (int, float)) for x in rng)
                  and rng[0] < rng[1]):
            _fail(path, f"{where}: range is [low, high] with low < high, e.g. [-1.0, 1.0]")
        out.append(BufferArg(aname, dtype, Expr(a["size"], f"{path.name}: {where} size"), a["bank"],
                             a["direction"], (rng[0], rng[1])))
    if not any(a.kind == "buffer" and a.is_output for a in out):
        _fail(path, "no output buffer (direction = \"out\" or \"inout\"): there would be nothing to verify")
    return out


def _points(t: dict, path: Path, workload_config) -> tuple[list[Point], dict]:
    ops = t.get("ops", [])
    dims = t.get("dims", [])
    if not isinstance(ops, list) or not all(isinstance(o, str) for o in ops):
        _fail(path, "[shapes] ops is a list of op names from `harness workload smolvla`")
    if not isinstance(dims, list) or not all(isinstance(d, dict) for d in dims):
        _fail(path, "[shapes] dims is a list of tables, e.g. dims = [{ M = 64, K = 64, N = 64 }]")
    if not ops and not dims:
        _fail(path, "[shapes] gives no shape: list op names (ops = [\"vision.mlp.fc1\"]) or explicit "
                    "dims = [{ M = 64, K = 64, N = 64 }]")
    by_dims: dict[tuple, list[str]] = {}
    source: dict = {}
    if ops:
        from harness.workload.smolvla import SmolVLAConfig, build_workload
        wname = t.get("workload", "smolvla")
        params = t.get("params", {})
        if not isinstance(params, dict):
            _fail(path, "[shapes] params is a table of workload parameters, e.g. { chunk_size = 50 }")
        fields = set(SmolVLAConfig.__dataclass_fields__)
        for pk in params:
            if pk not in fields:
                _fail(path, f"[shapes] params: {pk!r} is not a smolVLA parameter; use one of {', '.join(sorted(fields))}")
        config = workload_config or SmolVLAConfig(**params)
        wl = build_workload(wname, config)
        known = [o.name for o in wl.ops]
        for oname in ops:
            try:
                op = wl.op(oname)
            except KeyError:
                hint = difflib.get_close_matches(oname, known, n=1)
                _fail(path, f"[shapes] ops: unknown op name {oname!r}" +
                      (f" (did you mean {hint[0]!r}?)" if hint else "") +
                      f"; `harness workload {wname}` lists them")
            key = tuple((d, getattr(op, d)) for d in WORKLOAD_DIMS[op.kind])
            names = by_dims.setdefault(key, [])
            if oname not in names:
                names.append(oname)
        source = {"workload": wname, "params": dict(params), "ops": list(dict.fromkeys(ops)),
                  "binds": "gemm and attention ops bind M, K, N; elementwise ops bind M and N"}
    for i, d in enumerate(dims):
        for dn, dv in d.items():
            _ident(dn, f"[shapes] dims entry {i + 1}: name", path)
            _int(dv, f"[shapes] dims entry {i + 1}: {dn}", path)
        by_dims.setdefault(tuple(d.items()), [])
    if dims:
        source["dims"] = [dict(d) for d in dims]
    return [Point(dict(k), tuple(v)) for k, v in by_dims.items()], source


def _check_points(spec: KernelSpec) -> None:
    """Every expression evaluates for every shape (one line naming the first that does not)."""
    for p in spec.points:
        where = f" for {', '.join(p.ops) or p.label()}"
        try:
            spec.sizes(p)
            spec.scalar_values(p)
            spec.flop_of(p)
            spec.bytes_of(p)
            spec.cycles_of(p)
        except UserError as exc:
            raise UserError(f"{exc}{where}") from None


def _reference(t: dict, path: Path, args, points, constants) -> Reference | None:
    if not t:
        return None
    text = t.get("function")
    if not isinstance(text, str) or text.count(":") != 1:
        _fail(path, "[reference] function is \"module:function\", e.g. \"reference:gemm\" (reference.py beside "
                    "the spec)")
    mod_name, fn_name = text.split(":")
    tol = {}
    for key in ("atol", "rtol"):
        v = t.get(key, 0.0)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
            _fail(path, f"[reference] {key} must be a number >= 0")
        tol[key] = float(v)
    file = path.parent / (mod_name.replace(".", "/") + ".py")
    try:
        if file.is_file():
            digest = hashlib.sha1(str(file).encode()).hexdigest()[:10]
            modspec = importlib.util.spec_from_file_location(f"harness_spec_ref_{digest}", file)
            module = importlib.util.module_from_spec(modspec)
            sys.path.insert(0, str(path.parent))
            try:
                modspec.loader.exec_module(module)
            finally:
                sys.path.remove(str(path.parent))
        else:
            file = None
            module = importlib.import_module(mod_name)
    except UserError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure to import is the spec's to fix
        _fail(path, f"[reference] cannot import {mod_name} ({type(exc).__name__}: {exc})")
    fn = getattr(module, fn_name, None)
    if not callable(fn):
        _fail(path, f"[reference] {mod_name} has no function {fn_name}")
    sig = inspect.signature(fn)
    if any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values()):
        params = None
    else:
        params = tuple(sig.parameters)
        offered = {a.name for a in args if a.kind == "buffer" and a.is_input} | set(constants)
        for p in points:
            offered |= set(p.dims)
        offered |= {a.name for a in args if a.kind == "scalar"}
        for pname, prm in sig.parameters.items():
            if prm.default is prm.empty and pname not in offered:
                _fail(path, f"[reference] {text} takes {pname}, which is neither an input buffer, a dimension, "
                            "a constant nor a scalar argument of the kernel")
    return Reference(text, fn, params, tol["atol"], tol["rtol"], file)


def _timing(t: dict, path: Path, args, points, constants) -> Timing | None:
    if not t:
        return None
    if "cycles" not in t:
        _fail(path, "[timing] needs cycles = \"<expression>\" (the report, if given, only supplies names)")
    cycles = Expr(t["cycles"], f"{path.name}: [timing] cycles")
    figures, report = {}, None
    if "report" in t:
        from harness.designs.hlsreport import read_report
        if not isinstance(t["report"], str):
            _fail(path, "[timing] report is the path of a Vitis HLS csynth.rpt, relative to the spec")
        report = (path.parent / t["report"]).resolve()
        _, figures = read_report(report)
        clash = sorted(set(figures) & (set(constants) | {d for p in points for d in p.dims}))
        if clash:
            _fail(path, f"{clash[0]} is both a report figure and a dimension or constant; rename the latter")
    # A kernel's time can depend only on what it is given: its scalar arguments (and constants).
    scalars = {a.name: a for a in args if a.kind == "scalar"}
    dims = {}
    all_dims = {d for p in points for d in p.dims}
    for s in scalars.values():
        if s.value.text in all_dims:
            dims[s.value.text] = s.name
        elif s.name in all_dims and s.name in cycles.names:
            _fail(path, f"[timing] cycles uses {s.name}, which is both a dimension and a scalar argument passed "
                        f"{s.value.text!r}; give the argument another name")
    usable = set(scalars) | set(dims) | set(constants) | set(figures) | {CLOCK_NAME}
    for n in sorted(cycles.names):
        if n not in usable:
            why = ("a report figure the report does not give (it prints '?' or '-' there, or the loop has "
                   "another name)" if re.search(r"_(ii|depth|trip|latency)$", n) else
                   "not passed to the kernel as a scalar argument: a kernel's time can depend only on its "
                   "scalar arguments")
            _fail(path, f"[timing] cycles {cycles.text!r} uses {n}, which is {why}")
    return Timing(cycles, report, figures, dims)


# ---------------------------------------------------------------- references
def call_reference(spec: KernelSpec, point: Point, inputs: dict[str, np.ndarray]) -> dict:
    """{output name: (expected, tolerance array or None)}; UserError if the reference raises or
    returns something that does not match the outputs."""
    ref = spec.reference
    values = {**spec.names(point), **spec.scalar_values(point)}
    values.update({k: v.copy() for k, v in inputs.items()})
    kwargs = values if ref.params is None else {k: values[k] for k in ref.params if k in values}
    where = f"for {', '.join(point.ops) or point.label()}"
    try:
        result = ref.function(**kwargs)
    except Exception as exc:  # noqa: BLE001 - the user's code: any exception means the reference is broken
        raise UserError(f"reference {ref.text} raised {type(exc).__name__}: {exc} {where}; fix the "
                        "reference") from None
    outputs = [b for b in spec.buffers if b.is_output]
    if not isinstance(result, dict):
        if len(outputs) != 1:
            raise UserError(f"reference {ref.text} returned one value but the kernel has outputs "
                            f"{', '.join(b.name for b in outputs)}; return a dict {{name: array}}")
        result = {outputs[0].name: result}
    sizes = spec.sizes(point)
    out = {}
    for b in outputs:
        if b.name not in result:
            raise UserError(f"reference {ref.text} returned no {b.name!r} {where}; return a dict with every "
                            "output buffer")
        val = result[b.name]
        tol = None
        if isinstance(val, tuple):
            if len(val) != 2:
                raise UserError(f"reference {ref.text}: {b.name} must be an array or (expected, tolerance)")
            val, tol = val
        try:
            exp = np.asarray(val).reshape(-1)
            if tol is not None:
                tol = np.broadcast_to(np.asarray(tol, dtype=np.float64).reshape(-1)
                                      if np.ndim(tol) else np.float64(tol), exp.shape)
        except (ValueError, TypeError) as exc:
            raise UserError(f"reference {ref.text}: {b.name} is not a numeric array ({exc}) {where}") from None
        if exp.size != sizes[b.name]:
            raise UserError(f"reference {ref.text} returned {exp.size} elements for {b.name} but the buffer has "
                            f"{sizes[b.name]} {where}")
        if not np.issubdtype(exp.dtype, np.number):
            raise UserError(f"reference {ref.text}: {b.name} is not numeric ({exp.dtype}) {where}")
        out[b.name] = (exp, tol)
    return out
