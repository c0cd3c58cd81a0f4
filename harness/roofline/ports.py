"""Per-port memory time: a kernel moves its bytes through its ports, each reaching its own PCs.

memory time of one call = max over the PCs the kernel's ports reach of
    sum over the ports on that PC of (bytes through the port / its PCs) / per-PC bandwidth (direction)
which, when every port has PCs of its own (the GEMM design: A, B, C, bias on one PC each), is the
maximum over ports of bytes through the port / bandwidth of the PCs it reaches. Ports that share a
PC share its bandwidth.

Streams of an op (harness.workload.smolvla.Op.streams) go to ports:
- GEMM-kind ops (linear layers, attention products) on the `gemm` kernel: A -> A, B -> B, C -> C,
  a fused epilogue's bias vector -> bias;
- elementwise ops on the design's elementwise kernel `bias_gelu` (an assumption: the only
  elementwise kernel of the design): the first input -> in, further inputs and parameter
  vectors -> bias, the output -> out.
A stream goes to the port of its name or to the ports named by it and a number (B0..B3: B spread
over several ports). With several CUs the work is split along N: every CU reads the whole A, and B,
C and the bias are split evenly over the CUs.
Per-PC bandwidth per direction: the memcpy run's best verified point of that direction / its
PCs (read ports: read; write ports: write, else copy), else the PC's spec figure.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from harness.figures import Figure
from harness.roofline import platform as plat

GEMM_KERNEL, EW_KERNEL = "gemm", "bias_gelu"
STREAM_PORTS = {
    GEMM_KERNEL: {"A": "A", "B": "B", "C": "C", "bias": "bias"},
    EW_KERNEL: {"in": "in", "in2": "bias", "params": "bias", "out": "out"},
}
WRITE_PORTS = {"C", "out"}
REPLICATED = {GEMM_KERNEL: {"A"}}      # streams every CU reads whole (the CUs split N)


def kernel_of(kind: str) -> str:
    return GEMM_KERNEL if kind in ("gemm", "attention") else EW_KERNEL


@dataclass
class PortModel:
    """Ports of the design's kernels, with the per-PC bandwidth of each direction."""
    kernels: dict                  # kernel -> {port: [banks]}
    read: Figure                   # per-PC read bandwidth (GB/s)
    write: Figure                  # per-PC write bandwidth (GB/s)
    origin: str                    # where the connectivity comes from
    notes: list[str] = field(default_factory=list)

    def pcs(self, kernel: str, port: str) -> list[tuple[str, int]]:
        seen = []
        for b in self.kernels.get(kernel, {}).get(port, []):
            for pc in plat.parse_banks(b):
                if pc not in seen:
                    seen.append(pc)
        return seen

    def per_pc(self, port: str) -> Figure:
        return self.write if port in WRITE_PORTS else self.read

    def port_GBps(self, kernel: str, port: str) -> float:
        return len(self.pcs(kernel, port)) * self.per_pc(port).value

    def describe(self, kernel: str) -> str:
        return ", ".join(f"{p}->{'/'.join(b)}" for p, b in self.kernels.get(kernel, {}).items())

    def ports_for(self, kernel: str, stream: str) -> list[str]:
        """The ports a stream goes through: its own port, or that name followed by a number."""
        target = STREAM_PORTS.get(kernel, {}).get(stream, stream)
        ports = self.kernels.get(kernel, {})
        return [p for p in ports if p == target or re.fullmatch(re.escape(target) + r"\d+", p)]

    def time(self, kernel: str, streams: dict[str, int]) -> tuple[float, str, Figure]:
        """(seconds, bottleneck 'kernel.port (PC)', per-PC figure that binds) of moving `streams`
        (stream -> bytes) through the kernel's ports."""
        load: dict = {}          # pc -> seconds
        users: dict = {}         # pc -> ports on it
        ports = self.kernels.get(kernel, {})
        for stream, nbytes in streams.items():
            if not nbytes:
                continue
            names = self.ports_for(kernel, stream)
            if not names:        # a port the design does not have: spread over every port of the kernel
                names = list(ports)
            if not names:
                continue
            ncu = max(len(ports[p]) for p in names)
            per_cu = nbytes if stream in REPLICATED.get(kernel, ()) else nbytes / ncu
            for cu in range(ncu):
                placed = [(p, pc) for p in names if cu < len(ports[p]) for pc in plat.parse_banks(ports[p][cu])]
                for p, pc in placed:
                    load[pc] = load.get(pc, 0.0) + per_cu / len(placed) / (self.per_pc(p).value * 1e9)
                    users.setdefault(pc, [])
                    if p not in users[pc]:
                        users[pc].append(p)
        if not load:
            return 0.0, "", self.read
        pc = max(load, key=load.get)
        return load[pc], f"{kernel}.{'+'.join(users[pc])} ({pc[0]}[{pc[1]}])", self.per_pc(users[pc][0])
