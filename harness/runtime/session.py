"""One loaded xclbin, used as harness/docs/xrt-and-vitis.md sections 3-4 say it must be.

- one kernel object per CU (`"kernel:{kernel_3}"`): group_id returns only the
  last CU's bank when CUs differ;
- every buffer allocated in the bank its argument is connected to (group_id),
  checked against the design file, and a buffer in another bank refused before
  the run (XRT would silently copy it and corrupt the timing);
- scalars must fit 32 bits (pyxrt silently drops anything else);
- wait(timeout) and a check of the returned state on every launch;
- host<->device transfers timed apart from kernel time.
Written once against the pyxrt 2023.1 surface; the same code drives the emulator.
"""
from __future__ import annotations

import time
from pathlib import Path

from harness.errors import RunFailed, UserError
from harness.runtime import has_hw_context

U32_MAX = 2 ** 32 - 1


class Session:
    def __init__(self, rt, design, xclbin_path: str | Path | None = None):
        self.rt, self.design = rt, design
        xrt = rt.xrt
        path = Path(xclbin_path) if xclbin_path else rt.default_xclbin(design)
        if not path.is_file():
            build = "make emu" if rt.mode == "emu" else f"make xclbin TARGET={rt.mode} DESIGN={design.name}"
            raise UserError(f"xclbin not found: {path}; build it with `{build}` or pass --xclbin PATH")
        self.xclbin_path = path
        try:
            self.xclbin = xrt.xclbin(str(path))
            if has_hw_context(xrt) and hasattr(rt.device, "register_xclbin"):
                # XRT >= 2023.2: register + hw_context (load_xclbin is deprecated from 2026.1).
                self.uuid = rt.device.register_xclbin(self.xclbin)
                self._ctx = xrt.hw_context(rt.device, self.uuid)
            else:
                # XRT 2023.1 surface (and the emulator): load_xclbin + kernel(device, uuid, name).
                self.uuid = rt.device.load_xclbin(self.xclbin)
                self._ctx = None
        except Exception as exc:  # noqa: BLE001 - XRT raises RuntimeError with its own text
            raise UserError(f"cannot load {path}: {str(exc).splitlines()[0] if str(exc) else exc}") from exc
        mems = self.xclbin.get_mems()
        self.mem_index = {m.get_tag(): m.get_index() for m in mems}
        self.mem_size = {m.get_tag(): m.get_size_kb() * 1024 for m in mems}
        self.mem_range = {m.get_index(): (m.get_base_address(), m.get_size_kb() * 1024) for m in mems}
        unknown = sorted({a.bank_for(c) for k in design.kernels.values() for a in k.args if a.kind == "ptr"
                          for c in range(k.cus)} - set(self.mem_index))
        if unknown:
            rt.notes.append(f"{path.name} names no memory {', '.join(unknown[:3])}...: banks are taken from "
                            "kernel.group_id and checked by buffer address only")
        have = {k.get_name() for k in self.xclbin.get_kernels()}
        missing = [k for k in design.kernels if k not in have]
        if missing:
            raise UserError(f"{path.name} has no kernel {', '.join(missing)}: it was not built from "
                            f"{design.file_label}; rebuild it (make xclbin / make emu)")
        self._kernels: dict[tuple[str, int], object] = {}

    # ------------------------------------------------------------------ identity
    def uuid_string(self) -> str:
        return self.uuid.to_string()

    def xsa_name(self) -> str:
        return self.xclbin.get_xsa_name()

    # ------------------------------------------------------------------ kernels and buffers
    def kernel(self, kname: str, cu: int):
        key = (kname, cu)
        if key not in self._kernels:
            name = f"{kname}:{{{kname}_{cu + 1}}}"      # one kernel object per CU
            xrt = self.rt.xrt
            self._kernels[key] = (xrt.kernel(self._ctx, name) if self._ctx is not None
                                  else xrt.kernel(self.rt.device, self.uuid, name))
        return self._kernels[key]

    def bank(self, kname: str, cu: int, arg: str) -> str:
        k = self.design.kernels[kname]
        return k.args[k.arg_index(arg)].bank_for(cu)

    def alloc(self, kname: str, cu: int, arg: str, nbytes: int):
        """A buffer in the bank that `arg` of CU `cu` is connected to."""
        k = self.kernel(kname, cu)
        idx = self.design.kernels[kname].arg_index(arg)
        group = k.group_id(idx)
        tag = self.bank(kname, cu, arg)
        if tag in self.mem_index and group != self.mem_index[tag]:
            raise UserError(f"{kname}_{cu + 1}.{arg} is connected to memory {group} in {self.xclbin_path.name} "
                            f"but {self.design.file_label} says {tag}; rebuild the xclbin or fix the bank there")
        cap = self.mem_size.get(tag)
        if cap is not None and nbytes > cap:
            raise UserError(f"{nbytes} bytes for {kname}.{arg} exceed {tag} ({cap} bytes); use a smaller size")
        try:
            b = self.rt.xrt.bo(self.rt.device, int(nbytes), self.rt.xrt.bo.normal, group)
        except MemoryError as exc:
            raise UserError(f"out of device memory in {tag}: {exc}") from exc
        return b

    def in_group(self, b, group: int) -> bool:
        """Whether buffer `b` lies in memory `group` (by its device address)."""
        base, size = self.mem_range.get(group, (None, None))
        try:
            addr = b.address()
        except AttributeError:
            return False
        return base is not None and base <= addr < base + size

    def run(self, kname: str, cu: int, args: list):
        """A run of CU `cu` with every argument checked and set (reused across repetitions)."""
        kern = self.design.kernels[kname]
        if len(args) != len(kern.args):
            raise ValueError(f"{kname} takes {len(kern.args)} arguments, got {len(args)}")
        r = self.rt.xrt.run(self.kernel(kname, cu))
        for i, (spec, value) in enumerate(zip(kern.args, args)):
            if spec.kind == "ptr":
                group = self.kernel(kname, cu).group_id(i)     # where the xclbin connects this port
                if not self.in_group(value, group):
                    raise UserError(f"buffer for {kname}_{cu + 1}.{spec.name} is not in {spec.bank_for(cu)}; "
                                    "XRT would silently copy it there before every run and distort the timing")
            else:
                if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= U32_MAX:
                    raise UserError(f"{kname}.{spec.name} = {value!r} does not fit an unsigned 32-bit scalar "
                                    "(pyxrt would silently drop it); use a smaller value")
            r.set_arg(i, value)
        return r

    # ------------------------------------------------------------------ launches and transfers
    def launch(self, runs: list, timeout_ms: int, what: str) -> tuple[float, float]:
        """Start runs together, wait for each; return (time_s, wall_time_s).

        time_s is start()..wait() on rt.now_ns() (measured on the card, modeled in emulation).
        """
        xrt = self.rt.xrt
        done = xrt.ert_cmd_state.ERT_CMD_STATE_COMPLETED
        w0 = time.perf_counter_ns()
        t0 = self.rt.now_ns()
        for r in runs:
            r.start()
        states = [r.wait(int(timeout_ms)) for r in runs]
        t1 = self.rt.now_ns()
        w1 = time.perf_counter_ns()
        for st in states:
            if st != done:
                name = getattr(st, "name", str(st))
                if st == xrt.ert_cmd_state.ERT_CMD_STATE_TIMEOUT:
                    cause = (f"no completion within {timeout_ms} ms: the kernel may be hung (bad size or "
                             "address argument) or slower than expected; raise --timeout to wait longer")
                else:
                    cause = ("the device reported an error: check `xbutil examine -r error` and dmesg; "
                             "the card may need `xbutil reset`")
                raise RunFailed(f"{what}: run ended in {name}; {cause}")
        return (t1 - t0) / 1e9, (w1 - w0) / 1e9

    def to_device(self, bos: list) -> float:
        """Host->device DMA of whole buffers; returns seconds (never part of kernel time)."""
        d = self.rt.xrt.xclBOSyncDirection.XCL_BO_SYNC_BO_TO_DEVICE
        t0 = self.rt.now_ns()
        for b in bos:
            b.sync(d, b.size(), 0)
        return (self.rt.now_ns() - t0) / 1e9

    def from_device(self, b, nbytes: int | None = None, offset: int = 0) -> float:
        d = self.rt.xrt.xclBOSyncDirection.XCL_BO_SYNC_BO_FROM_DEVICE
        t0 = self.rt.now_ns()
        b.sync(d, b.size() if nbytes is None else nbytes, offset)
        return (self.rt.now_ns() - t0) / 1e9
