// bias_gelu -- the unfused epilogue: reads a GEMM output C from memory,
// applies the same epilogue as the fused gemm kernel (epilogue.h) and writes
// the result.  Built in the same design as gemm, with the same parameters.
//
// Kernel name (v++ -k, XRT): bias_gelu.  Arguments (XRT order), ports ap_uint<512>:
//   in       m_axi gmemIn    M x N 32-bit elements in gemm's packed C layout (per N tile of TN
//                            columns a row-major block of M rows x ceil(nv/16) words)
//   bias     m_axi gmemBias  N input elements, zero-padded to whole words
//                            (not read when epilogue == 0)
//   out      m_axi gmemOut   like `in` (may be the same buffer: each word is read
//                            before it is written)
//   M, N     uint32
//   epilogue uint32          GEMM_EPI_NONE copy, GEMM_EPI_BIAS, GEMM_EPI_BIAS_GELU; other: nothing
//
// Structure: for each block of TN columns: load the block's bias (one burst),
// then the block's M x ceil(nv/16) words as one sequential stream.  16 outputs
// per word; with an epilogue a word takes 16 / GEMM_EPI_LANES cycles (the fused
// kernel's epilogue rate), otherwise one.
//
// Emulator faults (emu_faults.h; nothing under Vitis): operands:* round each element of `in`
// as read (fp32/fp16 designs), skip_word leaves the word holding out[M-1][N-1] unwritten,
// wrong_index writes out[m][n] from element n^1 of the row (where it exists in the same word).
#include "epilogue.h"
#include "emu_faults.h"

#if MAC_DTYPE_ID <= 1
#define BIAS_GELU_EMU_FAULTS (EMU_FAULT_BIT(OPERANDS_FP16) | EMU_FAULT_BIT(OPERANDS_BF16) | \
                              EMU_FAULT_BIT(OPERANDS_TF32) | EMU_FAULT_BIT(SKIP_WORD) | EMU_FAULT_BIT(WRONG_INDEX))
#else
#define BIAS_GELU_EMU_FAULTS (EMU_FAULT_BIT(SKIP_WORD) | EMU_FAULT_BIT(WRONG_INDEX))
#endif
EMU_FAULT_KERNEL(bias_gelu, BIAS_GELU_EMU_FAULTS)

static inline unsigned int ew_cdivu(unsigned int a, unsigned int b) { return (a + b - 1) / b; }

// One word of outputs; `nl` valid lanes (only the emulator's faults look at it).
static inline word_t ew_word(const word_t& src, const raw_t* bias_row, unsigned int epi, unsigned int nl) {
#pragma HLS INLINE
  EMU_FAULT_ENTRY(bias_gelu)
  (void)nl;
  uint32_t v[LC], o[LC];
  mac_unpack<uint32_t, LC>(src, v);
  for (int l = 0; l < LC; ++l) {
#pragma HLS UNROLL
    const int sl = (EMU_FAULT(WRONG_INDEX) && (unsigned int)(l ^ 1) < nl) ? (l ^ 1) : l;
    uint32_t x = v[sl];
#if MAC_DTYPE_ID <= 1
    x = hlsc::f32_bits(EMU_FAULT_OPERAND(hlsc::f32_from_bits(x)));
#endif
    o[l] = epi == GEMM_EPI_NONE ? x : gemm_epilogue(x, bias_row[sl], epi);
  }
  return mac_pack<uint32_t, LC>(o);
}

extern "C" void bias_gelu(const word_t* in, const word_t* bias, word_t* out,
                          unsigned int M, unsigned int N, unsigned int epilogue) {
HLSC_PRAGMA(HLS INTERFACE m_axi port=in offset=slave bundle=gmemIn max_read_burst_length=GEMM_BURST num_read_outstanding=GEMM_OUTSTANDING)
HLSC_PRAGMA(HLS INTERFACE m_axi port=bias offset=slave bundle=gmemBias max_read_burst_length=GEMM_BURST num_read_outstanding=GEMM_OUTSTANDING)
HLSC_PRAGMA(HLS INTERFACE m_axi port=out offset=slave bundle=gmemOut max_write_burst_length=GEMM_BURST num_write_outstanding=GEMM_OUTSTANDING)
#pragma HLS INTERFACE s_axilite port=M
#pragma HLS INTERFACE s_axilite port=N
#pragma HLS INTERFACE s_axilite port=epilogue
#pragma HLS INTERFACE s_axilite port=return

  if ((epilogue != GEMM_EPI_NONE && epilogue != GEMM_EPI_BIAS && epilogue != GEMM_EPI_BIAS_GELU) || M == 0 ||
      N == 0)
    return;
  EMU_FAULT_ENTRY(bias_gelu)
  raw_t bias_buf[TN];
  HLSC_PRAGMA(HLS ARRAY_PARTITION variable=bias_buf cyclic factor=MAC_IN_LANES dim=1)
blocks:
  for (unsigned int n0 = 0; n0 < N; n0 += TN) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=16 avg=2
    const unsigned int nv = N - n0 < (unsigned int)TN ? N - n0 : TN;
    if (epilogue != GEMM_EPI_NONE) {
    load_bias:
      for (unsigned int w = 0; w < ew_cdivu(nv, LA); ++w) {
#pragma HLS PIPELINE II=1
HLSC_PRAGMA(HLS LOOP_TRIPCOUNT min=1 max=TNW)
        mac_unpack<raw_t, LA>(bias[n0 / LA + w], &bias_buf[w * LA]);
      }
    }
    const unsigned int nw = ew_cdivu(nv, LC);
    const unsigned long base = (unsigned long)M * (n0 / LC);
    unsigned int w = 0;
    // the emulator's faults (constant false outside it)
#define EW_SKIP(it) (EMU_FAULT(SKIP_WORD) && n0 + nv == N && (it) + 1 == (unsigned long)M * nw)
#define EW_NL(w) (nv - (w) * LC < (unsigned int)LC ? nv - (w) * LC : (unsigned int)LC)
    if (epilogue == GEMM_EPI_NONE) {
    copy_block:
      for (unsigned long it = 0; it < (unsigned long)M * nw; ++it) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT min=1 max=65536 avg=4096
        if (EMU_FAULT(OPERANDS_FP16) || EMU_FAULT(OPERANDS_BF16) || EMU_FAULT(OPERANDS_TF32) ||
            EMU_FAULT(WRONG_INDEX) || EMU_FAULT(SKIP_WORD)) {
          if (!EW_SKIP(it)) out[base + it] = ew_word(in[base + it], bias_buf, GEMM_EPI_NONE, EW_NL(w));
          if (++w == nw) w = 0;
        } else {
          out[base + it] = in[base + it];
        }
      }
    } else {
    epi_block:
      for (unsigned long it = 0; it < (unsigned long)M * nw; ++it) {
HLSC_PRAGMA(HLS PIPELINE II=LC/GEMM_EPI_LANES)
#pragma HLS LOOP_TRIPCOUNT min=1 max=65536 avg=4096
        if (!EW_SKIP(it)) out[base + it] = ew_word(in[base + it], &bias_buf[w * LC], epilogue, EW_NL(w));
        if (++w == nw) w = 0;
      }
    }
#undef EW_SKIP
#undef EW_NL
  }
}
