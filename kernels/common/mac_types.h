// mac_types.h -- the per-dtype multiply-accumulate shared by the gemm and flops
// kernels, so the flops kernel's ceiling is the ceiling of the same MAC.
//
// The including header defines, before including this one:
//   MAC_DTYPE_ID     0 fp32, 1 fp16, 2 fx16, 3 int8
//   MAC_FX_INT_BITS  fx16 only: integer bits I (sign included) of ap_fixed<16, I>
//
// Elements travel in 512-bit words (ap_uint<512>) as raw bits; lanes per word:
//   MAC_IN_LANES  = 512 / element bits  (fp32 16, fp16 32, fx16 32, int8 64)
//   MAC_OUT_LANES = 16                  (every output element is 32 bits)
//
// Per dtype:
//   raw_t  : raw bits of one element in memory (what a word's lane holds)
//   buf_t  : element held on chip for the MAC
//   acc_t  : accumulator
//   The MAC is  acc = acc + a * b  with:
//   fp32  fp32 multiply (rounded) then fp32 add (rounded); no fused multiply-add.
//   fp16  the product of two binary16 values is exact in fp32 (11-bit x 11-bit
//         significands), then an fp32 add (rounded).  On chip (HLSC_AP_ARITH) the
//         product is formed as an integer product of the significands and placed
//         in an fp32 (one DSP48E2 for 11x11 bits), natively as (float)a * (float)b:
//         the same bits, since both are exact.
//   fx16  exact 16x16-bit integer product added to a 48-bit accumulator (wraps).
//   int8  exact 8x8-bit product added to a 32-bit accumulator (wraps).
// The output element of an accumulator (acc_to_out_raw) is fp32 bits (fp32,
// fp16), 16.16 fixed point rounded half up and saturated (fx16), int32 (int8).
#ifndef MAC_TYPES_H
#define MAC_TYPES_H

#include "hls_compat.h"

#if !defined(MAC_DTYPE_ID) || !defined(MAC_FX_INT_BITS)
#error "MAC_DTYPE_ID and MAC_FX_INT_BITS are set by the kernel's header from its design file's flags"
#endif
static_assert(MAC_DTYPE_ID >= 0 && MAC_DTYPE_ID <= 3,
              "DTYPE_ID must be 0 (fp32), 1 (fp16), 2 (fx16) or 3 (int8)");
static_assert(MAC_DTYPE_ID != 2 || (MAC_FX_INT_BITS >= 1 && MAC_FX_INT_BITS <= 15),
              "FX_INT_BITS must be 1..15 (fx16 int bits < 16 leave >= 1 fractional bit)");

#define MAC_OUT_LANES 16
typedef ap_uint<512> word_t;
static_assert(sizeof(word_t) == 64, "ap_uint<512> must occupy 64 bytes");

#if MAC_DTYPE_ID == 0
typedef uint32_t raw_t;
typedef float buf_t;
typedef float acc_t;
#define MAC_IN_LANES 16
#elif MAC_DTYPE_ID == 1
typedef uint16_t raw_t;
#if HLSC_AP_ARITH
typedef ap_uint<16> buf_t;   // binary16 bits; the product is formed from them
#else
typedef float buf_t;         // converted exactly on load
#endif
typedef float acc_t;
#define MAC_IN_LANES 32
#elif MAC_DTYPE_ID == 2
#define MAC_FX_FRAC_BITS (16 - MAC_FX_INT_BITS)
typedef int16_t raw_t;
typedef hlsc::sint<16>::type buf_t;                   // raw bits, units 2^-F
typedef hlsc::acc<48>::type acc_t;                    // raw sum, units 2^-2F, 48 bits
#define MAC_ACC_BITS 48
#define MAC_IN_LANES 32
#else
typedef int8_t raw_t;
typedef hlsc::sint<8>::type buf_t;
typedef hlsc::acc<32>::type acc_t;                    // int32 accumulation (wraps)
#define MAC_ACC_BITS 32
#define MAC_IN_LANES 64
#endif

// ---------------------------------------------------------------------------
// Words <-> lanes.  Lane l of a word is bits [w*l + w-1 : w*l], i.e. the l-th
// element in little-endian memory order: the host writes plain arrays.
template <typename T, int L>
static inline void mac_unpack(const word_t& w, T lane[L]) {
  static_assert(sizeof(T) * L == 64, "a word holds 64 bytes of lanes");
#if HLSC_AP_ARITH
  for (int l = 0; l < L; ++l) {
#pragma HLS UNROLL
    ap_uint<8 * sizeof(T)> bits = w.range(8 * sizeof(T) * l + 8 * sizeof(T) - 1, 8 * sizeof(T) * l);
    lane[l] = (T)bits.to_uint64();
  }
#else
  memcpy(lane, static_cast<const void*>(&w), 64);   // ap_private<512>: 8 uint64, least significant first
#endif
}

template <typename T, int L>
static inline word_t mac_pack(const T lane[L]) {
  static_assert(sizeof(T) * L == 64, "a word holds 64 bytes of lanes");
  word_t w;
#if HLSC_AP_ARITH
  for (int l = 0; l < L; ++l) {
#pragma HLS UNROLL
    ap_uint<8 * sizeof(T)> bits = (typename std::make_unsigned<T>::type)lane[l];
    w.range(8 * sizeof(T) * l + 8 * sizeof(T) - 1, 8 * sizeof(T) * l) = bits;
  }
#else
  memcpy(static_cast<void*>(&w), lane, 64);
#endif
  return w;
}

// ---------------------------------------------------------------------------
// Raw element -> on-chip element, and the MAC.
static inline buf_t mac_to_buf(raw_t r) {
#if MAC_DTYPE_ID == 0
  return hlsc::f32_from_bits(r);
#elif MAC_DTYPE_ID == 1
#if HLSC_AP_ARITH
  return buf_t(r);
#else
  return hlsc::f16_bits_to_f32(r);
#endif
#else
  return (buf_t)r;
#endif
}

// The product a*b as the accumulator adds it (fp32 for fp32/fp16, exact integer otherwise).
static inline acc_t mac_product(buf_t a, buf_t b) {
#if MAC_DTYPE_ID == 1 && HLSC_AP_ARITH
  return hlsc::f16_product_exact(a, b);
#elif MAC_DTYPE_ID <= 1
  return a * b;
#else
  return (acc_t)a * (acc_t)b;
#endif
}

// acc + a*b, the one MAC of every kernel (fp32/fp16: two roundings, never fused).
static inline acc_t mac(acc_t acc, buf_t a, buf_t b) {
#pragma HLS INLINE
  return acc + mac_product(a, b);
}

// ---------------------------------------------------------------------------
// Accumulator -> raw 32-bit output element.
static inline uint32_t acc_to_out_raw(const acc_t& acc) {
#if MAC_DTYPE_ID <= 1
  return hlsc::f32_bits(acc);
#elif MAC_DTYPE_ID == 2
  // acc holds sum(a_raw*b_raw) in units of 2^-2F, wrapped to 48 bits.  To 16
  // fractional bits: round half up (AP_RND), then saturate to 32 bits (AP_SAT).
  const int S = 2 * MAC_FX_FRAC_BITS - 16;        // right shift (may be <= 0)
  const int SR = S > 0 ? S : 0;
  const int SL = S < 0 ? -S : 0;
  long long r = hlsc::wrap_to<MAC_ACC_BITS>(acc);
  if (SR > 0) r = (r + (1LL << (SR > 0 ? SR - 1 : 0))) >> SR;
  r = r * (1LL << SL);
  const long long LO = -(1LL << 31), HI = (1LL << 31) - 1;
  if (r < LO) r = LO;
  if (r > HI) r = HI;
  return (uint32_t)(int32_t)r;
#else
  return (uint32_t)(int32_t)hlsc::wrap_to<MAC_ACC_BITS>(acc);
#endif
}

#endif  // MAC_TYPES_H
