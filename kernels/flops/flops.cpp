// flops -- the compute-ceiling kernel (an empirical roofline in the spirit of the
// Empirical Roofline Toolkit): each CU streams 512-bit words from its own PCs and
// applies F multiply-adds to every element, with FLOPS_LANES independent MAC lanes.
//
// Kernel name (v++ -k, XRT): flops.  Arguments (XRT order), ports ap_uint<512>:
//   in0..in3    m_axi   n_words words each: elements of the dtype (16 fp32, 32 fp16 or
//                       fx16, 64 int8 per word)
//   out0..out3  m_axi   n_words * LA / 16 words each: one 32-bit result per input element,
//                       in the input's order
//   n_words     uint32  words per input port (>= 1)
//   f           uint32  multiply-adds per element (>= 1); 0 or n_words 0: nothing is done
//
// Per element x (mac_types.h, the same MAC as the gemm kernel):
//   acc = 0;  for j = 0 .. f-1:  acc = acc + x * w[j % 8]
//   out = acc_to_out_raw(acc)
// with w[k] = (k + 1) / 8 for fp32 and fp16, (k + 1) raw LSBs for fx16 and int8 (FLOPS_W_RAW):
// the host replays exactly this order (numpy float32 for fp32/fp16, exact integers otherwise).
//
// Structure (the timing model depends on it; README.md):
//   blocks b of FLOPS_BLOCK_WORDS words per input port (the last may be shorter):
//     load(b+1)  the block's words from the 4 ports, 4 words per cycle, converted to buf_t
//     compute(b) f passes over the block as one II=1 loop of f x (elems / LANES) iterations
//                (a pass at least FLOPS_ACC_LATENCY, the adder's latency), LANES MACs each
//     store(b-1) the outputs, 4 words per cycle
//   the three touch different buffers (manual ping-pong) and run concurrently.
//
// Emulator faults (emu_faults.h; nothing under Vitis), fp32/fp16 designs: operands:* round
// each input element as loaded, accumulate:fp16 rounds the accumulator after every add.
#include "flops_types.h"
#include "emu_faults.h"

#if MAC_DTYPE_ID == 0
#define FLOPS_EMU_FAULTS EMU_FAULTS_PRECISION
#elif MAC_DTYPE_ID == 1   // fp16 and tf32 operands would change nothing in an fp16 kernel
#define FLOPS_EMU_FAULTS (EMU_FAULT_BIT(OPERANDS_BF16) | EMU_FAULT_BIT(ACCUMULATE_FP16))
#else
#define FLOPS_EMU_FAULTS 0u
#endif
EMU_FAULT_KERNEL(flops, FLOPS_EMU_FAULTS)

#define FP FLOPS_PORTS
#define W FLOPS_LANES
#define BW FLOPS_BLOCK_WORDS
#define LA MAC_IN_LANES
#define BE (FP * BW * LA)                // elements per block
#define OW (LA / MAC_OUT_LANES)          // output words per input word

static inline unsigned int fl_cdiv(unsigned int a, unsigned int b) { return (a + b - 1) / b; }

// The eight weights, raw element bits (exact small values: k/8 or k LSBs).
static inline raw_t flops_w_raw(unsigned int k) {
#if MAC_DTYPE_ID == 0
  return hlsc::f32_bits((float)((k & 7) + 1) * 0.125f);
#elif MAC_DTYPE_ID == 1
  // binary16 bits of (k+1)/8: 0.125 0.25 0.375 0.5 0.625 0.75 0.875 1.0
  const raw_t t[8] = {0x3000, 0x3400, 0x3600, 0x3800, 0x3900, 0x3A00, 0x3B00, 0x3C00};
  return t[k & 7];
#else
  return (raw_t)((k & 7) + 1);
#endif
}

static void flops_load(const word_t* in0, const word_t* in1, const word_t* in2, const word_t* in3,
                       buf_t x[BE], unsigned long w0, unsigned int bw) {
  EMU_FAULT_ENTRY(flops)
load:
  for (unsigned int i = 0; i < bw; ++i) {
#pragma HLS PIPELINE II=1
HLSC_PRAGMA(HLS LOOP_TRIPCOUNT min=1 max=FLOPS_BLOCK_WORDS)
    const word_t w[4] = {in0[w0 + i], in1[w0 + i], in2[w0 + i], in3[w0 + i]};
    for (int p = 0; p < FP; ++p) {
#pragma HLS UNROLL
      raw_t r[LA];
      mac_unpack<raw_t, LA>(w[p], r);
      for (int l = 0; l < LA; ++l) {
#pragma HLS UNROLL
        x[(p * BW + i) * LA + l] = EMU_FAULT_OPERAND(mac_to_buf(r[l]));
      }
    }
  }
}

static void flops_compute(const buf_t x[BE], acc_t acc[BE], unsigned int f) {
  EMU_FAULT_ENTRY(flops)
  // f passes of ip iterations as one pipelined loop (one fill per block, not per pass)
  const unsigned int iters = BE / W;       // the whole block: lanes of a short last block are never stored
  const unsigned int ip = iters > FLOPS_ACC_LATENCY ? iters : FLOPS_ACC_LATENCY;
  unsigned int j = 0, v = 0;
passes:
  for (unsigned long it = 0; it < (unsigned long)f * ip; ++it) {
#pragma HLS PIPELINE II=1
#pragma HLS DEPENDENCE variable=acc inter false
HLSC_PRAGMA(HLS LOOP_TRIPCOUNT min=FLOPS_ACC_LATENCY max=4096*FLOPS_ACC_LATENCY)
    if (v < iters) {
      const buf_t wj = mac_to_buf(flops_w_raw(j & 7));
      for (int l = 0; l < W; ++l) {
#pragma HLS UNROLL
        const unsigned int e = v * W + l;
        acc[e] = mac(j == 0 ? acc_t(0) : acc[e], x[e], wj);
        EMU_FAULT_ACCUMULATOR(acc[e]);
      }
    }
    if (++v == ip) { v = 0; ++j; }
  }
}

static void flops_store(word_t* out0, word_t* out1, word_t* out2, word_t* out3, const acc_t acc[BE],
                        unsigned long w0, unsigned int bw) {
store:
  for (unsigned int i = 0; i < bw * OW; ++i) {
#pragma HLS PIPELINE II=1
HLSC_PRAGMA(HLS LOOP_TRIPCOUNT min=1 max=FLOPS_BLOCK_WORDS*OW)
    word_t w[4];
    for (int p = 0; p < FP; ++p) {
#pragma HLS UNROLL
      uint32_t v[MAC_OUT_LANES];
      for (int l = 0; l < MAC_OUT_LANES; ++l) {
#pragma HLS UNROLL
        v[l] = acc_to_out_raw(acc[p * BW * LA + i * MAC_OUT_LANES + l]);
      }
      w[p] = mac_pack<uint32_t, MAC_OUT_LANES>(v);
    }
    out0[w0 * OW + i] = w[0];
    out1[w0 * OW + i] = w[1];
    out2[w0 * OW + i] = w[2];
    out3[w0 * OW + i] = w[3];
  }
}

extern "C" void flops(const word_t* in0, const word_t* in1, const word_t* in2, const word_t* in3,
                      word_t* out0, word_t* out1, word_t* out2, word_t* out3,
                      unsigned int n_words, unsigned int f) {
HLSC_PRAGMA(HLS INTERFACE m_axi port=in0 offset=slave bundle=gmemI0 max_read_burst_length=FLOPS_BURST num_read_outstanding=FLOPS_OUTSTANDING)
HLSC_PRAGMA(HLS INTERFACE m_axi port=in1 offset=slave bundle=gmemI1 max_read_burst_length=FLOPS_BURST num_read_outstanding=FLOPS_OUTSTANDING)
HLSC_PRAGMA(HLS INTERFACE m_axi port=in2 offset=slave bundle=gmemI2 max_read_burst_length=FLOPS_BURST num_read_outstanding=FLOPS_OUTSTANDING)
HLSC_PRAGMA(HLS INTERFACE m_axi port=in3 offset=slave bundle=gmemI3 max_read_burst_length=FLOPS_BURST num_read_outstanding=FLOPS_OUTSTANDING)
HLSC_PRAGMA(HLS INTERFACE m_axi port=out0 offset=slave bundle=gmemO0 max_write_burst_length=FLOPS_BURST num_write_outstanding=FLOPS_OUTSTANDING)
HLSC_PRAGMA(HLS INTERFACE m_axi port=out1 offset=slave bundle=gmemO1 max_write_burst_length=FLOPS_BURST num_write_outstanding=FLOPS_OUTSTANDING)
HLSC_PRAGMA(HLS INTERFACE m_axi port=out2 offset=slave bundle=gmemO2 max_write_burst_length=FLOPS_BURST num_write_outstanding=FLOPS_OUTSTANDING)
HLSC_PRAGMA(HLS INTERFACE m_axi port=out3 offset=slave bundle=gmemO3 max_write_burst_length=FLOPS_BURST num_write_outstanding=FLOPS_OUTSTANDING)
#pragma HLS INTERFACE s_axilite port=n_words
#pragma HLS INTERFACE s_axilite port=f
#pragma HLS INTERFACE s_axilite port=return
#pragma HLS ALLOCATION function instances=flops_compute limit=1
#pragma HLS ALLOCATION function instances=flops_load limit=1
#pragma HLS ALLOCATION function instances=flops_store limit=1

  if (n_words == 0 || f == 0) return;
  HLSC_KERNEL_STATIC buf_t x0[BE], x1[BE];
  HLSC_KERNEL_STATIC acc_t a0[BE], a1[BE];
  HLSC_PRAGMA(HLS ARRAY_PARTITION variable=x0 cyclic factor=FLOPS_LANES dim=1)
  HLSC_PRAGMA(HLS ARRAY_PARTITION variable=x1 cyclic factor=FLOPS_LANES dim=1)
  HLSC_PRAGMA(HLS ARRAY_PARTITION variable=a0 cyclic factor=FLOPS_LANES dim=1)
  HLSC_PRAGMA(HLS ARRAY_PARTITION variable=a1 cyclic factor=FLOPS_LANES dim=1)

  const unsigned int nb = fl_cdiv(n_words, BW);
  flops_load(in0, in1, in2, in3, x0, 0, n_words < BW ? n_words : BW);
blocks:
  for (unsigned int b = 0; b < nb; ++b) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=4096 avg=64
    const unsigned long w0 = (unsigned long)b * BW;
    const unsigned int bw = n_words - w0 < (unsigned long)BW ? (unsigned int)(n_words - w0) : BW;
    const unsigned long w1 = w0 + BW;
    const unsigned int bw1 = b + 1 < nb ? (n_words - w1 < (unsigned long)BW ? (unsigned int)(n_words - w1) : BW) : 0;
    const unsigned long wp = w0 - BW;
    if (b & 1) {
      flops_compute(x1, a1, f);
      if (bw1) flops_load(in0, in1, in2, in3, x0, w1, bw1);
      flops_store(out0, out1, out2, out3, a0, wp, BW);
    } else {
      flops_compute(x0, a0, f);
      if (bw1) flops_load(in0, in1, in2, in3, x1, w1, bw1);
      if (b) flops_store(out0, out1, out2, out3, a1, wp, BW);
    }
  }
  const unsigned long wl = (unsigned long)(nb - 1) * BW;
  flops_store(out0, out1, out2, out3, ((nb - 1) & 1) ? a1 : a0, wl, n_words - wl);
}

#if !HLSC_VITIS
// The resource estimate of flops_types.h for the host: the DSPs of one CU.
extern "C" void flops_resources(long out[1]) { out[0] = FLOPS_DSP_EST; }
#endif
