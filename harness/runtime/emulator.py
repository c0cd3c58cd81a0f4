"""An emulated U280 behind the pyxrt API (XRT 2023.1 surface, harness/docs/xrt-and-vitis.md section 3).

Benchmarks use `rt.xrt.<name>` whether `rt.xrt` is the real `pyxrt` or this
module, so this module offers the same names and call shapes and behaves like
the card where it matters for a benchmark:

- banks named as XRT names them (HBM[0]..HBM[31] of 256 MiB, DDR[0], DDR[1]),
  with allocation failing when a bank is full, and memory allocated per buffer;
- host and device storage are separate: without `sync` the kernel sees stale
  data and the host sees stale results, as on the card;
- a buffer in a bank the CU port does not reach (its bank, or a PC of its range
  `HBM[a:b].N`) is refused (XRT would copy it silently and corrupt the timing);
  one in another PC of its range is timed by the model as local, same-group or
  other-group traffic from the port's switch port;
- argument conversion as the binding does it: `run.set_arg` takes a C++ `int`
  (TypeError for a float or an int outside [-2**31, 2**31 - 1]; bools and numpy
  integers in range pass), `run.wait(ms)` an unsigned 32-bit count (TypeError
  otherwise), and `kernel(...)` swallows every argument error, leaving it unset;
- the device answers get_info(platform) in XRT's JSON shape, with the loaded
  xclbin's clocks (platforms[0].clocks[]: DATA_CLK at the xclbin's clock);
- kernels really run (the same HLS sources, compiled by g++) so results can be
  verified; their *time* comes from harness.model on a modeled device clock, on
  which CUs launched together run concurrently.

Kernels run in worker processes (harness.runtime.emu_native): CUs launched
together run on different cores and a kernel that crashes fails its run. wait(ms)
bounds the modeled time (as on the card) and the host's wall time of the native
run: past it, or on Ctrl-C, the native code is stopped at once (its process is
killed) and the run ends in ERT_CMD_STATE_TIMEOUT (or ABORT), with the reason in
`run.detail`. Device memory is shared with those processes; host memory stays
separate, as on the card.

Faults for testing the error paths and the verification: HARNESS_EMU_FAULT (parsed by
harness.runtime.faults): `timeout`, `error` and `hang` are played here, and `stale_d2h` by
bo.sync (a device-to-host sync that leaves the host copy as it was); `operands:...`,
`accumulate:fp16`, `skip_word`, `stale_rep` and `wrong_index` inside the native kernel,
which then computes a wrong result (kernels/common/emu_faults.h), optionally `kind:kernel`.
"""
from __future__ import annotations

import ctypes
import enum
import json
import time as _time
import weakref
from pathlib import Path

import numpy as np

from harness.designs import parse_bank, parse_cfg
from harness.results import schema as _schema
from harness.runtime import costs
from harness.runtime import emu_native as _native
from harness.runtime import faults as _faults

EMULATED_DEVICE_NAME = _schema.EMULATED_DEVICE_NAME
EMULATED_SHELL = _schema.EMU_XSA_NAME
_INT_MIN, _INT_MAX = -(2 ** 31), 2 ** 31 - 1      # a C++ int, what pyxrt's set_arg converts to
_UINT_MAX = 2 ** 32 - 1                            # run.wait(unsigned int ms)


# --------------------------------------------------------------------------- enums
class xclBOSyncDirection(enum.IntEnum):
    XCL_BO_SYNC_BO_TO_DEVICE = 0
    XCL_BO_SYNC_BO_FROM_DEVICE = 1
    XCL_BO_SYNC_BO_GMIO_TO_AIE = 2
    XCL_BO_SYNC_BO_AIE_TO_GMIO = 3


class ert_cmd_state(enum.IntEnum):
    # ERT_CMD_STATE_RUNNING (3) exists in ert.h but pyxrt does not expose it.
    ERT_CMD_STATE_NEW = 1
    ERT_CMD_STATE_QUEUED = 2
    ERT_CMD_STATE_COMPLETED = 4
    ERT_CMD_STATE_ERROR = 5
    ERT_CMD_STATE_ABORT = 6
    ERT_CMD_STATE_SUBMITTED = 7
    ERT_CMD_STATE_TIMEOUT = 8
    ERT_CMD_STATE_NORESPONSE = 9
    ERT_CMD_STATE_SKERROR = 10
    ERT_CMD_STATE_SKCRASHED = 11


xrt_info_device = enum.IntEnum("xrt_info_device", [
    "bdf", "interface_uuid", "kdma", "max_clock_frequency_mhz", "m2m", "name", "nodma", "offline",
    "electrical", "thermal", "mechanical", "memory", "platform", "pcie_info", "host",
    "dynamic_regions", "vmr"])

XCL_BO_FLAGS_NONE = 0


class uuid:
    def __init__(self, text: str = "00000000-0000-0000-0000-000000000000"):
        self._text = text

    def to_string(self) -> str:
        return self._text

    def __eq__(self, other):
        return isinstance(other, uuid) and other._text == self._text

    def __hash__(self):
        return hash(self._text)


# --------------------------------------------------------------------------- xclbin
class xclbinkernel:
    def __init__(self, desc: dict):
        self._d = desc

    def get_name(self) -> str:
        return self._d["name"]

    def get_num_args(self) -> int:
        return len(self._d["args"])


class xclbinmem:
    def __init__(self, mem, used: bool):
        self._m, self._used = mem, used

    def get_tag(self) -> str:
        return self._m.tag

    def get_index(self) -> int:
        return self._m.index

    def get_size_kb(self) -> int:
        return self._m.size_bytes // 1024

    def get_base_address(self) -> int:
        return _base_address(self._m)

    def get_used(self) -> bool:
        return self._used


def _base_address(mem) -> int:
    # A distinct, aligned address range per bank, so bo.address() tells where a buffer landed.
    return 0x4000000000 + mem.index * (1 << 36)


class xclbin:
    """An emulated xclbin: the JSON descriptor written by harness.designs.native."""

    def __init__(self, path: str | None = None):
        self._path = None
        self._desc: dict = {}
        if path is not None:
            self._path = Path(path)
            try:
                self._desc = json.loads(self._path.read_text())
            except (OSError, json.JSONDecodeError) as exc:
                raise RuntimeError(f"xclbin {path}: cannot read emulated xclbin ({exc})") from exc
            if not str(self._desc.get("format", "")).startswith("harness-emu-xclbin/"):
                raise RuntimeError(f"{path} is not an emulated xclbin (built by `make emu`); "
                                   "a real .xclbin needs --mode hw, hw_emu or sw_emu")
            cfg = (self._path.parent / self._desc["cfg"]).read_text()
            self._connectivity = parse_cfg(cfg)

    def get_uuid(self) -> uuid:
        return uuid(self._desc["uuid"])

    def get_xsa_name(self) -> str:
        return self._desc["xsa_name"]

    def get_kernels(self) -> list:
        return [self.xclbinkernel(k) for k in self._desc["kernels"]]

    def get_mems(self) -> list:
        used = {t for ports in self._connectivity.values() for bank in ports.values() for t in parse_bank(bank).tags}
        return [self.xclbinmem(m, m.tag in used) for m in costs.platform().memories]


# As in pyxrt, the item classes live in the xclbin class (pyxrt.xclbin.xclbinkernel), not the module.
xclbin.xclbinkernel, xclbin.xclbinmem = xclbinkernel, xclbinmem
del xclbinkernel, xclbinmem


# --------------------------------------------------------------------------- device
class device:
    def __init__(self, index=0):
        if isinstance(index, str) and not index.isdigit():
            raise RuntimeError(f"No devices found matching BDF '{index}' (emulated device is index 0)")
        if int(index) != 0:
            raise RuntimeError(f"Device index {index} out of range: the emulator has 1 device")
        self._index = 0
        self._xclbin: xclbin | None = None
        self._lib = None                                # the loaded library, read for its fault hooks only
        self._library: tuple[str, str] | None = None   # (path, sha256) of the loaded kernels
        self._bank_used: dict[str, int] = {}
        self._live: dict[str, list] = {}               # bank -> weakrefs to its buffers, oldest first
        self._cu_free_ns: dict[str, float] = {}
        self._cohort: tuple[float, list] = (-1.0, [])   # weakrefs to the runs that begin at one instant
        self.now_ns = 0.0          # the modeled device/host clock

    # pyxrt API
    def load_xclbin(self, xb) -> uuid:
        from harness.designs.native import library_matches
        if isinstance(xb, str):
            xb = xclbin(xb)
        lib_path = (xb._path.parent / xb._desc["library"]).resolve()
        sha = xb._desc.get("library_sha256")
        if not library_matches(lib_path, sha):
            raise RuntimeError(f"{lib_path.name} does not match the SHA-256 recorded in {xb._path.name} "
                               "(missing, truncated, corrupted or from another build); rebuild it with `make emu`")
        # Loaded here only to read which faults its kernels implement (its hash checked first);
        # the kernels themselves run in the worker processes.
        lib = ctypes.CDLL(str(lib_path))
        # A fault naming a kernel this design lacks, or none of its kernels implements: refused here,
        # before any run directory exists.
        _faults.check_for_design(_faults.from_env(), xb._desc.get("design", xb._path.name),
                                 {k["name"]: _fault_mask(lib, k["name"]) for k in xb._desc["kernels"]})
        self._lib = lib
        self._library = (str(lib_path), sha)
        self._xclbin = xb
        self._cu_free_ns = {cu: 0.0 for cu in xb._connectivity}
        return xb.get_uuid()

    def get_xclbin_uuid(self) -> uuid:
        return self._xclbin.get_uuid() if self._xclbin else uuid()

    def get_info(self, key) -> str:
        key = xrt_info_device(key)
        xb = self._xclbin
        plat = costs.platform()
        if key == xrt_info_device.name:
            return EMULATED_DEVICE_NAME
        if key == xrt_info_device.bdf:
            return f"{_schema.EMULATED_BDF_PREFIX}:0"
        if key == xrt_info_device.max_clock_frequency_mhz:
            return f"{plat.max_clock_mhz.value:g}"     # the largest shell clock, as XRT reports it
        if key == xrt_info_device.offline:
            return "false"
        if key == xrt_info_device.memory:
            return json.dumps({"board": {"memory": {"memories": [
                {"tag": m.tag, "index": m.index, "size_bytes": m.size_bytes,
                 "used_bytes": self._bank_used.get(m.tag, 0)} for m in plat.memories]}}})
        if key == xrt_info_device.platform:
            # XRT's shape (boost ptree JSON: numbers as strings); clocks only once an xclbin is loaded.
            clocks = [] if xb is None else [
                {"id": "DATA_CLK", "description": "Data", "freq_mhz": f"{xb._desc['freq_mhz']:g}"},
                {"id": "KERNEL_CLK", "description": "Kernel", "freq_mhz": f"{plat.max_clock_mhz.value:g}"}]
            return json.dumps({"platforms": [{"static_region": {"vbnv": EMULATED_SHELL},
                                              "clocks": clocks, "emulated": True}]})
        if key in (xrt_info_device.thermal, xrt_info_device.electrical, xrt_info_device.mechanical):
            return json.dumps({"emulated": True, "note": "no sensors on an emulated device"})
        return json.dumps({"emulated": True})

    # emulator internals
    def _mem(self, group: int):
        for m in costs.platform().memories:
            if m.index == group:
                return m
        raise RuntimeError(f"memory group {group} does not exist on this device")


# --------------------------------------------------------------------------- buffers
class bo:
    class flags(enum.IntEnum):
        normal = 0
        cacheable = 1 << 24
        svm = 1 << 27
        device_only = 1 << 28
        host_only = 1 << 29
        p2p = 1 << 30

    normal, cacheable, svm = flags.normal, flags.cacheable, flags.svm
    device_only, host_only, p2p = flags.device_only, flags.host_only, flags.p2p

    def __init__(self, *args):
        if len(args) == 3 and isinstance(args[0], bo):          # sub-buffer
            parent, nbytes, offset = args
            if offset + nbytes > parent.size():
                raise RuntimeError("sub-buffer exceeds its parent buffer")
            self._dev_obj, self._mem, self._group = parent._dev_obj, parent._mem, parent._group
            self._host = parent._host[offset:offset + nbytes]
            self._dev = parent._dev[offset:offset + nbytes]
            self._offset = parent._offset + offset
            self._arena_off = parent._arena_off + offset
            self._parent = parent                   # its device memory lives as long as this view
            self._owns = False
            return
        if len(args) != 4:
            raise TypeError("bo(device, size, flags, group) or bo(parent, size, offset)")
        dev, nbytes, _flags, group = args
        if not isinstance(dev, device):
            raise TypeError("bo(): first argument must be a device")
        nbytes, group = int(nbytes), int(group)
        if nbytes <= 0:
            raise RuntimeError("bo(): size must be positive")
        mem = dev._mem(group)
        used = dev._bank_used.get(mem.tag, 0)
        if used + nbytes > mem.size_bytes:
            # XRT reports this as std::bad_alloc on the card.
            raise MemoryError(f"std::bad_alloc: {nbytes} bytes do not fit in {mem.tag} "
                              f"({mem.size_bytes - used} of {mem.size_bytes} bytes free)")
        self._arena_off = _native.arena().alloc(nbytes)
        dev._bank_used[mem.tag] = used + nbytes
        self._dev_obj, self._mem, self._group = dev, mem, group
        self._host = np.zeros(nbytes, np.uint8)      # host backing store (pages allocated on touch)
        # device memory: shared with the kernel processes, zero until written, like the host copy
        self._dev = _native.arena().view(self._arena_off, nbytes)
        self._offset = used                          # an address inside the bank (bo.address())
        self._owns = True
        dev._live.setdefault(mem.tag, []).append(weakref.ref(self))

    def __del__(self):
        if getattr(self, "_owns", False):
            self._owns = False
            d = self._dev_obj
            d._bank_used[self._mem.tag] = d._bank_used.get(self._mem.tag, 0) - self._host.size
            self._dev = None
            try:
                _native.arena().free(self._arena_off, self._host.size)
            except Exception:  # noqa: BLE001 - interpreter shutdown
                pass

    def size(self) -> int:
        return int(self._host.size)

    def address(self) -> int:
        return _base_address(self._mem) + self._offset

    def map(self) -> memoryview:
        return memoryview(self._host)

    def write(self, buf, seek: int) -> None:
        src = np.frombuffer(memoryview(buf).cast("B"), np.uint8)
        self._host[seek:seek + src.size] = src

    def read(self, size: int, skip: int):
        return self._host[skip:skip + size].view(np.int8).copy()

    def sync(self, direction, size: int | None = None, offset: int = 0) -> None:
        if size is None:
            # pyxrt 2023.1 has only sync(dir, size, offset); sync(dir) is 2023.2+.
            raise TypeError("sync(): incompatible function arguments (XRT 2023.1 needs sync(dir, size, offset))")
        direction = xclBOSyncDirection(direction)
        end = offset + size
        if end > self.size():
            raise RuntimeError("sync range exceeds the buffer")
        if direction not in (xclBOSyncDirection.XCL_BO_SYNC_BO_TO_DEVICE,
                             xclBOSyncDirection.XCL_BO_SYNC_BO_FROM_DEVICE):
            raise RuntimeError("AIE sync directions do not apply to Alveo")
        to_dev = direction == xclBOSyncDirection.XCL_BO_SYNC_BO_TO_DEVICE
        self._dev_obj.now_ns += costs.pcie_transfer_s(size, "h2d" if to_dev else "d2h") * 1e9
        if not to_dev and _stale_d2h():
            return          # fault stale_d2h: the host copy keeps what it held (a DMA that moved nothing)
        if size >= _native.SYNC_NATIVE_BYTES:
            host = self._host.ctypes.data + offset
            dev = _native.arena().base + self._arena_off + offset
            _native.copy(dev if to_dev else host, host if to_dev else dev, size)
        elif to_dev:
            self._dev[offset:end] = self._host[offset:end]
        else:
            self._host[offset:end] = self._dev[offset:end]


def _stale_d2h() -> bool:
    spec = _faults.from_env()
    return spec is not None and spec.kind == "stale_d2h"


# --------------------------------------------------------------------------- kernels and runs
class kernel:
    class cu_access_mode(enum.IntEnum):
        exclusive = 0
        shared = 1
        none = 2

    exclusive, shared, none = cu_access_mode.exclusive, cu_access_mode.shared, cu_access_mode.none

    def __init__(self, dev: device, xuuid: uuid, name: str, mode=None):
        if dev._xclbin is None or dev.get_xclbin_uuid() != xuuid:
            raise RuntimeError("kernel(): no xclbin with this uuid is loaded on the device")
        kname, _, sel = name.partition(":")
        desc = next((k for k in dev._xclbin._desc["kernels"] if k["name"] == kname), None)
        if desc is None:
            raise RuntimeError(f"No kernel named '{kname}' in the xclbin")
        all_cus = [cu for cu in dev._xclbin._connectivity if cu.rsplit("_", 1)[0] == kname]
        if sel:
            wanted = [s.strip() for s in sel.strip("{}").split(",") if s.strip()]
            missing = [w for w in wanted if w not in all_cus]
            if missing:
                raise RuntimeError(f"No compute units matching '{name}' ({', '.join(missing)} unknown)")
            cus = wanted
        else:
            cus = all_cus
        self._dev, self._desc, self._name, self._cus = dev, desc, kname, cus
        self._library = dev._library
        self._kinds = "".join("p" if a["kind"] == "ptr" else "u" for a in desc["args"])
        self._fault_mask = _fault_mask(dev._lib, kname)

    def group_id(self, argidx: int) -> int:
        _check_int(argidx, "group_id", _INT_MIN, _INT_MAX)
        ptrs = [i for i, a in enumerate(self._desc["args"]) if a["kind"] == "ptr"]
        if not 0 <= argidx < len(self._desc["args"]) or argidx not in ptrs:
            # XRT 2.13 indexes its vector of connected arguments: std::out_of_range -> IndexError
            raise IndexError(f"vector::_M_range_check: __n (which is {argidx % 2 ** 64}) >= this->size() "
                             f"(which is {len(ptrs)})")
        arg = self._desc["args"][argidx]
        # As XRT: with several CUs that differ, the *last* CU's bank is returned; for a port on a
        # PC range, XRT 2.13 returns the range's last bank (harness/docs/xrt-and-vitis.md 1.8).
        bank = self._dev._xclbin._connectivity[self._cus[-1]][arg["name"]]
        return costs.platform().memory(parse_bank(bank).tags[-1]).index

    def __call__(self, *args) -> "run":
        # pyxrt's kernel.__call__ catches every exception of an argument conversion: the
        # argument is silently left unset (xrt-and-vitis.md 1.6).
        r = run(self)
        for i, a in enumerate(args):
            try:
                r.set_arg(i, a)
            except (TypeError, IndexError):
                pass
        r.start()
        return r


class run:
    def __init__(self, k: kernel | None = None):
        self._k = k
        self._args: dict[int, object] = {}
        self._state = ert_cmd_state.ERT_CMD_STATE_NEW
        self._end_ns = 0.0
        self._fault = None
        self._job = None
        self._stopped = False     # the native call was stopped or failed: the state is final
        self.detail = ""          # why a run ended in TIMEOUT, ERROR or ABORT (not in pyxrt)

    def set_arg(self, index: int, value) -> None:
        _check_int(index, "set_arg", _INT_MIN, _INT_MAX)
        nargs = len(self._k._desc["args"])
        if not 0 <= index < nargs:
            raise IndexError(f"vector::_M_range_check: __n (which is {index % 2 ** 64}) >= this->size() "
                             f"(which is {nargs})")
        if isinstance(value, bo):
            self._args[index] = value
            return
        # pybind11's caster for a C++ int: integers (bool, numpy integers) in range, nothing else.
        _check_int(value, "set_arg", _INT_MIN, _INT_MAX)
        self._args[index] = int(value) & 0xFFFFFFFF

    def _pick_cu(self) -> str:
        k = self._k
        conn = k._dev._xclbin._connectivity
        problems = []
        for cu in sorted(k._cus, key=lambda c: k._dev._cu_free_ns.get(c, 0.0)):
            bad = [(a["name"], self._args[i]._mem.tag, conn[cu][a["name"]])
                   for i, a in enumerate(k._desc["args"])
                   if a["kind"] == "ptr" and isinstance(self._args.get(i), bo)
                   and not parse_bank(conn[cu][a["name"]]).reaches(self._args[i]._mem.tag)]
            if not bad:
                return cu
            problems.append((cu, bad[0]))
        cu, (arg, got, want) = problems[0]
        reach = parse_bank(want)
        into = reach.home or reach.tags[-1]
        raise RuntimeError(f"buffer for argument '{arg}' of {cu} is in {got} but the port is connected to "
                           f"{want}; XRT would copy it to {into} before every run and distort the timing")

    def start(self) -> None:
        k = self._k
        if self._job is not None and not self._job.done:
            _native.pool().wait(self._job, None)     # one run object runs one call at a time
        values, native, keep, spans = [], [], [], []
        for i, a in enumerate(k._desc["args"]):
            v = self._args.get(i)
            if a["kind"] == "ptr":
                if not isinstance(v, bo):
                    raise RuntimeError(f"argument {i} ('{a['name']}') of {k._name} is not set to a buffer")
                values.append(None)
                native.append(v._arena_off)
                spans.append(v.size())
                keep.append(v)
            else:
                values.append(int(v) if isinstance(v, int) else 0)   # unset scalar register reads 0
                native.append(values[-1])
                spans.append(0)
        cu = self._pick_cu()
        self._cu = cu
        dev = k._dev
        spec = _faults.from_env()
        self._fault = spec.kind if spec and not spec.in_kernel and spec.hits(k._name) else None
        if self._fault == "own_pc":
            _own_pc(dev, cu, k._desc["args"], self._args, native, keep, spans)
        self.detail = ""
        self._job = None
        self._stopped = False
        if self._fault != "hang":
            code = spec.code if spec and spec.in_kernel and spec.hits(k._name) \
                and k._fault_mask >> spec.code & 1 else 0
            path, sha = k._library
            self._job = _native.pool().submit(path, sha, k._name, k._kinds, native, keep, fault=code, spans=spans)
        scalars = {a["name"]: (values[i] if a["kind"] != "ptr" else None) for i, a in enumerate(k._desc["args"])}
        banks = dev._xclbin._connectivity[cu]
        placed = {a["name"]: self._args[i]._mem.tag for i, a in enumerate(k._desc["args"]) if a["kind"] == "ptr"}
        begin = max(dev.now_ns + costs.dispatch_s() * 1e9, dev._cu_free_ns.get(cu, 0.0))
        self._timing = (k._desc, dev._xclbin._desc, scalars, banks, placed, begin,
                        costs.streamed_banks(k._desc, dev._xclbin._desc, scalars, placed))
        # CUs started for the same instant share the PCs they stream through: each start retimes
        # the launch's runs with the crowd it now knows (all are started before any is waited on).
        if dev._cohort[0] != begin:
            dev._cohort = (begin, [])
        dev._cohort[1].append(weakref.ref(self))      # weak: a launch's buffers are freed with its runs
        _retime([r for r in (w() for w in dev._cohort[1]) if r is not None])
        self._state = ert_cmd_state.ERT_CMD_STATE_SUBMITTED

    def _finish_native(self, timeout_ms: int) -> bool:
        """Wait for the kernel's native execution, at most timeout_ms of host time (0: as long as it
        takes); False if it was stopped (deadline, crash) with the state and detail set."""
        job = self._job
        if job is None:
            return True
        dev = self._k._dev
        try:
            return self._wait_native(job, timeout_ms)
        finally:
            if self._stopped:      # a stopped CU is free again (as after a reset on the card)
                dev._cu_free_ns[self._cu] = dev.now_ns

    def _wait_native(self, job, timeout_ms: int) -> bool:
        if not job.done:
            deadline = _time.monotonic() + timeout_ms / 1e3 if timeout_ms else None
            try:
                finished = _native.pool().wait(job, deadline)
            except KeyboardInterrupt:
                self._state, self._stopped = ert_cmd_state.ERT_CMD_STATE_ABORT, True
                self.detail = "interrupted: the emulated kernel was stopped"
                raise
            if not finished:
                self._state, self._stopped = ert_cmd_state.ERT_CMD_STATE_TIMEOUT, True
                self.detail = (f"the emulated kernel was still running on the host after {timeout_ms} ms "
                               "and was stopped")
                self._k._dev.now_ns += timeout_ms * 1e6
                # the launch has failed: stop its other kernels too instead of waiting out each one
                _native.pool().abort("stopped: another kernel of the launch passed its deadline")
                return False
        if job.error:
            self._state, self._stopped = ert_cmd_state.ERT_CMD_STATE_ERROR, True
            self.detail = job.error
            return False
        return True

    def _stop_native(self, why: str) -> None:
        """A run given up on (TIMEOUT) stops its native call too: nothing runs on for hours."""
        if self._job is not None and not self._job.done:
            _native.pool().stop(self._job, why)
            self._k._dev._cu_free_ns[self._cu] = self._k._dev.now_ns

    def wait(self, timeout_ms: int = 0) -> ert_cmd_state:
        _check_int(timeout_ms, "wait", 0, _UINT_MAX)
        dev = self._k._dev
        if self._state == ert_cmd_state.ERT_CMD_STATE_NEW or self._stopped:
            return self._state
        if self._state != ert_cmd_state.ERT_CMD_STATE_SUBMITTED:
            return self._state
        remaining = self._end_ns - dev.now_ns
        # The timeout bounds the modeled time (as on the card) and the host's wall time of the native
        # execution: a kernel that would run for hours on the host is given up on like a hung one.
        if self._fault in ("timeout", "hang") or (timeout_ms and remaining > timeout_ms * 1e6):
            if not timeout_ms:
                raise RuntimeError("emulated kernel never completes and wait() has no timeout "
                                   "(on the card this call would block forever)")
            self._stop_native("given up on: no completion within the timeout")
            dev.now_ns += timeout_ms * 1e6
            self._state = ert_cmd_state.ERT_CMD_STATE_TIMEOUT
            return self._state
        if not self._finish_native(timeout_ms):
            return self._state
        dev.now_ns = max(dev.now_ns, self._end_ns)
        self._state = (ert_cmd_state.ERT_CMD_STATE_ERROR if self._fault == "error"
                       else ert_cmd_state.ERT_CMD_STATE_COMPLETED)
        return self._state

    def state(self) -> ert_cmd_state:
        if self._state == ert_cmd_state.ERT_CMD_STATE_SUBMITTED and self._k._dev.now_ns >= self._end_ns \
                and (self._job is None or self._job.done):
            return ert_cmd_state.ERT_CMD_STATE_COMPLETED
        return self._state


def _own_pc(dev, cu: str, args: list, bufs: dict, native: list, keep: list, spans: list) -> None:
    """HARNESS_EMU_FAULT=own_pc: a port on a PC range gets the address of its own PC (the PC of its
    switch port) instead of its buffer's: the oldest live buffer there that is large enough, else
    a zeroed one made there for the run."""
    conn = dev._xclbin._connectivity[cu]
    for i, a in enumerate(args):
        if a["kind"] != "ptr":
            continue
        reach, v = parse_bank(conn[a["name"]]), bufs[i]
        if not reach.is_range or reach.home is None or v._mem.tag == reach.home:
            continue
        there = [b for b in (r() for r in dev._live.get(reach.home, [])) if b is not None and b.size() >= v.size()]
        if not there:
            there = [bo(dev, v.size(), 0, costs.platform().memory(reach.home).index)]
        native[i] = there[0]._arena_off
        spans[i] = there[0].size()
        keep.append(there[0])


def _retime(runs: list) -> None:
    """Modeled end of every run of one launch, with the ports of the others on the banks it streams."""
    from collections import Counter
    load = Counter(t for r in runs for t in set(r._timing[6]))      # CUs per bank
    for r in runs:
        kdesc, xdesc, scalars, banks, placed, begin, streamed = r._timing
        crowd = max((load[t] for t in streamed), default=1)
        r._end_ns = begin + costs.kernel_time_s(kdesc, xdesc, scalars, banks, placed, crowd) * 1e9
        if r._fault == "hang":
            r._end_ns = float("inf")
        r._k._dev._cu_free_ns[r._cu] = r._end_ns


def _check_int(value, fn: str, lo: int, hi: int) -> None:
    """TypeError as pybind11 raises it when a Python value does not convert to the C++ integer."""
    ok = isinstance(value, (int, np.integer)) and lo <= int(value) <= hi
    if not ok:
        raise TypeError(f"{fn}(): incompatible function arguments. The following argument types are "
                        f"supported: integer in [{lo}, {hi}]; invoked with: {value!r}")


FAULTS = _faults.RUN_FAULTS


def check_fault_spec() -> None:
    """Refuse a malformed HARNESS_EMU_FAULT before anything runs (UserError, one line)."""
    _faults.from_env()


def _fault_mask(lib, kname: str) -> int:
    """The in-kernel faults (bit 1 << code) kernel `kname` of a native library implements."""
    try:
        return int(ctypes.c_uint.in_dll(lib, f"harness_emu_faults_{kname}").value)
    except ValueError:
        return 0
