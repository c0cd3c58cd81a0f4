// hls_math.h for the native (g++) build only -- never on a Vitis include path.
//
// Vitis HLS ships hls_math.h: the functions of <cmath> in namespace hls, for half, float and
// double, plus funcf (float) and half_func (half) forms of each (UG1399, "HLS Math Library").
// The hls4ml package, which supplies the other Xilinx headers to the native build, has an
// hls_math.h with a handful of ap_fixed functions only, so a kernel calling hls::tanh(float)
// would not compile.  This header takes its place (kernels/common/native/ is searched first)
// and offers the same names, computed with the C++ standard library.
//
// Accuracy: Vitis implements these functions bit-approximately, "typically in the range of
// 1-4 ULP" from the standard C functions (UG1399, "HLS Math Library Accuracy"), so a native
// result can differ from the card's in the last bits.  Host references must allow for that
// (examples/unfused-fp32/reference.py shows how for tanh).
#ifndef X_HLS_MATH_H     // the guard of Vitis' and hls4ml's hls_math.h: only one of them is used
#define X_HLS_MATH_H

#include <cmath>
#include <cstdint>
#include "ap_fixed.h"
#include "ap_int.h"

namespace hls {

// Unary functions for half (_Float16), float and double, with the funcf / half_func forms.
#define HLS_NATIVE_UNARY(fn)                                                              \
  static inline float fn(float x) { return std::fn(x); }                                   \
  static inline double fn(double x) { return std::fn(x); }                                 \
  static inline _Float16 fn(_Float16 x) { return (_Float16)std::fn((float)x); }            \
  static inline float fn##f(float x) { return std::fn(x); }                                \
  static inline _Float16 half_##fn(_Float16 x) { return (_Float16)std::fn((float)x); }     \
  template <int W, int I, ap_q_mode Q, ap_o_mode O, int N>                               \
  static inline ap_fixed<W, I, Q, O, N> fn(const ap_fixed<W, I, Q, O, N>& x) {            \
    return ap_fixed<W, I, Q, O, N>(std::fn(x.to_double()));                               \
  }                                                                                      \
  template <int W, int I, ap_q_mode Q, ap_o_mode O, int N>                               \
  static inline ap_ufixed<W, I, Q, O, N> fn(const ap_ufixed<W, I, Q, O, N>& x) {          \
    return ap_ufixed<W, I, Q, O, N>(std::fn(x.to_double()));                              \
  }

HLS_NATIVE_UNARY(acos)  HLS_NATIVE_UNARY(asin)  HLS_NATIVE_UNARY(atan)  HLS_NATIVE_UNARY(cos)
HLS_NATIVE_UNARY(sin)   HLS_NATIVE_UNARY(tan)   HLS_NATIVE_UNARY(acosh) HLS_NATIVE_UNARY(asinh)
HLS_NATIVE_UNARY(atanh) HLS_NATIVE_UNARY(cosh)  HLS_NATIVE_UNARY(sinh)  HLS_NATIVE_UNARY(tanh)
HLS_NATIVE_UNARY(exp)   HLS_NATIVE_UNARY(exp2)  HLS_NATIVE_UNARY(expm1) HLS_NATIVE_UNARY(log)
HLS_NATIVE_UNARY(log2)  HLS_NATIVE_UNARY(log10) HLS_NATIVE_UNARY(log1p) HLS_NATIVE_UNARY(cbrt)
HLS_NATIVE_UNARY(sqrt)  HLS_NATIVE_UNARY(erf)   HLS_NATIVE_UNARY(erfc)  HLS_NATIVE_UNARY(ceil)
HLS_NATIVE_UNARY(floor) HLS_NATIVE_UNARY(trunc) HLS_NATIVE_UNARY(round) HLS_NATIVE_UNARY(rint)
HLS_NATIVE_UNARY(nearbyint) HLS_NATIVE_UNARY(fabs)
#undef HLS_NATIVE_UNARY

// Functions <cmath> lacks.
static inline float rsqrt(float x) { return 1.0f / std::sqrt(x); }
static inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }
static inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
static inline float recip(float x) { return 1.0f / x; }
static inline double recip(double x) { return 1.0 / x; }
static inline float recipf(float x) { return 1.0f / x; }
static inline float exp10(float x) { return std::pow(10.0f, x); }
static inline double exp10(double x) { return std::pow(10.0, x); }
static inline float exp10f(float x) { return std::pow(10.0f, x); }
static inline float sinpi(float x) { return std::sin(3.14159265358979323846f * x); }
static inline double sinpi(double x) { return std::sin(3.14159265358979323846 * x); }
static inline float cospi(float x) { return std::cos(3.14159265358979323846f * x); }
static inline double cospi(double x) { return std::cos(3.14159265358979323846 * x); }
static inline float abs(float x) { return std::fabs(x); }
static inline double abs(double x) { return std::fabs(x); }

// Binary functions for float and double, with the funcf form.
#define HLS_NATIVE_BINARY(fn)                                                      \
  static inline float fn(float x, float y) { return std::fn(x, y); }                \
  static inline double fn(double x, double y) { return std::fn(x, y); }             \
  static inline float fn##f(float x, float y) { return std::fn(x, y); }

HLS_NATIVE_BINARY(atan2) HLS_NATIVE_BINARY(pow)   HLS_NATIVE_BINARY(hypot) HLS_NATIVE_BINARY(fmod)
HLS_NATIVE_BINARY(remainder) HLS_NATIVE_BINARY(fmin) HLS_NATIVE_BINARY(fmax) HLS_NATIVE_BINARY(fdim)
HLS_NATIVE_BINARY(copysign) HLS_NATIVE_BINARY(nextafter)
#undef HLS_NATIVE_BINARY

static inline float fma(float x, float y, float z) { return std::fma(x, y, z); }
static inline double fma(double x, double y, double z) { return std::fma(x, y, z); }

template <typename T> static inline bool isnan(T x) { return std::isnan(x); }
template <typename T> static inline bool isinf(T x) { return std::isinf(x); }
template <typename T> static inline bool isfinite(T x) { return std::isfinite(x); }
template <typename T> static inline bool signbit(T x) { return std::signbit(x); }

}  // namespace hls

#endif  // X_HLS_MATH_H
