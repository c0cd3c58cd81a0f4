// flops_types.h -- build parameters and static checks of the flops kernel.  See README.md.
#ifndef FLOPS_TYPES_H
#define FLOPS_TYPES_H

// Build parameters (integer literals, -DNAME=value), set only in kernels/designs/flops.toml
// (SLR_* from the platform's per-SLR table through the design's `slr` placement):
//   FLOPS_DTYPE_ID      0 fp32, 1 fp16, 2 fx16, 3 int8 (one xclbin per value)
//   FLOPS_FX_INT_BITS   fx16: integer bits of ap_fixed<16, I>
//   FLOPS_LANES         independent MAC lanes (multiply-adds per cycle)
//   FLOPS_BLOCK_WORDS   words per input port in one block (one pipeline step)
//   FLOPS_PORTS         input ports = output ports (4)
//   FLOPS_ACC_LATENCY   cycles an accumulator waits between updates (adder latency)
//   FLOPS_DSP_PER_MAC, FLOPS_DSP_RESERVE   DSPs per MAC lane (assumption, README) and for the rest
//   FLOPS_BURST, FLOPS_OUTSTANDING         m_axi burst length and outstanding requests
//   SLR_DSP_BUDGET, SLR_BRAM18_BUDGET, SLR_URAM_BUDGET
#if !defined(FLOPS_DTYPE_ID) || !defined(FLOPS_FX_INT_BITS) || !defined(FLOPS_LANES) ||        \
    !defined(FLOPS_BLOCK_WORDS) || !defined(FLOPS_PORTS) || !defined(FLOPS_ACC_LATENCY) ||      \
    !defined(FLOPS_DSP_PER_MAC) || !defined(FLOPS_DSP_RESERVE) || !defined(FLOPS_BURST) ||      \
    !defined(FLOPS_OUTSTANDING) || !defined(SLR_DSP_BUDGET)
#error "flops build parameters come from kernels/designs/flops.toml: build with make emu or make xclbin"
#endif

#define MAC_DTYPE_ID FLOPS_DTYPE_ID
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
static_assert(FLOPS_DSP_EST <= SLR_DSP_BUDGET,
              "flops too large for its SLR's DSP budget: FLOPS_LANES*FLOPS_DSP_PER_MAC + FLOPS_DSP_RESERVE "
              "must be <= SLR_DSP_BUDGET");

extern "C" void flops_resources(long out[2]);

#endif  // FLOPS_TYPES_H
