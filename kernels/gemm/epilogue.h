// epilogue.h -- the GEMM epilogue, shared by the fused path (gemm, applied to
// each C element on chip before it is written) and the unfused path
// (bias_gelu, applied to C read back from memory).  Both call
// gemm_epilogue() on the same raw 32-bit output element, so fused and unfused
// results are bit-identical.
//
//   GEMM_EPI_NONE:      y = c
//   GEMM_EPI_BIAS:      y = c + bias[n]
//   GEMM_EPI_BIAS_GELU: y = gelu(c + bias[n]),  gelu(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
//               evaluated in fp32 (the sum c + bias is formed in the output type first)
//
// Per dtype (c is the 32-bit output element, bias the input element type):
//   fp32 : fp32 add, fp32 GELU.
//   fp16 : bias (binary16) converted exactly to fp32, then as fp32.
//   fx16 : c (16.16) + bias computed exactly and assigned to ap_fixed<32,16,AP_RND,AP_SAT>
//          (saturates); GELU: to fp32 (round to nearest), GELU in fp32, back to
//          ap_fixed<32,16,AP_RND,AP_SAT> (round half up, saturate).
//   int8 : c + bias in int32, wrapping; GELU: int32 -> fp32 (round to nearest),
//          GELU in fp32, clamped to the int32 range, truncated toward zero.
#ifndef GEMM_EPILOGUE_H
#define GEMM_EPILOGUE_H

#include "gemm_types.h"

// GEMM_EPI_NONE, GEMM_EPI_BIAS, GEMM_EPI_BIAS_GELU: the codes of [codes.epilogue] (gemm_types.h checks).

static inline float gemm_gelu_f32(float x) {
  const float k0 = 0.7978845608028654f;   // sqrt(2/pi)
  const float k1 = 0.044715f;
  float u = k0 * (x + k1 * x * x * x);
  return 0.5f * x * (1.0f + hlsc::tanh_f32(u));
}

// y = epilogue(c, bias) on raw bits.  `epi` is one of the GEMM_EPI_* codes (the kernels refuse
// other values before calling).  `b` is ignored for epi == 0.
static inline uint32_t gemm_epilogue(uint32_t c, raw_t b, unsigned int epi) {
#pragma HLS INLINE
  if (epi == GEMM_EPI_NONE) return c;
#if MAC_DTYPE_ID <= 1
#if MAC_DTYPE_ID == 0
  const float bv = hlsc::f32_from_bits(b);
#else
  const float bv = hlsc::f16_bits_to_f32(b);
#endif
  float s = hlsc::f32_from_bits(c) + bv;
  return hlsc::f32_bits(epi == GEMM_EPI_BIAS_GELU ? gemm_gelu_f32(s) : s);
#elif MAC_DTYPE_ID == 2
  typedef ap_fixed<32, 16, AP_RND, AP_SAT> out_t;
  const out_t cv = hlsc::fixed_from_raw<32, 16, AP_RND, AP_SAT>((int32_t)c);
  const ap_fixed<16, GEMM_FX_INT_BITS> bv = hlsc::fixed_from_raw<16, GEMM_FX_INT_BITS, AP_TRN, AP_WRAP>(b);
  out_t s = cv + bv;   // exact sum, then AP_RND/AP_SAT into 16.16
  if (epi == GEMM_EPI_BIAS_GELU) s = gemm_gelu_f32(s.to_float());
  ap_uint<32> bits = s.range(31, 0);
  return (uint32_t)bits.to_uint();
#else
  ap_int<32> s = ap_int<32>((int32_t)c) + ap_int<8>(b);   // ap_int<33> sum wrapped into ap_int<32>
  if (epi != GEMM_EPI_BIAS_GELU) return (uint32_t)s.to_int();
  float g = gemm_gelu_f32((float)s.to_int());
  const float HI = 2147483520.0f;   // largest fp32 below 2^31
  const float LO = -2147483648.0f;
  if (g > HI) g = HI;
  if (g < LO) g = LO;
  return (uint32_t)(int32_t)g;      // truncation toward zero
#endif
}

#endif  // GEMM_EPILOGUE_H
