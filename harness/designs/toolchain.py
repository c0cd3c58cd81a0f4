"""Which Vitis release can build what: `make xclbin` stops before hours of work on one that cannot.

- U280 devices are not supported by Vivado/Vitis 2024.1 and later (AMD; harness/docs/xrt.md):
  U280 xclbins are built with Vitis 2023.2 or older.
- sw_emu is deprecated in Vitis 2024.2 and removed in 2025.1 (v++ error 82-10998).

`python -m harness.designs toolchain TARGET [VPP]` runs `VPP --version` and exits 2 with the
reason on a release that cannot build TARGET for the U280.
"""
from __future__ import annotations

import re
import subprocess
import sys

LAST_U280_RELEASE = (2023, 2)
SW_EMU_DEPRECATED, SW_EMU_REMOVED = (2024, 2), (2025, 1)
_VERSION = re.compile(r"\bv(\d{4})\.(\d)\b")


def parse_release(text: str) -> tuple[int, int] | None:
    """(2023, 1) from `v++ --version` output ('v++ v2023.1 (64-bit)'), or None."""
    m = _VERSION.search(text)
    return (int(m.group(1)), int(m.group(2))) if m else None


def check(version_text: str, target: str, platform: str = "") -> tuple[str | None, str | None]:
    """(error, warning) for building TARGET on PLATFORM with the v++ whose --version is version_text."""
    rel = parse_release(version_text)
    if rel is None:
        return None, f"cannot read the Vitis release from `v++ --version` ({version_text.strip()[:80]!r})"
    name = f"{rel[0]}.{rel[1]}"
    if rel > LAST_U280_RELEASE and ("u280" in platform.lower() or not platform):
        return (f"Vitis {name} cannot build for the U280: U280 devices are not supported by Vivado/Vitis 2024.1 "
                "and later; use Vitis 2023.2 or older (source its settings64.sh)"), None
    if target == "sw_emu":
        if rel >= SW_EMU_REMOVED:
            return (f"Vitis {name} has no sw_emu (removed in 2025.1): use TARGET=hw_emu, or --mode emu "
                    "for the harness's own emulator"), None
        if rel >= SW_EMU_DEPRECATED:
            return None, f"sw_emu is deprecated in Vitis {name} (2024.2) and removed in 2025.1; prefer hw_emu"
    return None, None


def main(argv: list[str]) -> int:
    target = argv[0] if argv else "hw"
    vpp = argv[1] if len(argv) > 1 else "v++"
    platform = argv[2] if len(argv) > 2 else ""
    try:
        res = subprocess.run([vpp, "--version"], capture_output=True, text=True, timeout=120)
        text = res.stdout + res.stderr
    except (OSError, subprocess.SubprocessError) as exc:
        print(f"error: `{vpp} --version` failed ({exc}): source <Vitis install>/settings64.sh", file=sys.stderr)
        return 2
    error, warning = check(text, target, platform)
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    if error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0
