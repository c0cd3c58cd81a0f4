"""One loaded xclbin, used as harness/docs/xrt-and-vitis.md sections 3-4 say it must be.

- one kernel object per CU (`"kernel:{kernel_3}"`): group_id returns only the
  last CU's bank when CUs differ;
- every buffer allocated in the bank its argument is connected to (group_id),
  checked against the design file, or, for a port on a PC range (HBM[0:31].N),
  in an explicit PC of it by its memory index; a buffer outside the port's banks
  is refused before the run (XRT would silently copy it and corrupt the timing);
- scalars are unsigned 32-bit: pyxrt's set_arg takes a C++ int, so values
  >= 2**31 are passed as their two's-complement negative (the same 32 bits);
- the card's shell is checked against the platform the xclbin was built for;
- wait(timeout) (an unsigned 32-bit ms count in pyxrt) and a check of the
  returned state on every launch; the CUs of every launch are logged, so device
  profiling (hw_emu) can give each launch its device time;
- host<->device transfers timed apart from kernel time.
Written once against the pyxrt 2023.1 surface; the same code drives the emulator.
"""
from __future__ import annotations

import re
import time
from pathlib import Path

from harness.errors import RunFailed, UserError
from harness.runtime import MAX_TIMEOUT_MS, built_xclbins, has_hw_context

U32_MAX = 2 ** 32 - 1


def encode_u32(value: int) -> int:
    """An unsigned 32-bit scalar as pyxrt's set_arg (a C++ int) takes it: >= 2**31 as its negative."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= U32_MAX:
        raise ValueError(f"{value!r} is not an unsigned 32-bit value")
    return value - 2 ** 32 if value >= 2 ** 31 else value


def _missing_xclbin(rt, design, path: Path) -> str:
    """The line that says an xclbin is missing: what exists instead, and how to build it."""
    if rt.mode == "emu":
        return f"xclbin not found: {path}; build it with `make emu` or pass --xclbin PATH"
    build = f"make xclbin TARGET={rt.mode} DESIGN={design.name} PLATFORM={rt.vitis_platform}"
    have = [p for p in built_xclbins() if p.stem == design.name]
    if have:
        where = ", ".join(str(p.parent.name) for p in have)
        return (f"xclbin not found: {path}; {design.name}.xclbin exists for {where} (build/<target>.<platform>): "
                f"pass --vitis-platform or --xclbin to use it, or build this one with `{build}` (hours)")
    return f"xclbin not found: {path}; build it with `{build}` (hours) or pass --xclbin PATH"


class Session:
    def __init__(self, rt, design, xclbin_path: str | Path | None = None):
        self.rt, self.design = rt, design
        xrt = rt.xrt
        path = Path(xclbin_path) if xclbin_path else rt.default_xclbin(design)
        if not path.is_file():
            raise UserError(_missing_xclbin(rt, design, path))
        self.xclbin_path = path
        try:
            self.xclbin = xrt.xclbin(str(path))
        except Exception as exc:  # noqa: BLE001 - XRT raises RuntimeError with its own text
            raise UserError(f"cannot read {path}: {str(exc).splitlines()[0] if str(exc) else exc}") from exc
        check_shell(rt, self.xclbin.get_xsa_name(), path)
        try:
            if has_hw_context(xrt) and hasattr(rt.device, "register_xclbin"):
                # XRT >= 2023.2: register + hw_context (load_xclbin is deprecated from 2026.1).
                self.uuid = rt.device.register_xclbin(self.xclbin)
                self._ctx = xrt.hw_context(rt.device, self.uuid)
            else:
                # XRT 2023.1 surface (and the emulator): load_xclbin + kernel(device, uuid, name).
                self.uuid = rt.device.load_xclbin(self.xclbin)
                self._ctx = None
        except UserError:           # the emulator refusing HARNESS_EMU_FAULT for this design: as it says
            raise
        except Exception as exc:  # noqa: BLE001 - XRT raises RuntimeError with its own text
            raise UserError(f"cannot load {path}: {str(exc).splitlines()[0] if str(exc) else exc}") from exc
        mems = self.xclbin.get_mems()
        self.mem_index = {m.get_tag(): m.get_index() for m in mems}
        self.mem_size = {m.get_tag(): m.get_size_kb() * 1024 for m in mems}
        self.mem_range = {m.get_index(): (m.get_base_address(), m.get_size_kb() * 1024) for m in mems}
        unknown = sorted({t for k in design.kernels.values() for a in k.args if a.kind == "ptr"
                          for c in range(k.cus) for t in a.reach_for(c).tags} - set(self.mem_index))
        if unknown:
            rt.notes.append(f"{path.name} names no memory {', '.join(unknown[:3])}...: banks are taken from "
                            "kernel.group_id and checked by buffer address only")
        have = {k.get_name() for k in self.xclbin.get_kernels()}
        missing = [k for k in design.kernels if k not in have]
        if missing:
            raise UserError(f"{path.name} has no kernel {', '.join(missing)}: it was not built from "
                            f"{design.file_label}; rebuild it (make xclbin / make emu)")
        self._kernels: dict[tuple[str, int], object] = {}
        self._run_cu: dict[int, str] = {}
        self.clock_mhz: float | None = None        # the kernel clock of the run (set by the bench's context)
        self.launch_log: list[list[str]] = []     # CU names of every launch, in order

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
        """The bank a buffer of `arg` goes to by default: its port's own PC (or its one bank)."""
        k = self.design.kernels[kname]
        return k.args[k.arg_index(arg)].home_for(cu)

    def reach(self, kname: str, cu: int, arg: str):
        """The banks `arg` of CU `cu` reaches (harness.designs.Bank) as the design file connects it."""
        k = self.design.kernels[kname]
        return k.args[k.arg_index(arg)].reach_for(cu)

    def alloc(self, kname: str, cu: int, arg: str, nbytes: int, pc: int | None = None):
        """A buffer in the bank that `arg` of CU `cu` is connected to; for a port on a PC range, in
        PC `pc` (default: the port's own), allocated by its memory index in the xclbin's memory
        topology (XRT then places it there, harness/docs/xrt-and-vitis.md section 1.8)."""
        k = self.kernel(kname, cu)
        idx = self.design.kernels[kname].arg_index(arg)
        group = k.group_id(idx)
        reach = self.reach(kname, cu, arg)
        home = self.bank(kname, cu, arg)
        tag = home if pc is None else f"{reach.kind}[{pc}]"
        where = f"{kname}_{cu + 1}.{arg}"
        if not reach.reaches(tag):
            raise UserError(f"{where} reaches {reach} ({self.design.file_label}), not {tag}; place its buffer "
                            f"in {reach.tags[0]} to {reach.tags[-1]}")
        if not reach.is_range:
            if tag in self.mem_index and group != self.mem_index[tag]:
                raise UserError(f"{where} is connected to memory {group} in {self.xclbin_path.name} "
                                f"but {self.design.file_label} says {tag}; rebuild the xclbin or fix the bank there")
        else:
            # XRT answers group_id of a port on a PC range with the range's last bank (XRT 2.13,
            # harness/docs/xrt-and-vitis.md 1.8) or a group of its own (not a bank of the topology);
            # any other single bank means this xclbin connects the port to that bank alone, and a
            # buffer elsewhere would be copied there before every run.
            last = self.mem_index.get(reach.tags[-1])
            named = {i: t for t, i in self.mem_index.items()}
            if group in named and group != last:
                raise UserError(f"{self.xclbin_path.name} connects {where} to {named[group]} only, but "
                                f"{self.design.file_label} says {reach}; rebuild the xclbin (make xclbin / make emu)")
        cap = self.mem_size.get(tag)
        if cap is not None and nbytes > cap:
            raise UserError(f"{nbytes} bytes for {kname}.{arg} exceed {tag} ({cap} bytes); use a smaller size")
        if reach.is_range:
            if tag not in self.mem_index:
                raise UserError(f"{self.xclbin_path.name} has no memory {tag} in its topology; rebuild it from "
                                f"{self.design.file_label}")
            group = self.mem_index[tag]          # an explicit PC: its index in the memory topology
        try:
            b = self.rt.xrt.bo(self.rt.device, int(nbytes), self.rt.xrt.bo.normal, group)
        except MemoryError as exc:
            raise UserError(f"out of device memory in {tag}: {exc}") from exc
        return b

    def placed_in(self, kname: str, cu: int, arg: str, b) -> str | None:
        """The bank of buffer `b` among those `arg` of CU `cu` reaches (by its device address), or None."""
        for tag in self.reach(kname, cu, arg).tags:
            if tag in self.mem_index and self.in_group(b, self.mem_index[tag]):
                return tag
        return None

    def used_banks(self) -> list[str]:
        """The memories the loaded xclbin uses (a kernel port is connected to them), in index order:
        the only banks XRT allocates buffers in."""
        mems = sorted(self.xclbin.get_mems(), key=lambda m: m.get_index())
        return [m.get_tag() for m in mems if m.get_used()]

    def alloc_bank(self, tag: str, nbytes: int):
        """A buffer of `nbytes` in the memory named `tag` (e.g. HBM[31]), by its index in the xclbin."""
        if tag not in self.mem_index:
            raise UserError(f"{self.xclbin_path.name} has no memory {tag}; use one of "
                            f"{', '.join(self.used_banks())}")
        if tag not in self.used_banks():
            raise UserError(f"{tag} is not used by {self.xclbin_path.name} (no kernel port is connected to it), so "
                            f"XRT allocates no buffer there; use one of {', '.join(self.used_banks())}")
        cap = self.mem_size.get(tag)
        if cap is not None and nbytes > cap:
            raise UserError(f"{nbytes} bytes exceed {tag} ({cap} bytes); use a smaller size")
        try:
            return self.rt.xrt.bo(self.rt.device, int(nbytes), self.rt.xrt.bo.normal, self.mem_index[tag])
        except MemoryError as exc:
            raise UserError(f"out of device memory in {tag}: {exc}") from exc

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
                reach = spec.reach_for(cu)
                if reach.is_range:          # any PC of the range: is the buffer in one of them?
                    ok = self.placed_in(kname, cu, spec.name, value) is not None
                else:
                    ok = self.in_group(value, self.kernel(kname, cu).group_id(i))  # where the xclbin connects it
                if not ok:
                    raise UserError(f"buffer for {kname}_{cu + 1}.{spec.name} is not in {reach}; "
                                    "XRT would silently copy it there before every run and distort the timing")
            else:
                try:
                    value = encode_u32(value)
                except ValueError:
                    raise UserError(f"{kname}.{spec.name} = {value!r} does not fit an unsigned 32-bit scalar "
                                    "(pyxrt's set_arg takes a C++ int); use a smaller value") from None
            r.set_arg(i, value)
        self._run_cu[id(r)] = f"{kname}_{cu + 1}"
        return r

    # ------------------------------------------------------------------ launches and transfers
    def launch(self, runs: list, timeout_ms: int | None, what: str) -> tuple[float, float]:
        """Start runs together, wait for each; return (time_s, wall_time_s).

        time_s is start()..wait() on rt.now_ns() (measured on the card, modeled in emu,
        the simulator's wall clock in hw_emu/sw_emu). timeout_ms None: wait without a bound.
        """
        t, wall, _ = self.launch_each(runs, timeout_ms, what)
        return t, wall

    def launch_each(self, runs: list, timeout_ms: int, what: str) -> tuple[float, float, list[float]]:
        """As launch(), plus each run's time: from the common start to the return of its wait(),
        waiting in the order given (give the runs in their expected order of completion: a run
        that ends before the one waited on before it is seen when that wait returns)."""
        xrt = self.rt.xrt
        done = xrt.ert_cmd_state.ERT_CMD_STATE_COMPLETED
        if timeout_ms is not None and not 1 <= int(timeout_ms) <= MAX_TIMEOUT_MS:
            raise UserError(f"timeout {timeout_ms} ms: run.wait takes 1 to {MAX_TIMEOUT_MS} ms")
        self.launch_log.append([self._run_cu.get(id(r), "?") for r in runs])
        w0 = time.perf_counter_ns()
        t0 = self.rt.now_ns()
        for r in runs:
            r.start()
        states, ends = [], []
        for r in runs:
            states.append(r.wait() if timeout_ms is None else r.wait(int(timeout_ms)))
            ends.append(self.rt.now_ns())
        t1 = self.rt.now_ns()
        w1 = time.perf_counter_ns()
        for r, st in zip(runs, states):
            if st != done:
                name = getattr(st, "name", str(st))
                detail = getattr(r, "detail", "")      # the emulator says why; pyxrt runs have no such field
                if st == xrt.ert_cmd_state.ERT_CMD_STATE_TIMEOUT:
                    cause = (f"no completion within {timeout_ms} ms: the kernel may be hung (bad size or "
                             "address argument) or slower than expected; raise --timeout to wait longer"
                             + (f" ({detail})" if detail else ""))
                elif detail:
                    cause = detail
                else:
                    cause = ("the device reported an error: check `xrt-smi examine -r error` (`xbutil` before "
                             "XRT 2024.1) and dmesg; the card may need `xrt-smi reset`")
                raise RunFailed(f"{what}: run ended in {name}; {cause}")
        return (t1 - t0) / 1e9, (w1 - w0) / 1e9, [(e - t0) / 1e9 for e in ends]

    def to_device(self, bos: list, nbytes: int | None = None) -> float:
        """Host->device DMA of whole buffers (or their first `nbytes`); returns seconds (never
        part of kernel time)."""
        d = self.rt.xrt.xclBOSyncDirection.XCL_BO_SYNC_BO_TO_DEVICE
        t0 = self.rt.now_ns()
        for b in bos:
            b.sync(d, b.size() if nbytes is None else nbytes, 0)
        return (self.rt.now_ns() - t0) / 1e9

    def poison(self, items: list, word: int) -> None:
        """[(bo, nbytes)]: those bytes of each output become `word` (uint64) on the device, so a
        launch that skips a word cannot pass verification (rt.buffers: numpy + sync on the card)."""
        self.rt.buffers.poison(items, word)

    def fetch_compare(self, items: list) -> tuple[float, list[tuple[int, int]]]:
        """[(bo, expected uint64 words)]: sync each output from the device and compare it with the
        expected words. Returns (transfer seconds, [(differing words, first differing word or -1)]).
        The host copy is not to be relied on afterwards (the emulator compares its device copy in
        place); from_device fetches an output to read it."""
        t0 = self.rt.now_ns()
        res = self.rt.buffers.fetch_compare(items)
        return (self.rt.now_ns() - t0) / 1e9, res

    def from_device(self, b, nbytes: int | None = None, offset: int = 0) -> float:
        d = self.rt.xrt.xclBOSyncDirection.XCL_BO_SYNC_BO_FROM_DEVICE
        t0 = self.rt.now_ns()
        b.sync(d, b.size() if nbytes is None else nbytes, offset)
        return (self.rt.now_ns() - t0) / 1e9


# --------------------------------------------------------------------------- shell
_PLATFORM_RE = re.compile(r"^(?P<family>.+?)_(?P<version>\d+)_(?P<date>\d{6})_(?P<rev>\d+)$")
_LEGACY_RE = re.compile(r"^(?P<family>.+?)_(?P<date>\d{6})_(?P<rev>\d+)$")
_SHELL_RE = re.compile(r"^(?P<family>.+?)_base_(?P<version>\d+)$")


def shell_matches(shell: str, platform: str) -> bool | None:
    """Whether a card's shell (e.g. xilinx_u280_gen3x16_xdma_base_1) runs xclbins built for `platform`
    (e.g. xilinx_u280_gen3x16_xdma_1_202211_1); None when either name has another form."""
    shell, platform = shell.strip(), Path(platform.strip()).name.removesuffix(".xpfm")
    if shell == platform:
        return True                      # legacy platforms: the shell has the platform's name
    s, p = _SHELL_RE.match(shell), _PLATFORM_RE.match(platform)
    if s and p:
        return s["family"] == p["family"] and s["version"] == p["version"]
    if s or p or _LEGACY_RE.match(platform):
        return False
    return None


def check_shell(rt, xsa_name: str, path: Path) -> None:
    """Stop, with one line, when the card's shell is not the one the xclbin was built for."""
    from harness.runtime.info import card_shell
    shell = card_shell(rt)
    if not shell or not xsa_name:
        return                      # the device does not say (e.g. the no-op device): XRT will check
    if shell_matches(shell, xsa_name) is False:
        raise UserError(f"{path.name} was built for {xsa_name} but the card's shell is {shell}: build for "
                        "the platform of this shell (make xclbin PLATFORM=..., --vitis-platform) or install "
                        f"the shell {xsa_name} needs (`xbmgmt program --base`)")
