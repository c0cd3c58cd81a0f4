// gemm_types.h -- build parameters, per-dtype types and the feasibility checks
// shared by gemm.cpp and bias_gelu.cpp (built into the same design).
// See kernels/gemm/README.md for the meaning of everything here.
#ifndef GEMM_TYPES_H
#define GEMM_TYPES_H

#include "hls_compat.h"

// ---------------------------------------------------------------------------
// Build parameters (integer literals; -DNAME=value), set only in
// kernels/designs/gemm.toml and passed by `make xclbin` / `make emu`:
//   GEMM_DTYPE_ID     the element type: one of GEMM_DTYPE_FP32/FP16/FX16/INT8 (codes from
//                     [codes.dtype] of kernels/designs/gemm.toml; one xclbin per value)
//   GEMM_TILE_M/N/K   TM output tile rows, TN output tile columns, TK depth of one K chunk
//   GEMM_PE           multiply-accumulates per cycle
//   GEMM_FX_INT_BITS  fx16 only: integer bits (incl. sign) of ap_fixed<16, I>
#if !defined(GEMM_DTYPE_ID) || !defined(GEMM_TILE_M) || !defined(GEMM_TILE_N) || \
    !defined(GEMM_TILE_K) || !defined(GEMM_PE) || !defined(GEMM_FX_INT_BITS)
#error "GEMM build parameters come from kernels/designs/gemm.toml: build with make emu or make xclbin"
#endif

// ---------------------------------------------------------------------------
// Feasibility checks: impossible or unsafe combinations are refused at compile
// time with the reason.
#if !defined(GEMM_DTYPE_FP32) || !defined(GEMM_DTYPE_FP16) || !defined(GEMM_DTYPE_FX16) || !defined(GEMM_DTYPE_INT8)
#error "the GEMM_DTYPE_* codes come from kernels/designs/gemm.toml: build with make emu or make xclbin"
#endif
static_assert(GEMM_DTYPE_ID == GEMM_DTYPE_FP32 || GEMM_DTYPE_ID == GEMM_DTYPE_FP16 ||
              GEMM_DTYPE_ID == GEMM_DTYPE_FX16 || GEMM_DTYPE_ID == GEMM_DTYPE_INT8,
              "GEMM_DTYPE_ID must be one of the GEMM_DTYPE_* codes (fp32, fp16, fx16, int8)");
static_assert(GEMM_TILE_M >= 1 && GEMM_TILE_N >= 1 && GEMM_TILE_K >= 1,
              "GEMM_TILE_M, GEMM_TILE_N and GEMM_TILE_K must be >= 1");
static_assert(GEMM_TILE_M <= 4096 && GEMM_TILE_N <= 4096 && GEMM_TILE_K <= 4096,
              "GEMM tile dimensions above 4096 are not supported (on-chip index widths)");
static_assert(GEMM_PE >= 1, "GEMM_PE must be >= 1");
static_assert(GEMM_PE <= GEMM_TILE_M * GEMM_TILE_N,
              "GEMM_PE must be <= GEMM_TILE_M*GEMM_TILE_N (one MAC per output per cycle at most)");
static_assert(GEMM_TILE_N % GEMM_PE == 0,
              "GEMM_TILE_N must be a multiple of GEMM_PE: the PE lanes take PE consecutive "
              "columns of one tile row, so PE must divide TN (and hence TM*TN)");
// Each accumulator acc[i][j] is updated once every TM*TN/PE cycles of the
// II=1 compute loop; the loop carries `DEPENDENCE inter false` on acc, which
// is only correct if that distance covers the latency of the accumulating
// adder (fp32 add at 300 MHz: a handful of cycles).  16 leaves margin.
#define GEMM_MIN_REVISIT 16
static_assert(GEMM_TILE_M * GEMM_TILE_N / GEMM_PE >= GEMM_MIN_REVISIT,
              "GEMM_TILE_M*GEMM_TILE_N/GEMM_PE must be >= 16: each accumulator is revisited "
              "every TM*TN/PE cycles and that must cover the adder latency");
static_assert(GEMM_DTYPE_ID != GEMM_DTYPE_FX16 || (GEMM_FX_INT_BITS >= 1 && GEMM_FX_INT_BITS <= 15),
              "GEMM_FX_INT_BITS must be 1..15 (fx16 int bits < 16 leave >= 1 fractional bit)");

// ---------------------------------------------------------------------------
// Types per dtype.
//   elem_t : element in device memory (A, B, bias)            [port type]
//   buf_t  : element held in the on-chip A/B tile buffers
//   acc_t  : accumulator
//   out_t  : element of C in device memory (GEMM output, bias_gelu in/out)
//   GEMM_DSP_PER_MAC : DSP48E2 slices per multiply-accumulate (estimate)
#if GEMM_DTYPE_ID == GEMM_DTYPE_FP32
typedef float elem_t;
typedef float buf_t;
typedef float acc_t;
typedef float out_t;
#define GEMM_DSP_PER_MAC 5   // fp32 fmul (3 DSP) + fadd (2 DSP), full-DSP cores
#define GEMM_IN_LANES 16     // elem_t per 512-bit word
#define GEMM_DTYPE_NAME "fp32"
#elif GEMM_DTYPE_ID == GEMM_DTYPE_FP16
typedef half elem_t;
typedef float buf_t;         // converted (exactly) to fp32 when loaded
typedef float acc_t;         // fp32 accumulation
typedef float out_t;         // fp32 output
#define GEMM_DSP_PER_MAC 5   // same fp32 MAC as above
#define GEMM_IN_LANES 32
#define GEMM_DTYPE_NAME "fp16"
#elif GEMM_DTYPE_ID == GEMM_DTYPE_FX16
#define GEMM_FX_FRAC_BITS (16 - GEMM_FX_INT_BITS)
typedef ap_fixed<16, GEMM_FX_INT_BITS> elem_t;        // AP_TRN, AP_WRAP (defaults)
typedef hlsc::sint<16>::type buf_t;                   // raw bits, units 2^-F
typedef hlsc::acc<48>::type acc_t;                    // raw sum, units 2^-2F, 48 bits
typedef ap_fixed<32, 16, AP_RND, AP_SAT> out_t;       // 16.16, round half up, saturate
#define GEMM_ACC_BITS 48
#define GEMM_DSP_PER_MAC 1   // 16x16 multiply + 48-bit accumulate: one DSP48E2
#define GEMM_IN_LANES 32
#define GEMM_DTYPE_NAME "fx16"
#else
typedef ap_int<8> elem_t;
typedef hlsc::sint<8>::type buf_t;
typedef hlsc::acc<32>::type acc_t;                    // int32 accumulation (wraps)
typedef ap_int<32> out_t;
#define GEMM_ACC_BITS 32
#define GEMM_DSP_PER_MAC 1   // conservative: one DSP per 8x8 MAC (no packing)
#define GEMM_IN_LANES 64
#define GEMM_DTYPE_NAME "int8"
#endif

// ---------------------------------------------------------------------------
// Lanes: elements moved per cycle by the word-wide loops (one 512-bit word of
// elements, capped at the tile edge so small test tiles still work).
//   GEMM_LANES_A : A tile row (TK elements)        min(512/elem bits, TK)
//   GEMM_LANES_B : B tile row (TN elements)        min(512/elem bits, TN)
//   GEMM_LANES_C : C row, epilogue and bias (TN)   min(16, TN): 16 x 32-bit out_t
// Bank counts (cyclic ARRAY_PARTITION factors, dim 2): b_buf and acc serve both
// the PE lanes of the compute loop and the word-wide loops, so they get
// max(PE, lanes) banks; the larger must be a multiple of the smaller (checked).
// All of these are plain integer literals after preprocessing, so they can be
// used as pragma values.
#define GEMM_OUT_LANES 16
#if GEMM_TILE_K < GEMM_IN_LANES
#define GEMM_LANES_A GEMM_TILE_K
#else
#define GEMM_LANES_A GEMM_IN_LANES
#endif
#if GEMM_TILE_N < GEMM_IN_LANES
#define GEMM_LANES_B GEMM_TILE_N
#else
#define GEMM_LANES_B GEMM_IN_LANES
#endif
#if GEMM_TILE_N < GEMM_OUT_LANES
#define GEMM_LANES_C GEMM_TILE_N
#else
#define GEMM_LANES_C GEMM_OUT_LANES
#endif
#if GEMM_PE >= GEMM_LANES_B
#define GEMM_B_BANKS GEMM_PE
#else
#define GEMM_B_BANKS GEMM_LANES_B
#endif
#if GEMM_PE >= GEMM_LANES_C
#define GEMM_ACC_BANKS GEMM_PE
#else
#define GEMM_ACC_BANKS GEMM_LANES_C
#endif
static_assert(GEMM_TILE_K % GEMM_LANES_A == 0,
              "GEMM_TILE_K must be a multiple of the A lanes (512 / element bits) or smaller than it: "
              "A tile rows are loaded one 512-bit word of elements per cycle");
static_assert(GEMM_TILE_N % GEMM_LANES_B == 0 && GEMM_TILE_N % GEMM_LANES_C == 0,
              "GEMM_TILE_N must be a multiple of the B lanes (512 / element bits) and of 16, or smaller: "
              "B rows and C rows move one 512-bit word per cycle");
static_assert(GEMM_B_BANKS % GEMM_PE == 0 && GEMM_B_BANKS % GEMM_LANES_B == 0 &&
                  GEMM_ACC_BANKS % GEMM_PE == 0 && GEMM_ACC_BANKS % GEMM_LANES_C == 0,
              "GEMM_PE and the word lanes (512 / element bits, 16 for C) must divide one another: "
              "b_buf and acc are split into max(PE, lanes) banks shared by both access patterns");

// ---------------------------------------------------------------------------
// Resource budgets (estimates; Vitis reports are the authority).
// DSP: PE MACs + a reserve for the 16-lane fp32 GELU epilogue (16 x about 30:
// bias fadd, 5 fmul, 2 fadd, tanh) and address math.
#define GEMM_DSP_RESERVE 600
#define GEMM_DSP_BUDGET 8490  // DSPs left to kernels on a U280 (XCU280 has 9024; brief's figure)
static_assert(GEMM_PE * GEMM_DSP_PER_MAC + GEMM_DSP_RESERVE <= GEMM_DSP_BUDGET,
              "GEMM_PE too large for the DSP budget: PE*DSP_PER_MAC + 600 must be <= 8490 "
              "(fp32/fp16: 5 DSP per MAC, fx16/int8: 1)");

// BRAM: BRAM18 blocks for a buffer of `banks` banks, each depth x width bits,
// using the best BRAM18 aspect ratio (16Kx1 ... 512x36).  Ignores LUTRAM, so it
// over-estimates small buffers.
constexpr long gemm_cdiv(long a, long b) { return (a + b - 1) / b; }
constexpr long gemm_bram18_1(long depth, long width, long d, long w) {
  return gemm_cdiv(depth, d) * gemm_cdiv(width, w);
}
constexpr long gemm_min(long a, long b) { return a < b ? a : b; }
constexpr long gemm_bram18(long banks, long depth, long width) {
  return banks * gemm_min(gemm_bram18_1(depth, width, 512, 36),
                 gemm_min(gemm_bram18_1(depth, width, 1024, 18),
                 gemm_min(gemm_bram18_1(depth, width, 2048, 9),
                 gemm_min(gemm_bram18_1(depth, width, 4096, 4),
                 gemm_min(gemm_bram18_1(depth, width, 8192, 2),
                          gemm_bram18_1(depth, width, 16384, 1))))));
}
constexpr long GEMM_ACC_WIDTH =
    (GEMM_DTYPE_ID == GEMM_DTYPE_FP32 || GEMM_DTYPE_ID == GEMM_DTYPE_FP16) ? 32 : (GEMM_DTYPE_ID == GEMM_DTYPE_FX16 ? 48 : 32);
constexpr long GEMM_BUF_ELEM_BITS =   // on-chip A/B element width (fp16 held as fp32)
    (GEMM_DTYPE_ID == GEMM_DTYPE_FP32 || GEMM_DTYPE_ID == GEMM_DTYPE_FP16) ? 32 : (GEMM_DTYPE_ID == GEMM_DTYPE_FX16 ? 16 : 8);
constexpr long GEMM_ELEM_BITS = 8 * (long)sizeof(elem_t);   // memory element width
constexpr long GEMM_BRAM18_EST =
    gemm_bram18(GEMM_LANES_A, (long)GEMM_TILE_M * GEMM_TILE_K / GEMM_LANES_A,
                GEMM_BUF_ELEM_BITS)                                              // a_buf
    + gemm_bram18(GEMM_B_BANKS, (long)GEMM_TILE_K * GEMM_TILE_N / GEMM_B_BANKS,
                  GEMM_BUF_ELEM_BITS)                                            // b_buf
    + gemm_bram18(GEMM_ACC_BANKS, (long)GEMM_TILE_M * GEMM_TILE_N / GEMM_ACC_BANKS,
                  GEMM_ACC_WIDTH)                                                // acc
    + gemm_bram18(GEMM_LANES_C, (long)GEMM_TILE_M * GEMM_TILE_N / GEMM_LANES_C,
                  32)                                                            // c_buf (out_t)
    + gemm_bram18(GEMM_LANES_C, GEMM_TILE_N / GEMM_LANES_C, GEMM_ELEM_BITS);     // bias_buf
// One SLR's share of the U280's BRAM: 4032 BRAM18 (2016 BRAM36) / 3 SLRs.
#define GEMM_BRAM18_BUDGET 1344
static_assert(GEMM_BRAM18_EST <= GEMM_BRAM18_BUDGET,
              "GEMM tile buffers exceed the BRAM budget (1344 BRAM18 = one U280 SLR's share): "
              "reduce GEMM_TILE_M/N/K or GEMM_PE");

// ---------------------------------------------------------------------------
// Element conversions used by the kernels.

// memory element -> on-chip buffer element
static inline buf_t gemm_to_buf(const elem_t& x) {
#if GEMM_DTYPE_ID == GEMM_DTYPE_FP32
  return x;
#elif GEMM_DTYPE_ID == GEMM_DTYPE_FP16
  return (float)x;
#elif GEMM_DTYPE_ID == GEMM_DTYPE_FX16
  return hlsc::fixed_raw(x);
#else
  return hlsc::int_raw(x);
#endif
}

// one multiply-accumulate
static inline void gemm_mac(acc_t& acc, buf_t a, buf_t b) {
  // fp32/fp16: fp32 multiply then fp32 add (no fused multiply-add);
  // fx16/int8: exact integer product (<= 32 bits) added to the wider accumulator.
  acc += a * b;
}

// accumulator -> C element (the value the GEMM writes with epilogue 0)
static inline out_t gemm_acc_to_out(const acc_t& acc) {
#if (GEMM_DTYPE_ID == GEMM_DTYPE_FP32 || GEMM_DTYPE_ID == GEMM_DTYPE_FP16)
  return acc;
#elif GEMM_DTYPE_ID == GEMM_DTYPE_FX16
  // acc holds sum(a_raw*b_raw) in units of 2^-2F, wrapped to 48 bits.
  // Convert to 16 fractional bits: round half up (AP_RND), then saturate to
  // 32 bits (AP_SAT) -- exactly what assigning the ap_fixed<48, 48-2F> value
  // to out_t does.
  const int S = 2 * GEMM_FX_FRAC_BITS - 16;       // right shift (may be <= 0)
  const int SR = S > 0 ? S : 0;
  const int SL = S < 0 ? -S : 0;
  long long r = hlsc::wrap_to<GEMM_ACC_BITS>(acc);
  if (SR > 0) r = (r + (1LL << (SR > 0 ? SR - 1 : 0))) >> SR;
  r = r * (1LL << SL);
  const long long LO = -(1LL << 31), HI = (1LL << 31) - 1;
  if (r < LO) r = LO;
  if (r > HI) r = HI;
  return hlsc::fixed_from_raw<32, 16, AP_RND, AP_SAT>(r);
#else
  return (int)hlsc::wrap_to<GEMM_ACC_BITS>(acc);
#endif
}

#endif  // GEMM_TYPES_H
