// gemm -- a plain fp32 GEMM, C[M x N] = A[M x K] x B[K x N], row-major, no bias, no activation.
//
// Written the way many first accelerators for a transformer are: one output row at a time,
// the row of A and the row of C kept on chip, B streamed from memory one row per k through a
// 32-bit port, the innermost loop pipelined at one multiply-add per cycle, and the bias add
// and the GELU left to separate kernels (add_bias.cpp, gelu.cpp) that read C back.
// Each C element is the sum over k = 0 .. K-1, in order, of fp32 products A[m][k] * B[k][n],
// each product rounded to fp32 before it is added (Vitis HLS keeps fmul and fadd apart; the
// native build is compiled with -ffp-contract=off), so reference.py replays it exactly.
//
// Arguments (XRT order): A, B, C (m_axi, one bundle each), M, K, N (s_axilite).
// K > MAX_K or N > MAX_N (the on-chip rows, -D flags in gemm.toml): nothing is written.
#ifndef MAX_K
#define MAX_K 4096
#endif
#ifndef MAX_N
#define MAX_N 4096
#endif

extern "C" void gemm(const float* A, const float* B, float* C, unsigned int M, unsigned int K,
                     unsigned int N) {
#pragma HLS INTERFACE m_axi port=A offset=slave bundle=gmem0
#pragma HLS INTERFACE m_axi port=B offset=slave bundle=gmem1
#pragma HLS INTERFACE m_axi port=C offset=slave bundle=gmem2
#pragma HLS INTERFACE s_axilite port=A
#pragma HLS INTERFACE s_axilite port=B
#pragma HLS INTERFACE s_axilite port=C
#pragma HLS INTERFACE s_axilite port=M
#pragma HLS INTERFACE s_axilite port=K
#pragma HLS INTERFACE s_axilite port=N
#pragma HLS INTERFACE s_axilite port=return

  if (K > MAX_K || N > MAX_N) return;
  float a_row[MAX_K];
  float c_row[MAX_N];

rows:
  for (unsigned int m = 0; m < M; ++m) {
  load_a:
    for (unsigned int k = 0; k < K; ++k) {
#pragma HLS PIPELINE II=1
      a_row[k] = A[(unsigned long)m * K + k];
    }
  zero:
    for (unsigned int n = 0; n < N; ++n) {
#pragma HLS PIPELINE II=1
      c_row[n] = 0.0f;
    }
  ks:
    for (unsigned int k = 0; k < K; ++k) {
      const float a = a_row[k];
      const float* b = B + (unsigned long)k * N;
    mac:
      for (unsigned int n = 0; n < N; ++n) {
#pragma HLS PIPELINE II=1
        c_row[n] += a * b[n];
      }
    }
  store:
    for (unsigned int n = 0; n < N; ++n) {
#pragma HLS PIPELINE II=1
      C[(unsigned long)m * N + n] = c_row[n];
    }
  }
}
