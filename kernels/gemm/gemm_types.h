// gemm_types.h -- build parameters, derived sizes, per-dtype types and the
// static checks (feasibility and the per-SLR resource budget) shared by gemm.cpp
// and bias_gelu.cpp (built into the same design).  See kernels/gemm/README.md.
#ifndef GEMM_TYPES_H
#define GEMM_TYPES_H

// ---------------------------------------------------------------------------
// Build parameters (integer literals, -DNAME=value), set only in kernels/designs/gemm.toml
// and passed by `make xclbin` / `make emu`:
//   GEMM_DTYPE_ID       the element type: one of the GEMM_DTYPE_FP32/FP16/FX16/INT8 codes
//                       ([codes.dtype] of the design file; one xclbin per value)
//   GEMM_FX_INT_BITS    fx16: integer bits (sign included) of ap_fixed<16, I>
//   GEMM_ROWS, GEMM_COLS  the MAC array: ROWS x COLS multiply-accumulates per cycle
//                       (ROWS rows of the output tile x COLS columns)
//   GEMM_TILE_M/N/K     output tile TM x TN, K chunk TK (one pipeline step)
//   GEMM_B_PORTS        B ports (PCs) per CU: 1, 2 or 4
//   GEMM_EPI_LANES      epilogue (bias / GELU) lanes per cycle
//   GEMM_ACC_LATENCY    cycles between two updates of one accumulator that the
//                       adder needs (the compute loop never revisits sooner)
//   GEMM_DSP_PER_MAC    DSP48E2 per MAC of this dtype (assumption, see README)
//   GEMM_DSP_RESERVE    DSPs for the epilogue and address arithmetic per CU
//   GEMM_PORT_BITS, GEMM_BURST, GEMM_OUTSTANDING   m_axi width (512), max burst, outstanding
//   GEMM_EPI_NONE/BIAS/BIAS_GELU   the `epilogue` argument's codes ([codes.epilogue])
// The per-SLR budget (DSP, BRAM18, URAM, LUT, m_axi buffers) is checked from the design file
// by harness.designs.budget before any build; its DSP and URAM figures for this kernel are
// GEMM_DSP_EST and GEMM_URAM_EST below (tests/test_kernels_native.py keeps them equal).
#if !defined(GEMM_DTYPE_ID) || !defined(GEMM_FX_INT_BITS) || !defined(GEMM_ROWS) ||          \
    !defined(GEMM_COLS) || !defined(GEMM_TILE_M) || !defined(GEMM_TILE_N) ||                 \
    !defined(GEMM_TILE_K) || !defined(GEMM_B_PORTS) || !defined(GEMM_EPI_LANES) ||           \
    !defined(GEMM_ACC_LATENCY) || !defined(GEMM_DSP_PER_MAC) || !defined(GEMM_DSP_RESERVE) || \
    !defined(GEMM_PORT_BITS) || !defined(GEMM_BURST) || !defined(GEMM_OUTSTANDING) ||           \
    !defined(GEMM_MAX_TILE_M) || !defined(GEMM_MAX_TILE_NK)
#error "GEMM build parameters come from kernels/designs/gemm.toml: build with make emu or make xclbin"
#endif
#if !defined(GEMM_DTYPE_FP32) || !defined(GEMM_DTYPE_FP16) || !defined(GEMM_DTYPE_FX16) || \
    !defined(GEMM_DTYPE_INT8) || !defined(GEMM_EPI_NONE) || !defined(GEMM_EPI_BIAS) || !defined(GEMM_EPI_BIAS_GELU)
#error "the GEMM_DTYPE_* and GEMM_EPI_* codes come from kernels/designs/gemm.toml: build with make emu or make xclbin"
#endif
static_assert(GEMM_PORT_BITS == 512, "GEMM_PORT_BITS must be 512: the ports are ap_uint<512>");

// The MAC of mac_types.h numbers the dtypes 0..3 in this order.
#if GEMM_DTYPE_ID == GEMM_DTYPE_FP32
#define MAC_DTYPE_ID 0
#elif GEMM_DTYPE_ID == GEMM_DTYPE_FP16
#define MAC_DTYPE_ID 1
#elif GEMM_DTYPE_ID == GEMM_DTYPE_FX16
#define MAC_DTYPE_ID 2
#elif GEMM_DTYPE_ID == GEMM_DTYPE_INT8
#define MAC_DTYPE_ID 3
#else
#define MAC_DTYPE_ID -1   // refused by mac_types.h
#endif
#define MAC_FX_INT_BITS GEMM_FX_INT_BITS
#include "mac_types.h"

#define RM GEMM_ROWS
#define PN GEMM_COLS
#define TM GEMM_TILE_M
#define TN GEMM_TILE_N
#define TK GEMM_TILE_K
#define NB GEMM_B_PORTS
#define LA MAC_IN_LANES       // A and B elements per word
#define LC MAC_OUT_LANES      // C elements per word (32-bit outputs)
#define TKW (TK / LA)         // words per A chunk row
#define TNW (TN / LA)         // words per B chunk row
#define GEMM_MACS (RM * PN)

// ---------------------------------------------------------------------------
// Feasibility: impossible or unsafe combinations are refused with the reason.
static_assert(RM >= 1 && PN >= 1, "GEMM_ROWS and GEMM_COLS must be >= 1");
static_assert(TM % RM == 0, "GEMM_TILE_M must be a multiple of GEMM_ROWS (the array's rows)");
static_assert(TN % PN == 0, "GEMM_TILE_N must be a multiple of GEMM_COLS (the array's columns)");
static_assert(PN % LA == 0,
              "GEMM_COLS must be a multiple of the elements per 512-bit word (fp32 16, fp16/fx16 32, "
              "int8 64): the array reads whole words of a B row");
static_assert(TK % LA == 0, "GEMM_TILE_K must be a multiple of the elements per 512-bit word");
static_assert(TN % LC == 0, "GEMM_TILE_N must be a multiple of 16 (C words hold 16 outputs)");
static_assert(NB == 1 || NB == 2 || NB == 4, "GEMM_B_PORTS must be 1, 2 or 4");
static_assert(TNW % NB == 0, "GEMM_TILE_N / (elements per word) must be a multiple of GEMM_B_PORTS: "
                             "B words of a row are dealt over the ports");
static_assert(TM <= GEMM_MAX_TILE_M && TN <= GEMM_MAX_TILE_NK && TK <= GEMM_MAX_TILE_NK,
              "GEMM tiles above GEMM_MAX_TILE_M x GEMM_MAX_TILE_NK x GEMM_MAX_TILE_NK (kernels/designs/gemm.toml) "
              "are not supported (on-chip index widths)");
static_assert(GEMM_EPI_LANES >= 1 && LC % GEMM_EPI_LANES == 0,
              "GEMM_EPI_LANES must divide 16 (the outputs per C word)");
static_assert(GEMM_ACC_LATENCY >= 1 && GEMM_ACC_LATENCY <= 64, "GEMM_ACC_LATENCY must be 1..64 cycles");
static_assert(GEMM_BURST >= 1 && GEMM_BURST <= 256, "GEMM_BURST must be 1..256 beats (AXI4)");
static_assert(GEMM_OUTSTANDING >= 1 && GEMM_OUTSTANDING <= 512, "GEMM_OUTSTANDING must be 1..512");

// ---------------------------------------------------------------------------
// Resource estimate of one CU (logic; the m_axi adapters are counted by harness.designs.budget).
// DSP: the MAC array plus the reserve (epilogue: GEMM_EPI_LANES fp32 GELU lanes, bias add,
//   address arithmetic).
// URAM (288 Kb = 4096 x 72 bit): the B chunk buffers, two (double buffering) of
//   max(COLS/LA, B_PORTS) banks of 512-bit words, TK * TNW / banks deep; each bank is
//   ceil(512/72) = 8 URAMs wide and ceil(depth/4096) deep.
// LUTRAM: the A chunk buffers (2 x TM x TKW words, ROWS banks) and the accumulators (2 x TM x
//   TN, ROWS x COLS banks of depth TM*TN/(ROWS*COLS)): each bank too shallow for a BRAM or URAM.
constexpr long gemm_cdiv(long a, long b) { return (a + b - 1) / b; }
constexpr long gemm_uram(long banks, long depth_words) {
  return banks * gemm_cdiv(512, 72) * gemm_cdiv(depth_words, 4096);
}
#define GEMM_B_BANKS (PN / LA > NB ? PN / LA : NB)
#if MAC_DTYPE_ID == 2
#define GEMM_ACC_STORE_BITS 48
#else
#define GEMM_ACC_STORE_BITS 32
#endif
constexpr long GEMM_DSP_EST = (long)GEMM_MACS * GEMM_DSP_PER_MAC + GEMM_DSP_RESERVE;
constexpr long GEMM_URAM_EST = 2 * gemm_uram(GEMM_B_BANKS, (long)TK * TNW / GEMM_B_BANKS);
constexpr long GEMM_LUTRAM_KBIT = (2L * TM * TKW * 512 + 2L * TM * TN * GEMM_ACC_STORE_BITS) / 1024;

// The estimate, for the host (tests, README): DSP, URAM and LUTRAM Kbit of one CU.
extern "C" void gemm_resources(long out[3]);

// ---------------------------------------------------------------------------
// Lane access into a word (one element of raw_t / uint32_t).
template <typename T>
static inline T word_lane(const word_t& w, int l) {
#if HLSC_AP_ARITH
  ap_uint<8 * sizeof(T)> bits = w.range(8 * sizeof(T) * l + 8 * sizeof(T) - 1, 8 * sizeof(T) * l);
  return (T)bits.to_uint64();
#else
  T v;
  memcpy(&v, reinterpret_cast<const char*>(&w) + sizeof(T) * l, sizeof(T));
  return v;
#endif
}

#endif  // GEMM_TYPES_H
