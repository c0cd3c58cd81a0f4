// add_bias -- Y[m][n] = X[m][n] + bias[n] in fp32, row-major M x N: the bias of a linear layer as
// its own kernel, reading the GEMM's output back from memory and writing it again.
//
// Arguments (XRT order): X, bias, Y (m_axi, one bundle each), M, N (s_axilite).
// N > MAX_N (the on-chip copy of the bias, -DMAX_N in add_bias.toml): nothing is written.
#ifndef MAX_N
#define MAX_N 4096
#endif

extern "C" void add_bias(const float* X, const float* bias, float* Y, unsigned int M, unsigned int N) {
#pragma HLS INTERFACE m_axi port=X offset=slave bundle=gmem0
#pragma HLS INTERFACE m_axi port=bias offset=slave bundle=gmem1
#pragma HLS INTERFACE m_axi port=Y offset=slave bundle=gmem2
#pragma HLS INTERFACE s_axilite port=X
#pragma HLS INTERFACE s_axilite port=bias
#pragma HLS INTERFACE s_axilite port=Y
#pragma HLS INTERFACE s_axilite port=M
#pragma HLS INTERFACE s_axilite port=N
#pragma HLS INTERFACE s_axilite port=return

  if (N > MAX_N) return;
  float b[MAX_N];
load_bias:
  for (unsigned int n = 0; n < N; ++n) {
#pragma HLS PIPELINE II=1
    b[n] = bias[n];
  }
rows:
  for (unsigned int m = 0; m < M; ++m) {
  cols:
    for (unsigned int n = 0; n < N; ++n) {
#pragma HLS PIPELINE II=1
      const unsigned long i = (unsigned long)m * N + n;
      Y[i] = X[i] + b[n];
    }
  }
}
