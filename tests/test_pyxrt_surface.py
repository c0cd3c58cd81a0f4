"""Every pyxrt name and call shape the harness uses exists in the XRT 2023.1 binding,
and the emulator offers exactly that surface.

The benches run against a recording proxy of the emulator; every module name,
constructor and method call (with its argument count) is checked against
tests/data/pyxrt_2023_1_surface.json, taken from harness/docs/xrt-and-vitis.md section 3.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.runtime import emulator

SURFACE = json.loads((Path(__file__).parent / "data" / "pyxrt_2023_1_surface.json").read_text())
CLASSES = set(SURFACE["methods"])


class Recorder:
    def __init__(self):
        self.calls: set[tuple[str, str, int]] = set()

    def wrap(self, obj):
        cls = type(obj).__name__
        if cls in CLASSES:
            return _Obj(self, obj, cls)
        if isinstance(obj, list):
            return [self.wrap(o) for o in obj]
        return obj


def _unwrap(x):
    return x._o if isinstance(x, _Obj) else x


class _Obj:
    def __init__(self, rec, obj, cls):
        self._rec, self._o, self._cls = rec, obj, cls

    def __getattr__(self, name):
        attr = getattr(self._o, name)
        if not callable(attr):
            return attr
        rec, cls = self._rec, self._cls

        def call(*args):
            rec.calls.add((cls, name, len(args)))
            return rec.wrap(attr(*[_unwrap(a) for a in args]))
        return call

    def __call__(self, *args):
        self._rec.calls.add((self._cls, "__call__", len(args)))
        return self._rec.wrap(self._o(*[_unwrap(a) for a in args]))


class RecordingModule:
    """Stands in for `pyxrt`: only what the emulator has, every use recorded."""

    def __init__(self, rec):
        self._rec = rec

    def __getattr__(self, name):
        attr = getattr(emulator, name)         # AttributeError for anything the emulator lacks
        self._rec.calls.add(("module", name, -1))
        if isinstance(attr, type) and name in SURFACE["constructors"]:
            rec = self._rec

            class Ctor:
                def __call__(self, *args):
                    rec.calls.add(("ctor", name, len(args)))
                    return rec.wrap(attr(*[_unwrap(a) for a in args]))

                def __getattr__(self, sub):   # enums and constants hung on the class
                    return getattr(attr, sub)
            return Ctor()
        return attr


@pytest.fixture()
def recorded(monkeypatch, runs_dir):
    import harness.runtime as rtmod
    rec = Recorder()
    real_open = rtmod.open_runtime

    def open_recorded(mode, device="0", announce=print, **kw):
        rt = real_open(mode, device, announce, **kw)
        rt.xrt = RecordingModule(rec)
        rt.device = rec.wrap(rt.device)
        return rt
    for mod in ("harness.bench.memcpy", "harness.bench.gemm", "harness.bench.latency", "harness.commands.info"):
        monkeypatch.setattr(f"{mod}.open_runtime", open_recorded)
    assert main(["bench", "memcpy", "--mode", "emu", "--sizes", "4K", "--pcs", "2", "--direction", "copy",
                 "--repeats", "1", "--warmup", "0", "--out", str(runs_dir)]) == 0
    assert main(["bench", "gemm", "--mode", "emu", "--shapes", "7x13x5", "--compare-fusion", "--repeats", "1",
                 "--warmup", "0", "--out", str(runs_dir)]) == 0
    assert main(["bench", "latency", "--mode", "emu", "--launches", "3", "--shapes", "7x13x5", "--repeats", "1",
                 "--warmup", "0", "--out", str(runs_dir)]) == 0
    assert main(["info", "--mode", "emu"]) == 0
    return rec.calls


def test_harness_uses_only_the_2023_1_surface(recorded):
    for kind, name, nargs in sorted(recorded):
        if kind == "module":
            assert name in SURFACE["module"], f"pyxrt.{name} is not in the 2023.1 binding"
        elif kind == "ctor":
            assert nargs in SURFACE["constructors"][name], f"pyxrt.{name}() with {nargs} args"
        else:
            allowed = SURFACE["methods"][kind].get(name)
            assert allowed is not None, f"{kind}.{name} is not in the 2023.1 binding"
            assert allowed == "any" or nargs in allowed, f"{kind}.{name} with {nargs} args"
    used = {(k, n) for k, n, _ in recorded}
    # the calls that matter were really exercised, so the check above is not vacuous
    for must in [("ctor", "bo"), ("ctor", "run"), ("ctor", "kernel"), ("kernel", "group_id"),
                 ("run", "wait"), ("bo", "sync"), ("device", "load_xclbin"), ("device", "get_info")]:
        assert must in used


def _cls(name):
    """A class of the emulator where pyxrt has it (xclbinkernel lives in pyxrt.xclbin)."""
    holder = getattr(emulator, SURFACE["nested"][name]) if name in SURFACE["nested"] else emulator
    return getattr(holder, name)


def test_emulator_offers_exactly_the_surface():
    for name in SURFACE["module"]:
        assert hasattr(emulator, name), name
    for cls, methods in SURFACE["methods"].items():
        for m in methods:
            assert callable(getattr(_cls(cls), m)), f"{cls}.{m}"
    for enum_name, members in SURFACE["enums"].items():
        holder = getattr(emulator, enum_name)
        for m in members:
            assert hasattr(holder, m), f"{enum_name}.{m}"
    extra = {n for n in dir(emulator) if not n.startswith("_") and n not in SURFACE["module"]}
    helpers = {"EMULATED_DEVICE_NAME", "EMULATED_SHELL", "FAULTS", "check_fault_spec", "annotations", "ctypes", "enum", "json",
               "threading", "time",
               "os", "np", "Path", "parse_cfg", "parse_bank", "weakref", "costs"}
    assert extra <= helpers, f"the emulator offers names pyxrt 2023.1 does not: {sorted(extra - helpers)}"
    for cls, methods in SURFACE["methods"].items():
        public = {m for m in vars(_cls(cls)) if not m.startswith("_") and m not in SURFACE["nested"]}
        enums = set(SURFACE["enums"].get(cls, [])) | {"flags", "cu_access_mode"}
        assert public <= set(methods) | enums, f"{cls} has extra methods {sorted(public - set(methods) - enums)}"
    for newer in ("hw_context", "enumerate_devices"):
        assert not hasattr(emulator, newer), f"{newer} is newer than 2023.1; the emulator must not offer it"
    assert not hasattr(emulator.run, "wait2") and not hasattr(emulator.device, "register_xclbin")
