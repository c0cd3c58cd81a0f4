// epilogue.h -- the GEMM epilogue, shared by the fused path (gemm, applied to
// each C element on chip before it is written) and the unfused path
// (bias_gelu, applied to C read back from memory).  Both call
// gemm_epilogue() on the same out_t value, so fused and unfused results are
// bit-identical.
//
//   epilogue 0: y = c
//   epilogue 1: y = c + bias[n]
//   epilogue 2: y = gelu(c + bias[n]),  gelu(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
//               evaluated in fp32 (the sum c + bias is formed in out_t first)
//
// Per dtype (out_t from gemm_types.h):
//   fp32 : fp32 add, fp32 GELU.
//   fp16 : bias (half) converted exactly to fp32, then as fp32.
//   fx16 : c + bias computed exactly and assigned to ap_fixed<32,16,AP_RND,AP_SAT>
//          (saturates); GELU: to fp32 (round to nearest), GELU in fp32, back to
//          ap_fixed<32,16,AP_RND,AP_SAT> (round half up, saturate).
//   int8 : c + bias in int32, wrapping; GELU: int32 -> fp32 (round to nearest),
//          GELU in fp32, clamped to the int32 range, truncated toward zero.
#ifndef GEMM_EPILOGUE_H
#define GEMM_EPILOGUE_H

#include "gemm_types.h"

// Epilogue codes (GEMM_EPI_NONE, GEMM_EPI_BIAS, GEMM_EPI_BIAS_GELU) come as -D flags from
// [codes.epilogue] of kernels/designs/gemm.toml.
#if !defined(GEMM_EPI_NONE) || !defined(GEMM_EPI_BIAS) || !defined(GEMM_EPI_BIAS_GELU)
#error "the GEMM_EPI_* codes come from kernels/designs/gemm.toml: build with make emu or make xclbin"
#endif

static inline float gemm_gelu_f32(float x) {
  const float k0 = 0.7978845608028654f;   // sqrt(2/pi)
  const float k1 = 0.044715f;
  float u = k0 * (x + k1 * x * x * x);
  return 0.5f * x * (1.0f + hlsc::tanh_f32(u));
}

// y = epilogue(c, bias) as documented above.  `epi` is 0, 1 or 2 (the kernels
// refuse other values before calling).  `b` is ignored for epi == 0.
static inline out_t gemm_epilogue(const out_t& c, const elem_t& b, unsigned int epi) {
#pragma HLS INLINE
  if (epi == GEMM_EPI_NONE) return c;
#if (GEMM_DTYPE_ID == GEMM_DTYPE_FP32 || GEMM_DTYPE_ID == GEMM_DTYPE_FP16)
  float s = c + (float)b;
  return epi == GEMM_EPI_BIAS_GELU ? gemm_gelu_f32(s) : s;
#elif GEMM_DTYPE_ID == GEMM_DTYPE_FX16
  out_t s = c + b;   // exact sum, then AP_RND/AP_SAT into 16.16
  if (epi != GEMM_EPI_BIAS_GELU) return s;
  out_t g = gemm_gelu_f32(s.to_float());
  return g;
#else
  out_t s = c + b;   // ap_int<33> sum wrapped into ap_int<32>
  if (epi != GEMM_EPI_BIAS_GELU) return s;
  float g = gemm_gelu_f32((float)s.to_int());
  const float HI = 2147483520.0f;   // largest fp32 below 2^31
  const float LO = -2147483648.0f;
  if (g > HI) g = HI;
  if (g < LO) g = LO;
  out_t r = (int)g;                 // truncation toward zero
  return r;
#endif
}

#endif  // GEMM_EPILOGUE_H
