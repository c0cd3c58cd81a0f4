// hls_half.h for the native (g++) build only: Vitis' `half` is IEEE binary16, which g++ offers
// as _Float16 (same storage as numpy float16).  Never on a Vitis include path.
#ifndef HLS_NATIVE_HALF_H
#define HLS_NATIVE_HALF_H
typedef _Float16 half;
#endif
