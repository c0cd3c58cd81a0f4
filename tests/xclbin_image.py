"""A minimal xclbin (XRT's `axlf` container) written from a design file, for tests.

It holds only what XRT needs to load a binary on its no-op device and to build
kernels and runs on it: IP_LAYOUT (one IP_KERNEL per CU), MEM_TOPOLOGY (every
bank of the platform data, `m_used` where a CU port connects), CONNECTIVITY
(argument -> CU -> bank, from the same rendered .cfg v++ reads) and
EMBEDDED_METADATA (the kernel XML: ports, arguments, instances), plus
CLOCK_FREQ_TOPOLOGY with the design's clock. No bitstream.

Layout and field sizes as `xclbin.h` (Debian `libxrt-dev`, XRT 2.13,
/usr/include/xrt/xclbin.h) defines them: `struct axlf` (496 bytes, its first
section header inline), `axlf_header` (152), `axlf_section_header` (40),
`mem_data` (40), `ip_data` (80), `connection` (12), `clock_freq` (136). The
XML element and attribute names are those XRT's parser reads
(src/runtime_src/core/common/xclbin_parser.cpp: project.platform.device.core.kernel
with `port` (name, mode, range, dataWidth), `arg` (name, addressQualifier, id,
port, size, offset, hostOffset, hostSize, type) and `instance`/`addrRemap`).
"""
from __future__ import annotations

import struct
import time
import uuid as uuidlib
from pathlib import Path
from xml.sax.saxutils import quoteattr

# enum axlf_section_kind
EMBEDDED_METADATA, MEM_TOPOLOGY, CONNECTIVITY, IP_LAYOUT, CLOCK_FREQ_TOPOLOGY = 2, 6, 7, 8, 11
# enum MEM_TYPE, IP_TYPE, IP_CONTROL, CLOCK_TYPE
MEM_DDR4, MEM_HBM = 1, 6
IP_KERNEL = 1
AP_CTRL_CHAIN = 1
CT_DATA, CT_KERNEL, CT_SYSTEM = 1, 2, 3

CU_BASE = 0x1800000          # CU register maps, 64 KiB apart
CU_RANGE = 0x10000
HBM_BASE, DDR_BASE = 0x0, 0x4000000000


def _cstr(text: str, size: int) -> bytes:
    raw = text.encode()
    if len(raw) >= size:
        raise ValueError(f"{text!r} does not fit {size} bytes with its terminating NUL")
    return raw.ljust(size, b"\0")


def memories(platform) -> list[dict]:
    """The platform's banks in topology order, with base addresses."""
    out, hbm_next, ddr_next = [], HBM_BASE, DDR_BASE
    for m in sorted(platform.memories, key=lambda m: m.index):
        if m.kind == "hbm":
            base, hbm_next = hbm_next, hbm_next + m.size_bytes
        else:
            base, ddr_next = ddr_next, ddr_next + m.size_bytes
        out.append({"tag": m.tag, "type": MEM_HBM if m.kind == "hbm" else MEM_DDR4,
                    "size_kb": m.size_bytes // 1024, "base": base})
    return out


def _register_map(kernel) -> list[tuple[object, int, int]]:
    """(arg, offset, size) as Vitis HLS lays out s_axilite: from 0x10, 64-bit pointers, 32-bit scalars."""
    out, off = [], 0x10
    for a in kernel.args:
        size = 8 if a.kind == "ptr" else 4
        out.append((a, off, size))
        off += size + 4          # HLS leaves a reserved word after each argument
    return out


def _xml(design, platform_vbnv: str, cu_base: dict[str, int]) -> bytes:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             f'<project name={quoteattr(design.name)}>',
             f'  <platform vendor="xilinx" boardid="u280" name={quoteattr(platform_vbnv)} featureRomTime="0">',
             '    <version major="1" minor="0"/>',
             '    <device name="fpga0" fpgaDevice="virtexuplushbm" addrWidth="0">',
             f'      <core name="OCL_REGION_0" target="bitstream" type="clc_region" '
             f'clockFreq="{design.freq_mhz:g}MHz" numComputeUnits="{sum(k.cus for k in design.kernels.values())}">',
             '        <kernelClocks>',
             f'          <clock port="KERNEL_CLK" frequency="{design.freq_mhz:g}MHz"/>',
             f'          <clock port="DATA_CLK" frequency="{design.freq_mhz:g}MHz"/>',
             '        </kernelClocks>']
    for k in design.kernels.values():
        lines.append(f'        <kernel name={quoteattr(k.name)} language="c" '
                     f'vlnv="xilinx.com:hls:{k.name}:1.0" preferredWorkGroupSizeMultiple="0" workGroupSize="1" '
                     'interrupt="true" hwControlProtocol="ap_ctrl_chain">')
        regs = _register_map(k)
        top = max((off + size for _, off, size in regs), default=0x10)
        lines.append(f'          <port name="s_axi_control" mode="slave" range="0x{max(0x1000, top):X}" '
                     'dataWidth="32" portType="addressable" base="0x0"/>')
        ptrs = [a for a in k.args if a.kind == "ptr"]
        for i, a in enumerate(ptrs):
            lines.append(f'          <port name="m_axi_gmem{i}" mode="master" range="0xFFFFFFFFFFFFFFFF" '
                         f'dataWidth="{a.width_bits or 512}" portType="addressable" base="0x0"/>')
        gmem = {a.name: f"m_axi_gmem{i}" for i, a in enumerate(ptrs)}
        for idx, (a, off, size) in enumerate(regs):
            qual, port, ctype = (1, gmem[a.name], "void*") if a.kind == "ptr" else (0, "s_axi_control", "uint")
            lines.append(f'          <arg name={quoteattr(a.name)} addressQualifier="{qual}" id="{idx}" '
                         f'port="{port}" size="0x{size:X}" offset="0x{off:X}" hostOffset="0x0" '
                         f'hostSize="0x{size:X}" type="{ctype}"/>')
        for cu in k.cu_names():
            lines.append(f'          <instance name={quoteattr(cu)}>')
            lines.append(f'            <addrRemap base="0x{cu_base[cu]:X}" range="0x{CU_RANGE:X}" '
                         'port="s_axi_control"/>')
            lines.append('          </instance>')
        lines.append('        </kernel>')
    lines += ['      </core>', '    </device>', '  </platform>', '</project>', '']
    return "\n".join(lines).encode()


def build(design, platform, platform_vbnv: str = "xilinx_u280_gen3x16_xdma_1_202211_1",
          xclbin_uuid: str | None = None, data_clock_mhz: float | None = None) -> bytes:
    """The bytes of an xclbin for `design` (harness.designs.Design) on `platform` (harness.model Platform).

    data_clock_mhz: the DATA clock the link achieved (default: the design's target)."""
    from harness.designs import parse_bank, parse_cfg
    conn = parse_cfg(design.cfg_text())                  # the connectivity v++ would get
    mems = memories(platform)
    mem_index = {m["tag"]: i for i, m in enumerate(mems)}
    used = {t for ports in conn.values() for bank in ports.values() for t in parse_bank(bank).tags}

    cus = [(k, cu) for k in design.kernels.values() for cu in k.cu_names()]
    cu_base = {cu: CU_BASE + i * CU_RANGE for i, (_, cu) in enumerate(cus)}

    # IP_LAYOUT: one IP_KERNEL per CU named "kernel:cu", sorted by base address
    ips = b"".join(struct.pack("<IIQ64s", IP_KERNEL, (AP_CTRL_CHAIN << 8) | 1 | (i << 1), cu_base[cu],
                               _cstr(f"{k.name}:{cu}", 64))
                   for i, (k, cu) in enumerate(cus))
    ip_layout = struct.pack("<i4x", len(cus)) + ips

    # MEM_TOPOLOGY
    md = b"".join(struct.pack("<BB6xQQ16s", m["type"], int(m["tag"] in used), m["size_kb"], m["base"],
                              _cstr(m["tag"], 16)) for m in mems)
    mem_topology = struct.pack("<i4x", len(mems)) + md

    # CONNECTIVITY: (arg index, ip_layout index, mem_data index) for every pointer of every CU and
    # every bank it reaches (a port on HBM[0:31] has 32 rows)
    rows = []
    for ip_idx, (k, cu) in enumerate(cus):
        for arg_idx, a in enumerate(k.args):
            if a.kind == "ptr":
                for tag in parse_bank(conn[cu][a.name]).tags:
                    rows.append(struct.pack("<iii", arg_idx, ip_idx, mem_index[tag]))
    connectivity = struct.pack("<i", len(rows)) + b"".join(rows)

    # CLOCK_FREQ_TOPOLOGY: the data clock (the design's target unless given), the kernel clock at 500
    clocks = [(int(data_clock_mhz or design.freq_mhz), CT_DATA, "DATA_CLK"), (500, CT_KERNEL, "KERNEL_CLK")]
    clock_topo = struct.pack("<h", len(clocks)) + b"".join(
        struct.pack("<HB5x128s", f, t, _cstr(n, 128)) for f, t, n in clocks)

    sections = [(EMBEDDED_METADATA, "metadata", _xml(design, platform_vbnv, cu_base)),
                (MEM_TOPOLOGY, "mem_topology", mem_topology),
                (CONNECTIVITY, "connectivity", connectivity),
                (IP_LAYOUT, "ip_layout", ip_layout),
                (CLOCK_FREQ_TOPOLOGY, "clock_freq", clock_topo)]

    header_size = 496 - 40 + 40 * len(sections)         # struct axlf holds the first section header
    offsets, body, pos = [], b"", (header_size + 7) & ~7
    for _, _, data in sections:
        offsets.append(pos)
        padded = data + b"\0" * (-len(data) % 8)        # every section 8-byte aligned
        body += padded
        pos += len(padded)
    total = ((header_size + 7) & ~7) + len(body)

    xuid = uuidlib.UUID(xclbin_uuid) if xclbin_uuid else uuidlib.uuid5(uuidlib.NAMESPACE_URL,
                                                                         f"harness-test:{design.name}")
    axlf_header = struct.pack("<QQQHBBHH16s64s16s16sI4x",
                              total, int(time.time()), 0, 0, 2, 1, 0, 0,   # length, stamps, version 2.1.0, XCLBIN_FLAT
                              b"\0" * 16, _cstr(platform_vbnv, 64), xuid.bytes, b"\0" * 16, len(sections))
    assert len(axlf_header) == 152
    head = (b"xclbin2\0" + struct.pack("<i", -1) + b"\xff" * 28 + b"\xff" * 256 + struct.pack("<Q", 0)
            + axlf_header)
    for (kind, name, data), off in zip(sections, offsets):
        head += struct.pack("<I16s4xQQ", kind, _cstr(name, 16), off, len(data))
    assert len(head) == header_size
    head += b"\0" * (((header_size + 7) & ~7) - header_size)
    image = head + body
    assert len(image) == total
    return image


def write(path: Path, design, platform, **kw) -> Path:
    path = Path(path)
    path.write_bytes(build(design, platform, **kw))
    return path
