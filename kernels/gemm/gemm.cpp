// gemm -- tiled GEMM with an optional fused bias / bias+GELU epilogue.
//
//   C[M x N] = epilogue(A[M x K] * B[K x N], bias[N])
//
// Kernel name (v++ -k, XRT): gemm.  Arguments (XRT order):
//   A        const elem_t*  m_axi gmem0  row-major M x K
//   B        const elem_t*  m_axi gmem1  row-major K x N
//   C        out_t*         m_axi gmem2  row-major M x N
//   bias     const elem_t*  m_axi gmem3  N elements (not read when epilogue == GEMM_EPI_NONE)
//   M, K, N  uint32         any sizes >= 1 (0 in any of them: nothing is written)
//   epilogue uint32         0 none, 1 + bias, 2 + bias then GELU; > 2: nothing is done
// elem_t / out_t per GEMM_DTYPE_ID: see gemm_types.h and README.md.
//
// Structure (the timing model depends on it; see README.md).  LA, LB, LC are
// the lanes of gemm_types.h: one 512-bit word of elements per cycle (fp32 16,
// fp16/fx16 32, int8 64; C/bias 16), capped at the tile edge.
//   for each TM x TN output tile (row-major tile order):
//     zero the accumulators                                   TM*TN/PE cycles
//     for each K chunk of TK:
//       load A tile (TM x TK): per row one burst of ceil(kv/LA) word cycles,
//                              then zero padding to TK (LA per cycle)
//       load B tile (TK x TN): per row one burst of ceil(nv/LB) word cycles,
//                              then zero padding to TN (LB per cycle)
//       compute: II=1 loop of TK*TM*TN/PE iterations, PE MACs each
//     if epilogue: load bias[n0 .. n0+nv) (one burst, LC per cycle), zero-padded
//     finish: c_buf = epilogue(acc, bias) over the whole tile, LC per cycle
//     store the valid part of c_buf, one burst of ceil(nv/LC) cycles per row
//   Loads, compute and stores are sequential (no overlap).
//
// Summation order (the host check replays it bit for bit: README.md "Summation order"):
// acc[i][j] starts at 0 and takes a[i][k] * b[k][j] for k = 0, 1, ..., K-1 in that order, one
// fp32 multiply then one fp32 add per k (fp32/fp16); the K chunks keep that order.
//
// Emulator faults (emu_faults.h; nothing under Vitis): operands:* round A and B as loaded,
// accumulate:fp16 rounds acc after every add, stale_rep accumulates the first K chunk twice,
// skip_word leaves C[M-1][N-1] unwritten, wrong_index writes C[i][j] with the value of
// C[i][j^1] (where that column exists).
#include "epilogue.h"
#include "emu_faults.h"

#if GEMM_DTYPE_ID == 0
#define GEMM_EMU_FAULTS (EMU_FAULTS_PRECISION | EMU_FAULTS_MEMORY)
#elif GEMM_DTYPE_ID == 1   // fp16 and tf32 operands would change nothing in an fp16 kernel
#define GEMM_EMU_FAULTS (EMU_FAULT_BIT(OPERANDS_BF16) | EMU_FAULT_BIT(ACCUMULATE_FP16) | EMU_FAULTS_MEMORY)
#else
#define GEMM_EMU_FAULTS EMU_FAULTS_MEMORY
#endif
EMU_FAULT_KERNEL(gemm, GEMM_EMU_FAULTS)

#define TM GEMM_TILE_M
#define TN GEMM_TILE_N
#define TK GEMM_TILE_K
#define PE GEMM_PE
#define LA GEMM_LANES_A
#define LB GEMM_LANES_B
#define LC GEMM_LANES_C

extern "C" void gemm(const elem_t* A, const elem_t* B, out_t* C, const elem_t* bias,
                     unsigned int M, unsigned int K, unsigned int N,
                     unsigned int epilogue) {
HLSC_PRAGMA(HLS INTERFACE m_axi port=A offset=slave bundle=gmem0 max_widen_bitwidth=GEMM_PORT_BITS max_read_burst_length=GEMM_BURST num_read_outstanding=GEMM_OUTSTANDING)
HLSC_PRAGMA(HLS INTERFACE m_axi port=B offset=slave bundle=gmem1 max_widen_bitwidth=GEMM_PORT_BITS max_read_burst_length=GEMM_BURST num_read_outstanding=GEMM_OUTSTANDING)
HLSC_PRAGMA(HLS INTERFACE m_axi port=C offset=slave bundle=gmem2 max_widen_bitwidth=GEMM_PORT_BITS max_write_burst_length=GEMM_BURST num_write_outstanding=GEMM_OUTSTANDING)
HLSC_PRAGMA(HLS INTERFACE m_axi port=bias offset=slave bundle=gmem3 max_widen_bitwidth=GEMM_PORT_BITS max_read_burst_length=GEMM_BURST num_read_outstanding=GEMM_OUTSTANDING)
#pragma HLS INTERFACE s_axilite port=A
#pragma HLS INTERFACE s_axilite port=B
#pragma HLS INTERFACE s_axilite port=C
#pragma HLS INTERFACE s_axilite port=bias
#pragma HLS INTERFACE s_axilite port=M
#pragma HLS INTERFACE s_axilite port=K
#pragma HLS INTERFACE s_axilite port=N
#pragma HLS INTERFACE s_axilite port=epilogue
#pragma HLS INTERFACE s_axilite port=return
  EMU_FAULT_ENTRY(gemm)

  if ((epilogue != GEMM_EPI_NONE && epilogue != GEMM_EPI_BIAS && epilogue != GEMM_EPI_BIAS_GELU) || M == 0 || K == 0 || N == 0) return;

  // A tile: LA consecutive k per cycle when loaded, one element per cycle in
  // compute (broadcast to all PE lanes).
  buf_t a_buf[TM][TK];
  HLSC_PRAGMA(HLS ARRAY_PARTITION variable=a_buf cyclic factor=GEMM_LANES_A dim=2)
  // B tile: PE consecutive columns per cycle in compute, LB when loaded.
  buf_t b_buf[TK][TN];
  HLSC_PRAGMA(HLS ARRAY_PARTITION variable=b_buf cyclic factor=GEMM_B_BANKS dim=2)
  // Accumulators: PE consecutive columns per cycle in compute, LC in finish.
  acc_t acc[TM][TN];
  HLSC_PRAGMA(HLS ARRAY_PARTITION variable=acc cyclic factor=GEMM_ACC_BANKS dim=2)
  // Finished C tile (epilogue applied): LC columns per cycle.
  out_t c_buf[TM][TN];
  HLSC_PRAGMA(HLS ARRAY_PARTITION variable=c_buf cyclic factor=GEMM_LANES_C dim=2)
  elem_t bias_buf[TN];
  HLSC_PRAGMA(HLS ARRAY_PARTITION variable=bias_buf cyclic factor=GEMM_LANES_C dim=1)

tile_m:
  for (unsigned int m0 = 0; m0 < M; m0 += TM) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=64 avg=8
    const unsigned int mv = (M - m0 < (unsigned int)TM) ? M - m0 : (unsigned int)TM;
  tile_n:
    for (unsigned int n0 = 0; n0 < N; n0 += TN) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=64 avg=8
      const unsigned int nv = (N - n0 < (unsigned int)TN) ? N - n0 : (unsigned int)TN;

    zero_acc:
      for (int i = 0; i < TM; ++i) {
        for (int jb = 0; jb < TN / PE; ++jb) {
#pragma HLS PIPELINE II=1
          for (int p = 0; p < PE; ++p) {
#pragma HLS UNROLL
            acc[i][jb * PE + p] = 0;
          }
        }
      }

    k_chunks:
      for (unsigned int k0 = 0; k0 < K; k0 += TK) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=64 avg=8
        const unsigned int kv = (K - k0 < (unsigned int)TK) ? K - k0 : (unsigned int)TK;

        // Each row: one burst of ceil(len/LA) iterations moving LA consecutive
        // elements (one 512-bit word of elem_t) per cycle; lanes past the end
        // of the row are not read and get 0.  Then the rest of the row is
        // zeroed LA per cycle.  Rows past the matrix edge are all padding.
      load_a:
        for (int i = 0; i < TM; ++i) {
          const unsigned int len = ((unsigned int)i < mv) ? kv : 0;
          const unsigned int segs = (len + LA - 1) / LA;
          const elem_t* src = A + (unsigned long)(m0 + i) * K + k0;
        load_a_row:
          for (unsigned int s = 0; s < segs; ++s) {
#pragma HLS PIPELINE II=1
HLSC_PRAGMA(HLS LOOP_TRIPCOUNT min=1 max=GEMM_TILE_K)
            for (int l = 0; l < LA; ++l) {
#pragma HLS UNROLL
              const unsigned int k = s * LA + l;
              a_buf[i][k] = (k < len) ? EMU_FAULT_OPERAND(gemm_to_buf(src[k])) : buf_t(0);
            }
          }
        pad_a_row:
          for (unsigned int s = segs; s < (unsigned int)(TK / LA); ++s) {
#pragma HLS PIPELINE II=1
HLSC_PRAGMA(HLS LOOP_TRIPCOUNT min=0 max=GEMM_TILE_K avg=0)
            for (int l = 0; l < LA; ++l) {
#pragma HLS UNROLL
              a_buf[i][s * LA + l] = 0;
            }
          }
        }

      load_b:
        for (int k = 0; k < TK; ++k) {
          const unsigned int len = ((unsigned int)k < kv) ? nv : 0;
          const unsigned int segs = (len + LB - 1) / LB;
          const elem_t* src = B + (unsigned long)(k0 + k) * N + n0;
        load_b_row:
          for (unsigned int s = 0; s < segs; ++s) {
#pragma HLS PIPELINE II=1
HLSC_PRAGMA(HLS LOOP_TRIPCOUNT min=1 max=GEMM_TILE_N)
            for (int l = 0; l < LB; ++l) {
#pragma HLS UNROLL
              const unsigned int j = s * LB + l;
              b_buf[k][j] = (j < len) ? EMU_FAULT_OPERAND(gemm_to_buf(src[j])) : buf_t(0);
            }
          }
        pad_b_row:
          for (unsigned int s = segs; s < (unsigned int)(TN / LB); ++s) {
#pragma HLS PIPELINE II=1
HLSC_PRAGMA(HLS LOOP_TRIPCOUNT min=0 max=GEMM_TILE_N avg=0)
            for (int l = 0; l < LB; ++l) {
#pragma HLS UNROLL
              b_buf[k][s * LB + l] = 0;
            }
          }
        }

        // TK * TM * (TN/PE) iterations at II=1 (perfect nest, flattened by HLS).
        // acc[i][j] is revisited every TM*TN/PE >= GEMM_MIN_REVISIT iterations
        // (static_assert in gemm_types.h), which covers the adder latency.
      compute_k:
        for (int kk = 0; kk < TK; ++kk) {
        compute_i:
          for (int i = 0; i < TM; ++i) {
          compute_j:
            for (int jb = 0; jb < TN / PE; ++jb) {
#pragma HLS PIPELINE II=1
#pragma HLS DEPENDENCE variable=acc inter false
              const buf_t a = a_buf[i][kk];
            pe:
              for (int p = 0; p < PE; ++p) {
#pragma HLS UNROLL
                gemm_mac(acc[i][jb * PE + p], a, b_buf[kk][jb * PE + p]);
                EMU_FAULT_ACCUMULATOR(acc[i][jb * PE + p]);
                if (EMU_FAULT(STALE_REP) && k0 == 0) gemm_mac(acc[i][jb * PE + p], a, b_buf[kk][jb * PE + p]);
              }
            }
          }
        }
      }

      // bias[n0 .. n0+nv): one burst, LC per cycle, zero-padded to TN.
      if (epilogue != GEMM_EPI_NONE) {
        const unsigned int segs = (nv + LC - 1) / LC;
      load_bias:
        for (unsigned int s = 0; s < segs; ++s) {
#pragma HLS PIPELINE II=1
HLSC_PRAGMA(HLS LOOP_TRIPCOUNT min=1 max=GEMM_TILE_N)
          for (int l = 0; l < LC; ++l) {
#pragma HLS UNROLL
            const unsigned int j = s * LC + l;
            bias_buf[j] = (j < nv) ? bias[n0 + j] : elem_t(0.0f);
          }
        }
      pad_bias:
        for (unsigned int s = segs; s < (unsigned int)(TN / LC); ++s) {
#pragma HLS PIPELINE II=1
HLSC_PRAGMA(HLS LOOP_TRIPCOUNT min=0 max=GEMM_TILE_N avg=0)
          for (int l = 0; l < LC; ++l) {
#pragma HLS UNROLL
            bias_buf[s * LC + l] = elem_t(0.0f);
          }
        }
      }

      // Epilogue over the whole tile (constant bounds: one pipeline fill per
      // tile), LC columns per cycle: TM*TN/LC iterations.
    finish:
      for (int i = 0; i < TM; ++i) {
        for (int jb = 0; jb < TN / LC; ++jb) {
#pragma HLS PIPELINE II=1
          for (int l = 0; l < LC; ++l) {
#pragma HLS UNROLL
            const int j = jb * LC + l;
            const elem_t b = (epilogue != GEMM_EPI_NONE) ? bias_buf[j] : elem_t(0.0f);
            c_buf[i][j] = gemm_epilogue(gemm_acc_to_out(acc[i][j]), b, epilogue);
          }
        }
      }

      // The valid part of the tile: per row one burst of ceil(nv/LC) cycles,
      // LC elements (one 512-bit word of out_t) each; lanes past the end of
      // the row are not written.
    store_c:
      for (unsigned int i = 0; i < mv; ++i) {
HLSC_PRAGMA(HLS LOOP_TRIPCOUNT min=1 max=GEMM_TILE_M avg=GEMM_TILE_M)
        out_t* dst = C + (unsigned long)(m0 + i) * N + n0;
        const unsigned int segs = (nv + LC - 1) / LC;
      store_c_row:
        for (unsigned int s = 0; s < segs; ++s) {
#pragma HLS PIPELINE II=1
HLSC_PRAGMA(HLS LOOP_TRIPCOUNT min=1 max=GEMM_TILE_N)
          for (int l = 0; l < LC; ++l) {
#pragma HLS UNROLL
            const unsigned int j = s * LC + l;
            if (j < nv && !(EMU_FAULT(SKIP_WORD) && m0 + i == M - 1 && n0 + j == N - 1))
              dst[j] = c_buf[i][(EMU_FAULT(WRONG_INDEX) && (j ^ 1u) < nv) ? (j ^ 1u) : j];
          }
        }
      }
    }
  }
}
