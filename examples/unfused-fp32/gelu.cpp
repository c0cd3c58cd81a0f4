// gelu -- Y[i] = gelu(X[i]) for i < n, fp32, the tanh form used by SigLIP's MLP:
//   gelu(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
// evaluated in this order in fp32, with hls::tanh from hls_math.h (on Vitis the HLS math
// library's bit-approximate tanh; natively the harness's hls_math.h, i.e. std::tanh).
//
// Arguments (XRT order): X, Y (m_axi, one bundle each), n (s_axilite) = elements.
#include "hls_math.h"

extern "C" void gelu(const float* X, float* Y, unsigned int n) {
#pragma HLS INTERFACE m_axi port=X offset=slave bundle=gmem0
#pragma HLS INTERFACE m_axi port=Y offset=slave bundle=gmem1
#pragma HLS INTERFACE s_axilite port=X
#pragma HLS INTERFACE s_axilite port=Y
#pragma HLS INTERFACE s_axilite port=n
#pragma HLS INTERFACE s_axilite port=return

elements:
  for (unsigned int i = 0; i < n; ++i) {
#pragma HLS PIPELINE II=1
    const float x = X[i];
    const float u = 0.7978845608f * (x + 0.044715f * x * x * x);
    Y[i] = 0.5f * x * (1.0f + hls::tanh(u));
  }
}
