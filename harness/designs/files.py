"""Kernel build facts, read from kernels/designs/*.toml (their only source).

A *design* is one xclbin: its kernels, their build parameters, CU counts and
the memory bank of every pointer argument of every CU. From it we render the
`-D` flags (v++ and g++ alike), the `[connectivity]` file for `v++ --config`,
and the dictionary recorded in each run's context.json. The emulator reads the
rendered connectivity file, the same text v++ gets.

`python -m harness.designs mk [TARGET]` prints the make fragment the Makefile includes;
`python -m harness.designs cfg NAME [TARGET]` prints the connectivity file of a design.

A design file may hold an `[emulation]` table: what `make xclbin TARGET=hw_emu|sw_emu`
builds and what those modes load (e.g. 2 memcpy CUs instead of 16), small enough for
RTL simulation. Each kernel may name its SLR (`slr = "SLR0"`, or one per CU), rendered
as `slr=` lines, and its m_axi adapters (`m_axi = { burst, outstanding }`, numbers or
parameter names) and logic (`resources`), which harness.designs.budget checks per SLR.
"""
from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from harness import REPO_ROOT
from harness.errors import UserError

KERNELS_DIR = REPO_ROOT / "kernels"
DESIGNS_DIR = KERNELS_DIR / "designs"
ARG_KINDS = ("ptr", "u32")
# A port's memory as `sp=` takes it: one bank (HBM[3]), a range of PCs (HBM[0:31]) and, for HBM,
# optionally the switch port the master attaches to (HBM[0:31].4: S_AXI port 4, next to PC 4).
_BANK_RE = re.compile(r"^(HBM|DDR|PLRAM)\[(\d+)(?::(\d+))?\](?:\.(\d+))?$")
BANK_FORMS = "HBM[3], HBM[0:31] or HBM[0:31].4 (a PC range and the switch port), DDR[0]"


@dataclass(frozen=True)
class Bank:
    """A parsed connectivity target: banks kind[lo..hi], attached at switch port `port` (HBM)."""
    kind: str
    lo: int
    hi: int
    port: int | None = None

    @property
    def tags(self) -> list[str]:
        """Every bank the port reaches, e.g. ['HBM[0]', ..., 'HBM[31]']."""
        return [f"{self.kind}[{i}]" for i in range(self.lo, self.hi + 1)]

    @property
    def is_range(self) -> bool:
        return self.hi > self.lo

    @property
    def home(self) -> str | None:
        """The bank next to the port's switch port (its local PC); None for a range without `.N`."""
        if self.port is not None:
            return f"{self.kind}[{self.port}]"
        return None if self.is_range else f"{self.kind}[{self.lo}]"

    def reaches(self, tag: str) -> bool:
        return tag in self.tags

    def __str__(self) -> str:
        inner = f"{self.lo}" if not self.is_range else f"{self.lo}:{self.hi}"
        return f"{self.kind}[{inner}]" + (f".{self.port}" if self.port is not None else "")


def parse_bank(text: str) -> Bank:
    """HBM[3], HBM[0:31], HBM[0:31].4, DDR[0]: a Bank, or a UserError saying what is wrong."""
    m = _BANK_RE.match(str(text).strip())
    if not m:
        raise UserError(f"bank {text!r} is not like {BANK_FORMS}")
    kind, lo, hi, port = m.group(1), int(m.group(2)), m.group(3), m.group(4)
    hi = lo if hi is None else int(hi)
    if hi < lo:
        raise UserError(f"bank {text!r}: a range runs low:high, e.g. {kind}[{hi}:{lo}]")
    if port is not None and kind != "HBM":
        raise UserError(f"bank {text!r}: only HBM ports attach to a switch port (.N); use {kind}[{lo}]")
    return Bank(kind, lo, hi, None if port is None else int(port))


def _eval_index(expr: str, cu: int) -> int:
    """Evaluate a bank index like '2*cu+1' (integers, cu, + - *) safely."""
    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.Name) and node.id == "cu":
            return cu
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult)):
            a, b = ev(node.left), ev(node.right)
            return a + b if isinstance(node.op, ast.Add) else a - b if isinstance(node.op, ast.Sub) else a * b
        raise UserError(f"bank index expression {expr!r} may use only integers, 'cu', + - *")
    return ev(ast.parse(expr, mode="eval"))


@dataclass(frozen=True)
class Arg:
    name: str
    kind: str                    # 'ptr' or 'u32'
    bank: str | None = None      # template, e.g. 'HBM[{2*cu}]'
    width_bits: int | None = None
    shared: bool = False         # bank deliberately shared with another port
    dir: str | None = None       # 'read', 'write' or 'rw': the m_axi channels the kernel uses

    def bank_for(self, cu: int) -> str:
        """The connectivity of this argument on CU `cu` (0-based) as `sp=` gets it, e.g. 'HBM[3]'
        or 'HBM[0:31].6'."""
        if self.bank is None:
            raise ValueError(f"argument {self.name} is a scalar and has no bank")
        return re.sub(r"\{([^}]*)\}", lambda m: str(_eval_index(m.group(1), cu)), self.bank)

    def reach_for(self, cu: int) -> Bank:
        """The banks this argument of CU `cu` reaches and the switch port it attaches to."""
        return parse_bank(self.bank_for(cu))

    def home_for(self, cu: int) -> str:
        """The bank a buffer of this argument goes to unless placed elsewhere: the port's local PC
        (its switch port's), or the bank itself; a range without `.N`: its first bank."""
        b = self.reach_for(cu)
        return b.home or b.tags[0]


@dataclass
class Kernel:
    name: str
    source: str
    model: str
    cus: int
    params: dict
    args: list[Arg]
    slr: list[str] = field(default_factory=list)     # SLR of each CU ('SLR0'); empty: not placed
    m_axi: dict = field(default_factory=dict)        # {'burst': int, 'outstanding': int}
    resources: dict = field(default_factory=dict)    # logic per CU, m_axi adapters excluded
    timing: dict | None = None   # a kernel spec's cycle model, for the emulator (harness.designs.spec)

    def cu_names(self) -> list[str]:
        return [f"{self.name}_{i + 1}" for i in range(self.cus)]

    def arg_index(self, name: str) -> int:
        for i, a in enumerate(self.args):
            if a.name == name:
                return i
        raise KeyError(f"kernel {self.name} has no argument {name!r}")

    def banks(self) -> dict[str, list[str]]:
        """{arg name: [bank of CU 0, CU 1, ...]} for pointer arguments."""
        return {a.name: [a.bank_for(c) for c in range(self.cus)] for a in self.args if a.kind == "ptr"}


@dataclass
class Design:
    base: str                    # file name stem: 'memcpy', 'gemm'
    name: str                    # xclbin name: 'memcpy', 'gemm_fp32'
    freq_mhz: float
    params: dict                 # design-wide params, variant params included
    kernels: dict[str, Kernel]
    dtype: str | None = None
    variants: dict = field(default_factory=dict)
    codes: dict = field(default_factory=dict)      # {name: {value name: code}} of scalar arguments
    code_macros: dict = field(default_factory=dict)   # {name: macro prefix}, e.g. epilogue -> GEMM_EPI
    target: str = "hw"           # 'hw' or 'emulation' (the [emulation] variant, hw_emu/sw_emu)
    # A design read from a kernel spec (harness.designs.spec) rather than kernels/designs/:
    file: str | None = None                # the file its facts come from, as shown in messages
    root: Path = KERNELS_DIR               # directory the kernel sources are relative to
    cflags: list = field(default_factory=list)          # extra -D/-U/-I flags of the sources
    extra_sources: list = field(default_factory=list)   # more source files of the kernel (relative to root)
    extra_inputs: list = field(default_factory=list)    # other files the build depends on (absolute)

    @property
    def file_label(self) -> str:
        """Where this design's facts are written, for messages and context.json."""
        return self.file or f"kernels/designs/{self.base}.toml"

    def code_flags(self) -> dict:
        """{macro: code} for every code, e.g. GEMM_EPI_BIAS_GELU=2: the kernels get their codes from here."""
        return {f"{self.code_macros[n]}_{v.upper()}": c for n, vals in self.codes.items() for v, c in vals.items()}

    # -- flags and files rendered from the facts --------------------------
    def all_params(self, kernel: str | None = None) -> dict:
        p = dict(self.params)
        if kernel is not None:
            p.update(self.kernels[kernel].params)
        else:
            for k in self.kernels.values():
                p.update(k.params)
        return p

    def build_defines(self, kernel: str | None = None) -> dict:
        """Every -D the kernel sources get: build parameters and scalar-argument codes."""
        return {**self.all_params(kernel), **self.code_flags()}

    def define_flags(self, kernel: str | None = None) -> list[str]:
        return [f"-D{k}={v}" for k, v in sorted(self.build_defines(kernel).items())]

    def sources(self) -> list[str]:
        return sorted({k.source for k in self.kernels.values()} | set(self.extra_sources))

    def cfg_text(self) -> str:
        lines = [
            (f"# Generated from kernels/designs/{self.base}.toml by `python -m harness.designs cfg {self.name}"
             f"{' hw_emu' if self.target == 'emulation' else ''}`." if self.file is None
             else f"# Generated from {self.file_label} (a kernel spec) by the harness."),
            "# Do not edit: change the design file. v++ --config and the emulator both read this file.",
            "[connectivity]",
        ]
        for k in self.kernels.values():
            lines.append(f"nk={k.name}:{k.cus}:" + ".".join(k.cu_names()))
        for k in self.kernels.values():
            for ci, cu in enumerate(k.cu_names()):
                for a in k.args:
                    if a.kind == "ptr":
                        lines.append(f"sp={cu}.{a.name}:{a.bank_for(ci)}")
        for k in self.kernels.values():
            for cu, slr in zip(k.cu_names(), k.slr):
                lines.append(f"slr={cu}:{slr}")
        return "\n".join(lines) + "\n"

    def to_context(self) -> dict:
        return {
            "name": self.name,
            "file": self.file_label,
            "variant": self.target,
            "dtype": self.dtype,
            "freq_mhz": self.freq_mhz,
            "params": self.all_params(),
            "codes": self.codes,
            "kernels": {
                k.name: {"cus": k.cus, "source": self._source_label(k.source), "params": k.params, "slr": k.slr,
                         "args": {a.name: (a.kind if a.kind != "ptr" else [a.bank_for(c) for c in range(k.cus)])
                                  for a in k.args}}
                for k in self.kernels.values()
            },
        }

    def _source_label(self, source: str) -> str:
        path = self.root / source
        try:
            return path.relative_to(REPO_ROOT).as_posix()
        except ValueError:
            return str(path)

    # -- checks ------------------------------------------------------------
    def validate(self, bank_tags: set[str] | None = None) -> None:
        """Every port names a real bank; no PC is shared by two ports unless asked."""
        owners: dict[str, list[tuple[str, bool]]] = {}
        where = self.file or f"{self.base}.toml"
        for k in self.kernels.values():
            if k.cus < 1:
                raise UserError(f"{where}: kernel {k.name} needs cus >= 1")
            if k.slr and (len(k.slr) != k.cus or not all(re.fullmatch(r"SLR[0-9]", x) for x in k.slr)):
                raise UserError(f"{where}: {k.name}.slr must be one SLR like \"SLR0\" or one per CU "
                                f"({k.cus}), got {k.slr}")
            for a in k.args:
                if a.kind not in ARG_KINDS:
                    raise UserError(f"{where}: {k.name}.{a.name} kind must be one of {ARG_KINDS}")
                if a.kind != "ptr":
                    continue
                if a.dir not in (None, "read", "write", "rw"):
                    raise UserError(f"{where}: {k.name}.{a.name} dir must be read, write or rw")
                for ci, cu in enumerate(k.cu_names()):
                    bank = a.bank_for(ci)
                    try:
                        reach = parse_bank(bank)
                    except UserError as exc:
                        raise UserError(f"{where}: {cu}.{a.name}: {exc}") from None
                    if bank_tags is not None:
                        missing = [t for t in reach.tags + [reach.home or reach.tags[0]] if t not in bank_tags]
                        if missing:
                            have = sorted((t for t in bank_tags if t.startswith(reach.kind + "[")),
                                          key=lambda t: int(t[len(reach.kind) + 1:-1]))
                            span = f"{have[0]} to {have[-1]}" if have else "none"
                            raise UserError(f"{where}: {cu}.{a.name} is connected to {bank}, which the platform "
                                            f"does not have" + (f" ({missing[0]}; its {reach.kind} banks: {span})"
                                                                if str(missing[0]) != bank else ""))
                    # Two masters on one switch port (or one bank) must be asked for: a range port is
                    # owned by its switch port's PC, so ranges that overlap are the point, not a clash.
                    key = reach.home if reach.home is not None else bank
                    owners.setdefault(key, []).append((f"{cu}.{a.name}", a.shared))
        seen: dict[str, tuple[str, object]] = {}
        for k in self.kernels.values():      # the native build compiles the design with the union of flags
            for name, value in k.params.items():
                if name in seen and seen[name][1] != value:
                    raise UserError(f"{where}: {name} is {seen[name][1]} in {seen[name][0]} and {value} "
                                    f"in {k.name}; give each kernel's parameters their own names")
                seen[name] = (k.name, value)
        for bank, users in owners.items():
            if len(users) > 1 and not all(shared for _, shared in users[1:]):
                names = ", ".join(u for u, _ in users)
                raise UserError(f"{where}: {bank} is shared by {names}; "
                                "mark the later ports shared = true if that is intended")


def _design_path(base: str):
    return DESIGNS_DIR / f"{base}.toml"


def list_designs() -> dict[str, list[str | None]]:
    """{base name: [variant dtypes] or [None]} for every design file."""
    out = {}
    for path in sorted(DESIGNS_DIR.glob("*.toml")):
        raw = tomllib.loads(path.read_text())
        out[path.stem] = list(raw.get("variants", {}).get("dtype", {})) or [None]
    return out


TARGETS = {"hw": "hw", "emu": "hw", "hw_emu": "emulation", "sw_emu": "emulation"}


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _resolve(value, params: dict, what: str):
    """A number, or the name of a design parameter holding it (one source for both uses)."""
    if isinstance(value, str):
        if value not in params:
            raise UserError(f"{what} names parameter {value!r}, which the design does not define")
        return params[value]
    return value


def load_design(name: str, dtype: str | None = None, target: str | None = None) -> Design:
    """Load a design by base name ('gemm', with dtype) or xclbin name ('gemm_fp32').

    target: a mode or Makefile TARGET; hw_emu and sw_emu take the design's [emulation] variant."""
    designs = list_designs()
    base = name
    if name not in designs:
        for b, variants in designs.items():
            for v in variants:
                if v and name == f"{b}_{v}":
                    base, dtype = b, v
        if base not in designs:
            raise UserError(f"no design {name!r} in kernels/designs/ (have: {', '.join(designs)})")
    raw = tomllib.loads(_design_path(base).read_text())
    variant = TARGETS.get(target or "hw")
    if variant is None:
        raise UserError(f"target {target!r}: use one of {', '.join(TARGETS)}")
    if variant == "emulation":
        raw = _merge(raw, raw.get("emulation", {}))
    variants = raw.get("variants", {}).get("dtype", {})
    params = dict(raw.get("params", {}))
    if variants:
        if dtype is None:
            raise UserError(f"design {base} is built per element type; use one of "
                            f"{', '.join(f'{base}_{v}' for v in variants)}")
        if dtype not in variants:
            raise UserError(f"element type {dtype!r} is not built by {base}.toml; built: {', '.join(variants)}")
        params.update(variants[dtype])
    elif dtype is not None:
        raise UserError(f"design {base} has no element-type variants")
    kernels = {}
    for kname, k in raw.get("kernels", {}).items():
        args = [Arg(a["name"], a["kind"], a.get("bank"), a.get("width_bits"), bool(a.get("shared", False)),
                    a.get("dir")) for a in k.get("args", [])]
        cus = int(k.get("cus", 1))
        slr = k.get("slr", [])
        slr = [slr] * cus if isinstance(slr, str) else list(slr)
        kparams = {**params, **dict(k.get("params", {}))}
        m_axi = {key: _resolve(v, kparams, f"{base}.toml {kname}.m_axi.{key}")
                 for key, v in dict(k.get("m_axi", {})).items()}
        res = dict(k.get("resources", {}))
        res.update(raw.get("variant_resources", {}).get(str(dtype), {}).get(kname, {}))
        kernels[kname] = Kernel(kname, k["source"], k.get("model", kname), cus,
                                dict(k.get("params", {})), args, slr, m_axi, res)
    xname = raw.get("name", base).format(dtype=dtype)
    codes, macros = read_codes(raw, base)
    for cname, table in (raw.get("codes") or {}).items():   # a variant's own code as a build parameter
        if "param" in table and dtype is not None and cname == "dtype":
            if dtype not in codes[cname]:
                raise UserError(f"{base}.toml: element type {dtype} has no code in [codes.dtype]")
            params[table["param"]] = codes[cname][dtype]
    d = Design(base, xname, float(raw.get("freq_mhz", 300)), params, kernels, dtype, dict(variants), codes, macros,
               target=variant)
    d.validate(_platform_bank_tags())
    return d


def read_codes(raw: dict, base: str) -> tuple[dict, dict]:
    """[codes.NAME] tables: `macro` (the -D prefix the kernel reads) and value name -> integer code."""
    codes, macros = {}, {}
    for name, table in (raw.get("codes") or {}).items():
        table = dict(table)
        macro = table.pop("macro", None)
        table.pop("param", None)
        if not isinstance(macro, str) or not re.fullmatch(r"[A-Z][A-Z0-9_]*", macro):
            raise UserError(f"{base}.toml: [codes.{name}] needs macro = \"UPPER_CASE\" (the kernel's -D prefix)")
        if not table or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in table.values()):
            raise UserError(f"{base}.toml: [codes.{name}] values must be integers >= 0")
        if len(set(table.values())) != len(table):
            raise UserError(f"{base}.toml: [codes.{name}] gives two names the same code")
        codes[name], macros[name] = table, macro
    return codes, macros


def design_codes(base: str, name: str) -> dict[str, int]:
    """{value name: code} of one [codes.NAME] table of kernels/designs/<base>.toml."""
    raw = tomllib.loads(_design_path(base).read_text())
    codes, _ = read_codes(raw, base)
    if name not in codes:
        raise UserError(f"kernels/designs/{base}.toml has no [codes.{name}]")
    return codes[name]


def _platform_bank_tags() -> set[str]:
    from harness.model import load_platform      # stdlib-only, so the Makefile's python can import it
    return {m.tag for m in load_platform("u280").memories}


def all_designs(target: str | None = None) -> list[Design]:
    return [load_design(b, v, target) for b, vs in list_designs().items() for v in vs]


def design_names() -> list[str]:
    """Every xclbin name the design files define (memcpy, gemm_fp32, ...)."""
    return [b if v is None else f"{b}_{v}" for b, vs in list_designs().items() for v in vs]


def parse_cfg(text: str) -> dict[str, dict[str, str]]:
    """Read a v++ connectivity file: {cu name: {port: bank as written}}, CUs from nk= lines; the
    bank text (HBM[0:31].4 ...) is checked here and read with parse_bank."""
    cus: dict[str, dict[str, str]] = {}
    section = None
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            section = line.strip("[]").strip()
            continue
        if section != "connectivity" or "=" not in line:
            continue
        key, val = (s.strip() for s in line.split("=", 1))
        if key == "nk":
            parts = val.split(":")
            kname, count = parts[0], int(parts[1])
            names = parts[2].split(".") if len(parts) > 2 else [f"{kname}_{i + 1}" for i in range(count)]
            for n in names:
                cus.setdefault(n, {})
        elif key == "sp":
            lhs, bank = val.split(":", 1)
            cu, port = lhs.split(".", 1)
            if cu not in cus:
                raise ValueError(f"sp={val}: CU {cu} is not declared by any nk= line")
            try:
                parse_bank(bank)
            except UserError as exc:
                raise ValueError(f"sp={val}: {exc}") from None
            cus[cu][port] = bank
    return cus


def _make_fragment(target: str | None = None) -> str:
    """Variables for the Makefile (for one TARGET): one line per fact, nothing computed twice."""
    lines = [f"# Generated by `python -m harness.designs mk {target or 'hw'}` from kernels/designs/*.toml. "
             "Do not edit."]
    names = []
    for d in all_designs(target):
        names.append(d.name)
        lines.append(f"DESIGN_{d.name}_KERNELS := {' '.join(d.kernels)}")
        lines.append(f"DESIGN_{d.name}_FREQ_MHZ := {d.freq_mhz:g}")
        lines.append(f"DESIGN_{d.name}_FILE := kernels/designs/{d.base}.toml")
        for k in d.kernels.values():
            lines.append(f"DESIGN_{d.name}_{k.name}_SRC := kernels/{k.source}")
            lines.append(f"DESIGN_{d.name}_{k.name}_DEFS := {' '.join(d.define_flags(k.name))}")
    lines.insert(1, f"DESIGNS := {' '.join(names)}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    try:
        if argv[:1] == ["mk"] and len(argv) <= 2:
            sys.stdout.write(_make_fragment(argv[1] if len(argv) == 2 else None))
        elif argv[:1] == ["cfg"] and len(argv) in (2, 3):
            sys.stdout.write(load_design(argv[1], target=argv[2] if len(argv) == 3 else None).cfg_text())
        elif argv[:1] == ["check"] and len(argv) == 2:
            # `make xclbin DESIGN=<name>`: a name the design files define, or say which ones are
            names = design_names()
            if argv[1] != "all" and argv[1] not in names:
                print(f"error: DESIGN={argv[1]} is not a design; use all or one of: {' '.join(names)}",
                      file=sys.stderr)
                return 2
        else:
            print("usage: python -m harness.designs mk [TARGET] | cfg NAME [TARGET] | check NAME | "
                  "budget TARGET [NAME ...] | toolchain TARGET [VPP] [PLATFORM] | report TARGET PLATFORM [NAME ...]",
                  file=sys.stderr)
            return 2
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0

