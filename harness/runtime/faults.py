"""HARNESS_EMU_FAULT: the faults the emulator can inject, parsed in this one place.

    HARNESS_EMU_FAULT = KIND[:KERNEL]

Kinds the emulator itself plays (every kernel has them): `timeout` (the run never completes
in time), `error` (the run ends in ERT_CMD_STATE_ERROR), `hang` (the kernel never runs),
`own_pc` (a port on a PC range, HBM[a:b].N, reads and writes its own PC N instead of the PC its
buffer was placed in: the buffer lying there, or zeros);
`stale_d2h`: every XCL_BO_SYNC_BO_FROM_DEVICE leaves the host copy as it was (a device-to-host
transfer that returns stale data; takes no :KERNEL).
Kinds played inside the natively built kernel, which then computes a wrong result on purpose
(kernels/common/emu_faults.h lists them with their codes; each kernel says which it
implements): `operands:fp16|bf16|tf32`, `accumulate:fp16`, `skip_word`, `stale_rep`,
`wrong_index`. Without `:KERNEL` a fault hits every kernel of the design that implements
it; a spec naming a kernel the design does not have, or a fault none of the targeted kernels
implements, is refused before anything runs (exit 2).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache

from harness.errors import UserError

ENV = "HARNESS_EMU_FAULT"
RUN_FAULTS = ("timeout", "error", "hang", "own_pc")   # played by the emulator's run object
BUFFER_FAULTS = ("stale_d2h",)                     # played by the emulator's bo.sync, whatever the kernel
HEADER = "kernels/common/emu_faults.h"
_CODE_LINE = re.compile(r"^#define\s+EMU_FAULT_\w+\s+(\d+)\s*//\s*(\S+)\s*$", re.MULTILINE)


@lru_cache(maxsize=1)
def kernel_fault_codes() -> dict[str, int]:
    """{spec kind: code} of the in-kernel faults, read from emu_faults.h's table."""
    from harness import REPO_ROOT
    text = (REPO_ROOT / HEADER).read_text()
    return {kind: int(code) for code, kind in _CODE_LINE.findall(text)}


def _usage() -> str:
    kernel_kinds = list(kernel_fault_codes())
    operands = [k.split(":", 1)[1] for k in kernel_kinds if k.startswith("operands:")]
    others = [k for k in kernel_kinds if not k.startswith("operands:")]
    return (f"use one of {', '.join(RUN_FAULTS + BUFFER_FAULTS)}, operands:{'|'.join(operands)}, {', '.join(others)}, "
            "optionally followed by :KERNEL, or unset it")


@dataclass(frozen=True)
class FaultSpec:
    kind: str                 # 'timeout', 'operands:fp16', 'skip_word', ...
    kernel: str | None        # only this kernel, or None: every kernel that implements it
    code: int                 # emu_faults.h code of an in-kernel fault; 0 for the run faults

    @property
    def in_kernel(self) -> bool:
        return self.code > 0

    def text(self) -> str:
        return self.kind + (f":{self.kernel}" if self.kernel else "")

    def hits(self, kernel: str) -> bool:
        return self.kernel is None or self.kernel == kernel


def parse(text: str | None) -> FaultSpec | None:
    """The fault a spec names (None for an empty spec); UserError for anything malformed."""
    spec = (text or "").strip()
    if not spec:
        return None
    codes = kernel_fault_codes()
    parts = spec.split(":")
    if parts[0] in BUFFER_FAULTS:
        if len(parts) > 1:
            raise UserError(f"{ENV}={spec!r}: {parts[0]} hits every buffer, not a kernel; use {parts[0]} alone")
        return FaultSpec(parts[0], None, 0)
    if parts[0] in RUN_FAULTS or parts[0] in codes:
        kind, rest = parts[0], parts[1:]
    elif ":".join(parts[:2]) in codes:
        kind, rest = ":".join(parts[:2]), parts[2:]
    else:
        raise UserError(f"{ENV}={spec!r}: unknown fault; {_usage()}")
    if len(rest) > 1 or (rest and not rest[0].strip()):
        raise UserError(f"{ENV}={spec!r}: expected KIND or KIND:KERNEL; {_usage()}")
    return FaultSpec(kind, rest[0].strip() if rest else None, codes.get(kind, 0))


def from_env() -> FaultSpec | None:
    return parse(os.environ.get(ENV))


def check_for_design(spec: FaultSpec | None, design: str, kernels: dict[str, int]) -> list[str]:
    """The kernels of `design` the fault will hit; UserError if it can hit none.

    kernels: {kernel name: bit mask of the in-kernel faults it implements (1 << code)}."""
    if spec is None:
        return []
    names = ", ".join(kernels)
    if spec.kernel is not None and spec.kernel not in kernels:
        raise UserError(f"{ENV}={spec.text()}: design {design} has no kernel {spec.kernel!r} "
                        f"(its kernels: {names}); name one of them or leave the kernel out")
    targets = [spec.kernel] if spec.kernel else list(kernels)
    if not spec.in_kernel:
        return targets
    hit = [k for k in targets if kernels[k] >> spec.code & 1]
    if not hit:
        able = [k for k in kernels if kernels[k] >> spec.code & 1]
        where = (f"kernel {spec.kernel} does not implement it" if spec.kernel
                 else f"no kernel of design {design} implements it")
        also = f" (in this design: {', '.join(able)})" if able else ""
        raise UserError(f"{ENV}={spec.text()}: {where}{also}; see kernels/common/emu_faults.h")
    return hit
