// gemm_types.h -- build parameters, derived sizes, per-dtype types and the
// static checks (feasibility and the per-SLR resource budget) shared by gemm.cpp
// and bias_gelu.cpp (built into the same design).  See kernels/gemm/README.md.
#ifndef GEMM_TYPES_H
#define GEMM_TYPES_H

// ---------------------------------------------------------------------------
// Build parameters (integer literals, -DNAME=value), set only in
// kernels/designs/gemm.toml (SLR_* from the platform's per-SLR table through
// the design's `slr` placement) and passed by `make xclbin` / `make emu`:
//   GEMM_DTYPE_ID       0 fp32, 1 fp16, 2 fx16, 3 int8 (one xclbin per value)
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
//   GEMM_BURST, GEMM_OUTSTANDING   m_axi max burst (beats) and outstanding requests
//   SLR_DSP_BUDGET, SLR_BRAM18_BUDGET, SLR_URAM_BUDGET   the smallest budget of
//                       the SLRs this kernel's CUs are placed in
#if !defined(GEMM_DTYPE_ID) || !defined(GEMM_FX_INT_BITS) || !defined(GEMM_ROWS) ||          \
    !defined(GEMM_COLS) || !defined(GEMM_TILE_M) || !defined(GEMM_TILE_N) ||                 \
    !defined(GEMM_TILE_K) || !defined(GEMM_B_PORTS) || !defined(GEMM_EPI_LANES) ||           \
    !defined(GEMM_ACC_LATENCY) || !defined(GEMM_DSP_PER_MAC) || !defined(GEMM_DSP_RESERVE) || \
    !defined(GEMM_BURST) || !defined(GEMM_OUTSTANDING) || !defined(SLR_DSP_BUDGET) ||         \
    !defined(SLR_BRAM18_BUDGET) || !defined(SLR_URAM_BUDGET)
#error "GEMM build parameters come from kernels/designs/gemm.toml: build with make emu or make xclbin"
#endif

#define MAC_DTYPE_ID GEMM_DTYPE_ID
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
static_assert(TM <= 4096 && TN <= 8192 && TK <= 8192,
              "GEMM tiles above 4096 x 8192 x 8192 are not supported (on-chip index widths)");
static_assert(GEMM_EPI_LANES >= 1 && LC % GEMM_EPI_LANES == 0,
              "GEMM_EPI_LANES must divide 16 (the outputs per C word)");
static_assert(GEMM_ACC_LATENCY >= 1 && GEMM_ACC_LATENCY <= 64, "GEMM_ACC_LATENCY must be 1..64 cycles");
static_assert(GEMM_BURST >= 1 && GEMM_BURST <= 256, "GEMM_BURST must be 1..256 beats (AXI4)");
static_assert(GEMM_OUTSTANDING >= 1 && GEMM_OUTSTANDING <= 512, "GEMM_OUTSTANDING must be 1..512");

// ---------------------------------------------------------------------------
// Resource estimate of one CU, checked against the budget of its SLR.
// DSP: the MAC array plus the reserve (epilogue: GEMM_EPI_LANES fp32 GELU lanes,
//   bias add, address arithmetic).
// URAM (288 Kb = 4096 x 72 bit): the B chunk buffers, two (double buffering) of
//   max(COLS/LA, B_PORTS) banks of 512-bit words, TK * TNW / banks deep; each
//   bank is ceil(512/72) = 8 URAMs wide and ceil(depth/4096) deep.
// BRAM18: the m_axi adapters' data buffers, OUTSTANDING x BURST words of 512
//   bits per port (about 29 BRAM18 at 16 x 64), for the 3 + B_PORTS ports.
// LUTRAM (reported, not budgeted): the A chunk buffers (2 x TM x TKW words, ROWS
//   banks) and the accumulators (2 x TM x TN, ROWS x COLS banks of depth
//   TM*TN/(ROWS*COLS)): each bank is too shallow for a BRAM or URAM.
constexpr long gemm_cdiv(long a, long b) { return (a + b - 1) / b; }
constexpr long gemm_min(long a, long b) { return a < b ? a : b; }
constexpr long gemm_uram(long banks, long depth_words) {
  return banks * gemm_cdiv(512, 72) * gemm_cdiv(depth_words, 4096);
}
constexpr long gemm_bram18_words(long words) {   // 512-bit words, best BRAM18 aspect (512x36 or 1024x18)
  return gemm_min(gemm_cdiv(words, 512) * gemm_cdiv(512, 36), gemm_cdiv(words, 1024) * gemm_cdiv(512, 18));
}
#define GEMM_B_BANKS (PN / LA > NB ? PN / LA : NB)
#if GEMM_DTYPE_ID == 2
#define GEMM_ACC_STORE_BITS 48
#else
#define GEMM_ACC_STORE_BITS 32
#endif
constexpr long GEMM_DSP_EST = (long)GEMM_MACS * GEMM_DSP_PER_MAC + GEMM_DSP_RESERVE;
constexpr long GEMM_URAM_EST = 2 * gemm_uram(GEMM_B_BANKS, (long)TK * TNW / GEMM_B_BANKS);
constexpr long GEMM_BRAM18_EST = (3 + NB) * gemm_bram18_words((long)GEMM_OUTSTANDING * GEMM_BURST);
constexpr long GEMM_LUTRAM_KBIT = (2L * TM * TKW * 512 + 2L * TM * TN * GEMM_ACC_STORE_BITS) / 1024;
static_assert(GEMM_DSP_EST <= SLR_DSP_BUDGET,
              "GEMM too large for its SLR's DSP budget: GEMM_ROWS*GEMM_COLS*GEMM_DSP_PER_MAC + "
              "GEMM_DSP_RESERVE must be <= SLR_DSP_BUDGET");
static_assert(GEMM_URAM_EST <= SLR_URAM_BUDGET,
              "GEMM chunk buffers exceed its SLR's URAM budget: reduce GEMM_TILE_N or GEMM_TILE_K");
static_assert(GEMM_BRAM18_EST <= SLR_BRAM18_BUDGET,
              "GEMM port buffers exceed its SLR's BRAM18 budget: reduce GEMM_OUTSTANDING, GEMM_BURST "
              "or GEMM_B_PORTS");

// The estimate, for the host (tests, README): DSP, BRAM18, URAM, LUTRAM Kbit of one CU, then the
// DSP, BRAM18 and URAM budgets.
extern "C" void gemm_resources(long out[7]);

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
