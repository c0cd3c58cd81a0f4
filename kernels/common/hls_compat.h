// hls_compat.h -- the only place where the Vitis HLS build and the native g++
// build (emulation) of the kernels differ.
//
// Two switches:
//   HLSC_VITIS     1 when compiled by Vitis HLS (synthesis: __SYNTHESIS__,
//                  C simulation: __VITIS_HLS__), 0 under plain g++.
//                  Selects hls_half.h / hls_math.h and turns HLSC_PRAGMA on.
//   HLSC_AP_ARITH  1: integer arithmetic on chip uses ap_int<W> (always under
//                  Vitis).  0: under g++, plain C integers of at least W bits
//                  are used instead, and results are wrapped to W bits where
//                  the ap_int<W> type would wrap (hlsc::wrap_to<W>), so the
//                  results are bit-identical but the emulator runs faster.
//                  Pass -DHLSC_AP_ARITH=1 to g++ to exercise the ap_int path
//                  natively (the tests do, and compare both).
//
// The algorithm is never forked: kernels call the helpers below, whose two
// implementations compute the same bits.
#ifndef HLS_COMPAT_H
#define HLS_COMPAT_H

#include <stdint.h>
#include <string.h>
#include <cmath>
#include <type_traits>
#include <ap_int.h>
#include <ap_fixed.h>

#if defined(__SYNTHESIS__) || defined(__VITIS_HLS__)
#define HLSC_VITIS 1
#else
#define HLSC_VITIS 0
#endif

#ifndef HLSC_AP_ARITH
#define HLSC_AP_ARITH HLSC_VITIS
#endif

// Buffers that live across a kernel's steps: `static` under Vitis (on-chip memory of the CU);
// natively one copy per thread, because the emulator runs the CUs of a kernel concurrently,
// each call in its own thread, and a shared static buffer would mix their data.
#if HLSC_VITIS
#define HLSC_KERNEL_STATIC static
#else
#define HLSC_KERNEL_STATIC static thread_local
#endif
#if HLSC_VITIS && !HLSC_AP_ARITH
#error "HLSC_AP_ARITH=0 is a g++-only speed option; Vitis always uses ap_int"
#endif

// ---------------------------------------------------------------------------
// Pragmas whose values are build parameters (-DNAME=value).  UG1399 ("Using
// #define with Pragma Directives") documents both plain macro values in
// #pragma HLS and this two-level _Pragma form; the two-level form makes the
// preprocessor expand the macro before HLS sees the text, so it does not
// depend on the HLS front end.  Build parameters must be integer literals.
// Under g++ the helper expands to nothing (plain `#pragma HLS` lines are
// ignored with -Wno-unknown-pragmas).
// With -DHLSC_PRAGMA_PREVIEW (g++ -E only, never a real build) the helper expands to a string
// of the pragma as HLS would see it, so tests/test_pragmas.py can check every value against the
// design file.
#if HLSC_VITIS
#define HLSC_PRAGMA_SUB(x) _Pragma(#x)
#define HLSC_PRAGMA(x) HLSC_PRAGMA_SUB(x)
#elif defined(HLSC_PRAGMA_PREVIEW)
#define HLSC_PRAGMA_STR(x) #x
#define HLSC_PRAGMA(x) hlsc_pragma_preview HLSC_PRAGMA_STR(x)
#else
#define HLSC_PRAGMA(x)
#endif

// ---------------------------------------------------------------------------
// hls::burst_maxi ports (kernels/common/native/hls_burst_maxi.h natively).
// HLSC_BURST_LIMITS(port, read_burst, read_outstanding, write_burst, write_outstanding): first
// statements of a kernel, once per burst_maxi port, with the macros its m_axi pragma names. Under
// Vitis nothing (the pragma says it); natively the protocol check's limits for the port, and a
// check at every return that no request is left half done.
#if HLSC_VITIS
#define HLSC_BURST_LIMITS(port, rb, ro, wb, wo)
#else
#define HLSC_BURST_LIMITS(port, rb, ro, wb, wo)                                                   \
  hlsc_burst::declare((port).Ptr, sizeof(*(port).Ptr), (rb), (ro), (wb), (wo));                  \
  const hlsc_burst::Guard hlsc_burst_guard_##port((port).Ptr);
#endif

// ---------------------------------------------------------------------------
// half precision and math
#if HLSC_VITIS
#include <hls_half.h>   // class half
#include <hls_math.h>   // hls::tanh
namespace hlsc {
static inline float tanh_f32(float x) { return hls::tanh(x); }
}  // namespace hlsc
#else
typedef _Float16 half;  // IEEE binary16, same storage as hls half / numpy float16
namespace hlsc {
static inline float tanh_f32(float x) { return std::tanh(x); }
}  // namespace hlsc
#endif

namespace hlsc {

// ---------------------------------------------------------------------------
// Integer types for on-chip arithmetic.
//   sint<W>::type : holds a W-bit signed value (operands).
//   acc<W>::type  : accumulates; ap_int<W> (wraps at W bits) on Vitis, int64_t
//                   natively (no UB on overflow); wrap_to<W>() reproduces the
//                   ap_int<W> wrap, so sums mod 2^W are identical.
#if HLSC_AP_ARITH
template <int W> struct sint { typedef ap_int<W> type; };
template <int W> struct acc { typedef ap_int<W> type; };
template <int W> static inline long long wrap_to(const ap_int<W>& x) {
  return x.to_int64();
}
#else
template <int W> struct sint {
  typedef typename std::conditional<
      (W <= 8), int8_t,
      typename std::conditional<
          (W <= 16), int16_t,
          typename std::conditional<(W <= 32), int32_t, int64_t>::type>::type>::type
      type;
};
template <int W> struct acc { typedef int64_t type; };
template <int W> static inline long long wrap_to(int64_t x) {
  // sign-extend the low W bits (W <= 64), as ap_int<W> would hold them
  return (long long)((int64_t)((uint64_t)x << (64 - W)) >> (64 - W));
}
#endif

// Raw two's-complement bits of an ap_fixed<W,I> as a W-bit signed integer.
template <int W, int I, ap_q_mode Q, ap_o_mode O, int N>
static inline typename sint<W>::type fixed_raw(const ap_fixed<W, I, Q, O, N>& x) {
#if HLSC_AP_ARITH
  ap_uint<W> bits = x.range(W - 1, 0);
  ap_int<W> r = bits;
  return r;
#else
  return (typename sint<W>::type)wrap_to<W>((int64_t)(ap_ulong)x.range(W - 1, 0));
#endif
}

// ap_fixed<W,I> whose raw two's-complement bits are the low W bits of raw.
template <int W, int I, ap_q_mode Q, ap_o_mode O>
static inline ap_fixed<W, I, Q, O> fixed_from_raw(long long raw) {
  ap_fixed<W, I, Q, O> r;
  ap_uint<W> bits = (ap_ulong)raw;
  r.range(W - 1, 0) = bits;
  return r;
}

// Signed W-bit value of an ap_int<W> as a native integer.
template <int W>
static inline typename sint<W>::type int_raw(const ap_int<W>& x) {
#if HLSC_AP_ARITH
  return x;
#else
  return (typename sint<W>::type)x.to_int64();
#endif
}

// ---------------------------------------------------------------------------
// IEEE bit patterns <-> float.  Natively memcpy; under Vitis a union (the type
// pun HLS documents for floats).
static inline float f32_from_bits(uint32_t u) {
#if HLSC_VITIS
  union { uint32_t i; float f; } c;
  c.i = u;
  return c.f;
#else
  float f;
  memcpy(&f, &u, 4);
  return f;
#endif
}

static inline uint32_t f32_bits(float f) {
#if HLSC_VITIS
  union { uint32_t i; float f; } c;
  c.f = f;
  return c.i;
#else
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
#endif
}

// binary16 bits -> the fp32 of the same value (exact).  Natively through
// _Float16; with HLSC_AP_ARITH (what Vitis builds) by integer decoding, so no
// half-precision operator is needed on chip.
static inline float f16_bits_to_f32(uint32_t h) {
#if HLSC_AP_ARITH
  const uint32_t s = (h >> 15) & 1, e = (h >> 10) & 31, m = h & 1023;
  uint32_t bits;
  if (e == 31) {
    bits = (s << 31) | 0x7F800000u | (m << 13) | (m ? 0x400000u : 0);   // inf, or quiet NaN with the payload
  } else if (e != 0) {
    bits = (s << 31) | ((e + 112) << 23) | (m << 13);
  } else if (m == 0) {
    bits = s << 31;
  } else {                                      // subnormal: m * 2^-24
    bits = (s << 31) | (f32_bits((float)m) - (24u << 23));
  }
  return f32_from_bits(bits);
#else
  // Natively: exponent rebias on the bits (libgcc's _Float16 conversion is a slow
  // call); subnormals through one exact fp32 subtraction.  Same bits as above.
  uint32_t o = (h & 0x7fffu) << 13;
  const uint32_t e = o & 0x0f800000u;
  o += 112u << 23;
  if (e == 0x0f800000u) {
    o += 112u << 23;                      // inf / NaN
    if (o & 0x7fffffu) o |= 0x400000u;    // quiet NaN, payload kept
  } else if (e == 0) {
    o = f32_bits(f32_from_bits(o + (1u << 23)) - f32_from_bits(113u << 23));
  }
  return f32_from_bits(o | ((h & 0x8000u) << 16));
#endif
}

// The product of two binary16 values as an fp32: exact (11-bit significands give
// at most 22 bits, exponents stay in fp32's normal range), so it equals
// (float)a * (float)b.  On chip: one 11x11-bit integer multiply, an integer to
// float conversion of the product (exact, < 2^24) and an exponent add.
static inline float f16_product_exact(ap_uint<16> a, ap_uint<16> b) {
  const uint32_t ua = a.to_uint(), ub = b.to_uint();
  const uint32_t ea = (ua >> 10) & 31, eb = (ub >> 10) & 31;
  const uint32_t ma = ua & 1023, mb = ub & 1023;
  const uint32_t sign = ((ua ^ ub) >> 15) & 1;
  const bool nan_a = ea == 31 && ma, nan_b = eb == 31 && mb;
  const bool inf_a = ea == 31 && !ma, inf_b = eb == 31 && !mb;
  const bool zero_a = ea == 0 && !ma, zero_b = eb == 0 && !mb;
  if (nan_a) return f16_bits_to_f32(ua);
  if (nan_b) return f16_bits_to_f32(ub);
  if ((inf_a && zero_b) || (inf_b && zero_a)) return f32_from_bits(0xFFC00000u);   // x86 default NaN
  if (inf_a || inf_b) return f32_from_bits((sign << 31) | 0x7F800000u);
  const uint32_t sa = ea ? (ma | 1024) : ma, sb = eb ? (mb | 1024) : mb;
  const int xa = ea ? (int)ea - 25 : -24, xb = eb ? (int)eb - 25 : -24;   // value = sig * 2^x
  ap_uint<22> p = ap_uint<11>(sa) * ap_uint<11>(sb);
  if (p == 0) return f32_from_bits(sign << 31);
  const uint32_t pb = f32_bits((float)p.to_uint());   // exact: p < 2^22
  return f32_from_bits((sign << 31) | (uint32_t)((int)pb + ((xa + xb) << 23)));
}

// ---------------------------------------------------------------------------
// 512-bit words as 8 x uint64 lanes; lane j = bits [64j+63 : 64j], i.e. bytes
// [8j, 8j+8) of the word in (little-endian) device memory.
static inline void unpack_u64x8(const ap_uint<512>& w, uint64_t lane[8]) {
#if HLSC_AP_ARITH
  for (int j = 0; j < 8; ++j) {
#pragma HLS UNROLL
    lane[j] = w.range(64 * j + 63, 64 * j).to_uint64();
  }
#else
  // ap_private<512> stores 8 uint64 words, least significant first
  // (sizeof(ap_uint<512>) == 64; tests/test_kernels_native.py checks this
  // against the range() path).
  memcpy(lane, static_cast<const void*>(&w), 64);
#endif
}

static inline ap_uint<512> pack_u64x8(const uint64_t lane[8]) {
  ap_uint<512> w;
#if HLSC_AP_ARITH
  for (int j = 0; j < 8; ++j) {
#pragma HLS UNROLL
    w.range(64 * j + 63, 64 * j) = lane[j];
  }
#else
  memcpy(static_cast<void*>(&w), lane, 64);
#endif
  return w;
}

// dst = pack_u64x8(lane). Natively the lanes go straight to memory: assigning an
// ap_uint<512> copies it through the stack (and reloads its top word), which makes a
// store loop several times slower than memory (same bytes either way).
static inline void store_u64x8(ap_uint<512>& dst, const uint64_t lane[8]) {
#if HLSC_AP_ARITH
  dst = pack_u64x8(lane);
#else
  memcpy(static_cast<void*>(&dst), lane, 64);
#endif
}

// The next element of a burst_maxi port of 512-bit words, as 8 lanes, and a word written to one
// (byte enables all on, or all off: a word the port is owed but that must not change memory).
// Natively straight between memory and the lanes (no ap_uint<512> copy, as store_u64x8).
template <class Port>
static inline void maxi_read_u64x8(Port& port, uint64_t lane[8]) {
#if HLSC_AP_ARITH
  unpack_u64x8(port.read(), lane);
#else
  memcpy(lane, port.hlsc_read_ptr(), 64);
#endif
}

template <class Port>
static inline void maxi_write_u64x8(Port& port, const uint64_t lane[8], bool enable) {
#if HLSC_VITIS
  port.write(pack_u64x8(lane), enable ? ~ap_uint<64>(0) : ap_uint<64>(0));
#elif HLSC_AP_ARITH
  if (enable) port.write(pack_u64x8(lane));
  else port.write(pack_u64x8(lane), ap_uint<64>(0));
#else
  unsigned char* dst = port.hlsc_write_ptr();
  if (enable) memcpy(dst, lane, 64);
#endif
}

}  // namespace hlsc

#endif  // HLS_COMPAT_H
