// flops_types.h -- build parameters and static checks of the flops kernel.  See README.md.
#ifndef FLOPS_TYPES_H
#define FLOPS_TYPES_H

// Build parameters (integer literals, -DNAME=value), set only in kernels/designs/flops.toml
// (SLR_* from the platform's per-SLR table through the design's `slr` placement):
//   FLOPS_DTYPE_ID      one of the FLOPS_DTYPE_FP32/FP16/FX16/INT8 codes ([codes.dtype]; one xclbin each)
//   FLOPS_FX_INT_BITS   fx16: integer bits of ap_fixed<16, I>
//   FLOPS_LANES         independent MAC lanes (multiply-adds per cycle)
//   FLOPS_BLOCK_WORDS   words per input port in one block (one pipeline step)
//   FLOPS_PORTS         input ports = output ports (4)
//   FLOPS_ACC_LATENCY   cycles an accumulator waits between updates (adder latency)
//   FLOPS_DSP_PER_MAC, FLOPS_DSP_RESERVE   DSPs per MAC lane (assumption, README) and for the rest
//   FLOPS_PORT_BITS, FLOPS_BURST, FLOPS_OUTSTANDING   m_axi width (512), burst length, outstanding
// The per-SLR budget is checked from the design file by harness.designs.budget; its DSP figure
// for this kernel is FLOPS_DSP_EST below (tests/test_kernels_native.py keeps them equal).
#if !defined(FLOPS_DTYPE_ID) || !defined(FLOPS_FX_INT_BITS) || !defined(FLOPS_LANES) ||        \
    !defined(FLOPS_BLOCK_WORDS) || !defined(FLOPS_PORTS) || !defined(FLOPS_ACC_LATENCY) ||      \
    !defined(FLOPS_DSP_PER_MAC) || !defined(FLOPS_DSP_RESERVE) || !defined(FLOPS_BURST) ||      \
    !defined(FLOPS_OUTSTANDING) || !defined(FLOPS_PORT_BITS) || !defined(FLOPS_DTYPE_FP32) ||       \
    !defined(FLOPS_DTYPE_FP16) || !defined(FLOPS_DTYPE_FX16) || !defined(FLOPS_DTYPE_INT8)
#error "flops build parameters come from kernels/designs/flops.toml: build with make emu or make xclbin"
#endif

static_assert(FLOPS_PORT_BITS == 512, "FLOPS_PORT_BITS must be 512: the ports are ap_uint<512>");
#if FLOPS_DTYPE_ID == FLOPS_DTYPE_FP32
#define MAC_DTYPE_ID 0
#elif FLOPS_DTYPE_ID == FLOPS_DTYPE_FP16
#define MAC_DTYPE_ID 1
#elif FLOPS_DTYPE_ID == FLOPS_DTYPE_FX16
#define MAC_DTYPE_ID 2
#elif FLOPS_DTYPE_ID == FLOPS_DTYPE_INT8
#define MAC_DTYPE_ID 3
#else
#define MAC_DTYPE_ID -1   // refused by mac_types.h
#endif
#define MAC_FX_INT_BITS FLOPS_FX_INT_BITS
#include "mac_types.h"

static_assert(FLOPS_PORTS == 4, "FLOPS_PORTS must be 4 (the kernel has four input and four output ports)");
static_assert(FLOPS_LANES >= 1 && FLOPS_BLOCK_WORDS >= 1, "FLOPS_LANES and FLOPS_BLOCK_WORDS must be >= 1");
static_assert((FLOPS_PORTS * FLOPS_BLOCK_WORDS * MAC_IN_LANES) % FLOPS_LANES == 0,
              "FLOPS_LANES must divide the elements of a block (FLOPS_PORTS x FLOPS_BLOCK_WORDS x elements per word)");
static_assert(FLOPS_PORTS * FLOPS_BLOCK_WORDS * MAC_IN_LANES / FLOPS_LANES >= FLOPS_ACC_LATENCY,
              "a block must hold FLOPS_ACC_LATENCY x FLOPS_LANES elements: each accumulator is revisited "
              "once per pass and that must cover the adder latency");
static_assert(FLOPS_BURST >= 1 && FLOPS_BURST <= 256, "FLOPS_BURST must be 1..256 beats (AXI4)");
constexpr long FLOPS_DSP_EST = (long)FLOPS_LANES * FLOPS_DSP_PER_MAC + FLOPS_DSP_RESERVE;

extern "C" void flops_resources(long out[1]);

#endif  // FLOPS_TYPES_H
