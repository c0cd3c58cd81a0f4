"""Checks run against XRT's real pyxrt binding, each in its own process (tests/test_real_pyxrt.py).

A process of its own because XRT's shim is chosen once per process (at the first
device open) and some misuse of the binding ends the process instead of raising.
Usage: python tests/real_pyxrt_checks.py CHECK [ARGS...]; prints one JSON object.
The environment (PYTHONPATH with the binding, XILINX_XRT with the no-op shim,
XCL_EMULATION_MODE=noop) is set by the caller.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402

import xclbin_image  # noqa: E402
from harness.designs import load_design  # noqa: E402
from harness.model import load_platform  # noqa: E402

# Bad calls and the values the harness never passes but a mistake could: the emulator must
# raise what the binding raises. (name, target, method, args) on a run/kernel/bo of bw_memcpy_1.
BAD_CALLS = [
    ("set_arg u32 2**31 unencoded", "run", "set_arg", (3, 2 ** 31)),
    ("set_arg 2**32-1 unencoded", "run", "set_arg", (3, 2 ** 32 - 1)),
    ("set_arg below int", "run", "set_arg", (3, -2 ** 31 - 1)),
    ("set_arg float", "run", "set_arg", (3, 1.5)),
    ("set_arg numpy float", "run", "set_arg", (3, np.float64(2.0))),
    ("set_arg numpy uint32 2**31", "run", "set_arg", (3, np.uint32(2 ** 31))),
    ("set_arg string", "run", "set_arg", (3, "5")),
    ("set_arg index past the end", "run", "set_arg", (9, 1)),
    ("set_arg index -1", "run", "set_arg", (-1, 1)),
    ("set_arg index beyond int", "run", "set_arg", (2 ** 31, 1)),
    ("wait negative", "run", "wait", (-1,)),
    ("wait beyond unsigned 32-bit", "run", "wait", (2 ** 32,)),
    ("wait float", "run", "wait", (1.5,)),
    ("group_id of a scalar", "kernel", "group_id", (3,)),
    ("group_id past the end", "kernel", "group_id", (7,)),
    ("group_id float", "kernel", "group_id", (1.0,)),
    ("sync without size (2023.2+)", "bo", "sync", ("TO_DEVICE",)),
]
GOOD_CALLS = [
    ("set_arg int max", "run", "set_arg", (3, 2 ** 31 - 1)),
    ("set_arg int min (2**31 encoded)", "run", "set_arg", (3, -2 ** 31)),
    ("set_arg -1 (2**32-1 encoded)", "run", "set_arg", (3, -1)),
    ("set_arg bool", "run", "set_arg", (3, True)),
    ("set_arg numpy int64", "run", "set_arg", (3, np.int64(5))),
    ("set_arg numpy int32", "run", "set_arg", (3, np.int32(-3))),
    # what Session.to_device / from_device (and `harness bench transfer`) call: sync(dir, size, offset)
    ("sync to device with size and offset", "bo", "sync", ("TO_DEVICE", 64, 0)),
    ("sync from device with size and offset", "bo", "sync", ("FROM_DEVICE", 64, 64)),
]


def _design(name: str):
    return load_design(name)


def _write_xclbin(design, folder: Path) -> Path:
    return xclbin_image.write(folder / f"{design.name}.xclbin", design, load_platform("u280"))


def _runtime(pyxrt):
    from harness.runtime import Runtime
    return Runtime("hw", pyxrt, pyxrt.device(0), "measured", "0")


def check_surface(_folder: Path) -> dict:
    """Every name of tests/data/pyxrt_2023_1_surface.json on the real module and classes."""
    import pyxrt
    surface = json.loads((HERE / "data" / "pyxrt_2023_1_surface.json").read_text())
    missing = [n for n in surface["module"] if not hasattr(pyxrt, n)]
    for cls, methods in surface["methods"].items():
        holder = getattr(pyxrt, surface["nested"][cls]) if cls in surface["nested"] else pyxrt
        missing += [f"{cls}.{m}" for m in methods if not hasattr(getattr(holder, cls), m)]
    for holder, members in surface["enums"].items():
        missing += [f"{holder}.{m}" for m in members if not hasattr(getattr(pyxrt, holder), m)]
    nested = {c: sorted(n for n in dir(getattr(pyxrt, c)) if not n.startswith("_"))
              for c in ("xclbin", "device", "kernel", "run", "bo", "uuid")}
    return {"missing": missing, "module": sorted(n for n in dir(pyxrt) if not n.startswith("_")), "classes": nested}


def check_device_info(_folder: Path) -> dict:
    """The harness's device-info code on the no-op device, before and after a load."""
    import pyxrt
    from harness.runtime.info import card_shell, device_context, kernel_clock
    rt = _runtime(pyxrt)
    ctx = device_context(rt)
    design = _design("memcpy")
    clock = kernel_clock(design, ctx)
    return {"context": ctx, "clock": clock, "shell": card_shell(rt)}


def check_session(folder: Path, design_name: str) -> dict:
    """A Session on the no-op device: load, one kernel per CU, buffers in their banks, runs with the
    scalar values the benches pass (>= 2**31 included), launches with and without a timeout."""
    import pyxrt
    from harness.runtime import MAX_TIMEOUT_MS
    from harness.runtime.info import device_context
    from harness.runtime.session import Session
    design = _design(design_name)
    path = _write_xclbin(design, folder)
    rt = _runtime(pyxrt)
    sess = Session(rt, design, path)
    # The no-op shim gives every buffer the address 0xdeadbeef, so the harness's address check
    # (is the buffer in its bank?) cannot pass on it; everything else is the real code path.
    sess.in_group = lambda b, group: True
    out = {"uuid": sess.uuid_string(), "xsa": sess.xsa_name(), "mem_index": sess.mem_index,
           "groups": {}, "launches": [], "context_kernels": device_context(rt, sess)["xclbin"]["kernels"]}
    for k in design.kernels.values():
        for cu in range(k.cus):
            bufs = {}
            for i, a in enumerate(k.args):
                if a.kind == "ptr":
                    b = sess.alloc(k.name, cu, a.name, 4096)
                    bufs[a.name] = b
                    out["groups"][f"{k.name}_{cu + 1}.{a.name}"] = sess.kernel(k.name, cu).group_id(i)
            if bufs:
                np.frombuffer(next(iter(bufs.values())).map(), np.uint8)[:] = 1
                sess.to_device(list(bufs.values()))
            # every scalar at the top of its range: 2**32 - 1 goes to set_arg as -1
            args = [bufs[a.name] if a.kind == "ptr" else 2 ** 32 - 1 for a in k.args]
            runs = [sess.run(k.name, cu, args)]
            t, wall = sess.launch(runs, MAX_TIMEOUT_MS, f"{k.name}_{cu + 1}")
            t2, _ = sess.launch(runs, None, f"{k.name}_{cu + 1} unbounded")
            for b in bufs.values():
                sess.from_device(b)
            out["launches"].append({"cu": f"{k.name}_{cu + 1}", "time_s": t, "time2_s": t2})
    out["launch_log"] = sess.launch_log
    return out


def _objects(pyxrt, xclbin_path: str, kernel_name: str):
    dev = pyxrt.device(0)
    uid = dev.load_xclbin(pyxrt.xclbin(xclbin_path))
    k = pyxrt.kernel(dev, uid, kernel_name, pyxrt.kernel.shared)
    b = pyxrt.bo(dev, 4096, pyxrt.bo.normal, k.group_id(0))
    r = pyxrt.run(k)
    return dev, uid, k, b, r


def call_outcomes(pyxrt, xclbin_path: str) -> dict:
    """{call name: exception type name or 'ok'} for BAD_CALLS and GOOD_CALLS, on `pyxrt` (the real
    binding or harness.runtime.emulator) with an xclbin of the memcpy design."""
    dev, uid, k, b, r = _objects(pyxrt, xclbin_path, "bw_memcpy:{bw_memcpy_1}")
    targets = {"run": r, "kernel": k, "bo": b}
    out = {}
    for name, target, method, args in BAD_CALLS + GOOD_CALLS:
        sync = {"TO_DEVICE": pyxrt.xclBOSyncDirection.XCL_BO_SYNC_BO_TO_DEVICE,
                "FROM_DEVICE": pyxrt.xclBOSyncDirection.XCL_BO_SYNC_BO_FROM_DEVICE}
        args = tuple(sync.get(a, a) if isinstance(a, str) else a for a in args)
        try:
            getattr(targets[target], method)(*args)
            out[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - the type is what is compared
            out[name] = type(exc).__name__
    for name, kname in (("kernel with an unknown CU", "bw_memcpy:{bw_memcpy_99}"),
                        ("kernel with an unknown name", "no_such_kernel")):
        try:
            pyxrt.kernel(dev, uid, kname, pyxrt.kernel.shared)
            out[name] = "ok"
        except Exception as exc:  # noqa: BLE001
            out[name] = type(exc).__name__
    try:
        pyxrt.xclbin("/nonexistent/harness.xclbin")
        out["xclbin of a missing file"] = "ok"
    except Exception as exc:  # noqa: BLE001
        out["xclbin of a missing file"] = type(exc).__name__
    # kernel.__call__ swallows a bad argument and still returns a started run
    b_out = pyxrt.bo(dev, 4096, pyxrt.bo.normal, k.group_id(1))
    c = k(b, b_out, 1, 2 ** 31, 0)
    out["kernel call with 2**31"] = type(c).__name__
    return out


def check_calls(folder: Path) -> dict:
    import pyxrt
    path = _write_xclbin(_design("memcpy"), folder)
    return call_outcomes(pyxrt, str(path))


def check_noop_refused(_folder: Path) -> dict:
    """Auto mode and --mode hw on the no-op device: never a hw run."""
    from harness.errors import UserError
    from harness.runtime import open_runtime
    said = []
    auto = open_runtime(None, "0", announce=said.append)
    try:
        open_runtime("hw", "0", announce=said.append)
        hw = "opened"
    except UserError as exc:
        hw = str(exc)
    return {"auto_mode": auto.mode, "auto_timing": auto.timing_source, "announced": said, "hw": hw}


CHECKS = {"surface": check_surface, "device_info": check_device_info, "session": check_session,
          "calls": check_calls, "noop_refused": check_noop_refused}


if __name__ == "__main__":
    name, folder, *rest = sys.argv[1:]      # CHECK FOLDER [ARGS]
    result = CHECKS[name](Path(folder), *rest)
    print("\n@@RESULT@@" + json.dumps(result, default=str))
