// bias_gelu -- the unfused epilogue: reads a GEMM output C from memory,
// applies the same epilogue as the fused gemm kernel (epilogue.h) and writes
// the result.  Built in the same design as gemm, with the same dtype params.
//
// Kernel name (v++ -k, XRT): bias_gelu.  Arguments (XRT order):
//   in       const out_t*   m_axi gmem0  row-major M x N (C of the GEMM)
//   bias     const elem_t*  m_axi gmem1  N elements (not read when epilogue == GEMM_EPI_NONE)
//   out      out_t*         m_axi gmem2  row-major M x N (may be the same buffer
//                                        as `in`: each element is read before
//                                        it is written)
//   M, N     uint32
//   epilogue uint32         0 copy, 1 + bias, 2 + bias then GELU; > 2: nothing is done
//
// Structure: for each row, one II=1 loop of ceil(N/LC) iterations, each
// reading LC consecutive elements of in[] and bias[] (two bursts) and writing
// LC elements of out[] (one burst); LC = GEMM_LANES_C = 16 (one 512-bit word of
// 32-bit out_t).  Lanes past the end of the row are neither read nor written.
// ~M*(ceil(N/16) + L) cycles; see README.md.
#include "epilogue.h"

extern "C" void bias_gelu(const out_t* in, const elem_t* bias, out_t* out,
                          unsigned int M, unsigned int N, unsigned int epilogue) {
HLSC_PRAGMA(HLS INTERFACE m_axi port=in offset=slave bundle=gmem0 max_widen_bitwidth=GEMM_PORT_BITS max_read_burst_length=GEMM_BURST num_read_outstanding=GEMM_OUTSTANDING)
HLSC_PRAGMA(HLS INTERFACE m_axi port=bias offset=slave bundle=gmem1 max_widen_bitwidth=GEMM_PORT_BITS max_read_burst_length=GEMM_BURST num_read_outstanding=GEMM_OUTSTANDING)
HLSC_PRAGMA(HLS INTERFACE m_axi port=out offset=slave bundle=gmem2 max_widen_bitwidth=GEMM_PORT_BITS max_write_burst_length=GEMM_BURST num_write_outstanding=GEMM_OUTSTANDING)
#pragma HLS INTERFACE s_axilite port=in
#pragma HLS INTERFACE s_axilite port=bias
#pragma HLS INTERFACE s_axilite port=out
#pragma HLS INTERFACE s_axilite port=M
#pragma HLS INTERFACE s_axilite port=N
#pragma HLS INTERFACE s_axilite port=epilogue
#pragma HLS INTERFACE s_axilite port=return

  if ((epilogue != GEMM_EPI_NONE && epilogue != GEMM_EPI_BIAS && epilogue != GEMM_EPI_BIAS_GELU)) return;

rows:
  for (unsigned int m = 0; m < M; ++m) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=1024 avg=64
    const out_t* src = in + (unsigned long)m * N;
    out_t* dst = out + (unsigned long)m * N;
    const unsigned int segs = (N + GEMM_OUT_LANES - 1) / GEMM_OUT_LANES;
    if (epilogue == GEMM_EPI_NONE) {
    copy_row:
      for (unsigned int s = 0; s < segs; ++s) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT min=1 max=256 avg=64
        for (int l = 0; l < GEMM_OUT_LANES; ++l) {
#pragma HLS UNROLL
          const unsigned int n = s * GEMM_OUT_LANES + l;
          if (n < N) dst[n] = src[n];
        }
      }
    } else {
    epi_row:
      for (unsigned int s = 0; s < segs; ++s) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT min=1 max=256 avg=64
        for (int l = 0; l < GEMM_OUT_LANES; ++l) {
#pragma HLS UNROLL
          const unsigned int n = s * GEMM_OUT_LANES + l;
          if (n < N) dst[n] = gemm_epilogue(src[n], bias[n], epilogue);
        }
      }
    }
  }
}
