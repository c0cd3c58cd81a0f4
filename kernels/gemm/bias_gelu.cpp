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
//
// Emulator faults (emu_faults.h; nothing under Vitis): operands:* round each element of `in`
// as read (fp32/fp16 designs), skip_word leaves out[M-1][N-1] unwritten, wrong_index writes
// out[m][n] from element n^1 of the row (where it exists).
#include "epilogue.h"
#include "emu_faults.h"

#if GEMM_DTYPE_ID <= 1
#define BIAS_GELU_EMU_FAULTS (EMU_FAULT_BIT(OPERANDS_FP16) | EMU_FAULT_BIT(OPERANDS_BF16) | \
                              EMU_FAULT_BIT(OPERANDS_TF32) | EMU_FAULT_BIT(SKIP_WORD) | EMU_FAULT_BIT(WRONG_INDEX))
#else
#define BIAS_GELU_EMU_FAULTS (EMU_FAULT_BIT(SKIP_WORD) | EMU_FAULT_BIT(WRONG_INDEX))
#endif
EMU_FAULT_KERNEL(bias_gelu, BIAS_GELU_EMU_FAULTS)

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
  EMU_FAULT_ENTRY(bias_gelu)

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
          const unsigned int sn = (EMU_FAULT(WRONG_INDEX) && (n ^ 1u) < N) ? (n ^ 1u) : n;
          if (n < N && !(EMU_FAULT(SKIP_WORD) && m == M - 1 && n == N - 1))
            dst[n] = EMU_FAULT_OPERAND(src[sn]);
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
          const unsigned int sn = (EMU_FAULT(WRONG_INDEX) && (n ^ 1u) < N) ? (n ^ 1u) : n;
          if (n < N && !(EMU_FAULT(SKIP_WORD) && m == M - 1 && n == N - 1))
            dst[n] = gemm_epilogue(EMU_FAULT_OPERAND(src[sn]), bias[sn], epilogue);
        }
      }
    }
  }
}
