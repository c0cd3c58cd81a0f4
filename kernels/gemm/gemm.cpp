// gemm -- one CU of the tiled, double-buffered GEMM with an optional fused
// bias / bias+GELU epilogue:
//
//   C[M x N] = epilogue(A[M x K] * B[K x N], bias[N])
//
// Kernel name (v++ -k, XRT): gemm.  Arguments (XRT order), all ports ap_uint<512>:
//   A         m_axi gmemA   M x K in the packed layout below (plain row-major when K <= TK)
//   B0..B3    m_axi gmemB0.. B in the packed layout below (GEMM_B_PORTS of them)
//   C         m_axi gmemC   M x N 32-bit outputs in the packed layout below (row-major when N <= TN)
//   bias      m_axi gmemBias N elements, zero-padded to whole words (not read when epilogue == 0)
//   M, K, N   uint32        any sizes >= 1 (0 in any of them: nothing is written)
//   epilogue  uint32        GEMM_EPI_NONE, GEMM_EPI_BIAS, GEMM_EPI_BIAS_GELU (codes of the design file);
//                           any other value: nothing is done
// LA = elements per word (fp32 16, fp16/fx16 32, int8 64).  A design has several
// CUs (one per SLR); the host splits N between them and gives each its own
// buffers, so one call of this function is one CU's part.
//
// Packed A: rows padded to lda = ceil(K/LA) words (zeros); each tile of TM rows
//   (the last may have fewer, mv) stored as its K chunks one after another, each
//   chunk mv rows x ceil(kv/LA) words row-major.  Tile t starts at word t*TM*lda.
// Packed C: per N tile (n0, nv) a block of M rows x ceil(nv/16) words, row-major; block
//   n0 starts at word M * n0 / 16.
// Packed B (what port p holds, in order; the host packs it, harness.bench.gemm_layout):
//   for each N tile (n0 = 0, TN, ...; nv = min(TN, N - n0) columns, nw = ceil(nv/LA)
//   words per row rounded up to a multiple of GEMM_B_PORTS):
//     for each K chunk (k0 = 0, TK, ...; kv = min(TK, K - k0) rows):
//       for each row k of the chunk: words p, p + NB, p + 2 NB, ... < nw of that row
//   (a word holds LA consecutive columns; columns >= N are zero).  Every port holds
//   the same number of words.  The kernel reads each port as one sequential stream,
//   restarted for each M tile.
//
// Structure (the timing model depends on it; README.md "Cycle structure"):
//   steps s = (M tile, N tile, K chunk), in that nesting order.  Step s:
//     compute(s)  on chunk buffers [s % 2] and accumulators [tile % 2]
//     load(s+1)   A chunk and B chunk into [(s+1) % 2], each one sequential stream
//     store(t-1)  on the first step of tile t: bias, epilogue and C rows of the
//                 previous tile from accumulators [(t-1) % 2]
//   the three touch different buffers and run concurrently (manual ping-pong);
//   load(0) comes before the first step and store(last) after the last.
//   compute: kv x max(G, GEMM_ACC_LATENCY) iterations at II=1, G = ceil(mv/ROWS) x
//   ceil(nv/COLS) groups; each iteration does ROWS x COLS MACs.
//
// Summation order (the host's reference replays it): every output is
//   c = (...((0 + a[0] b[0]) + a[1] b[1]) + ...) + a[K-1] b[K-1]
// in the accumulator type, k ascending, each step one mac() of mac_types.h
// (harness.bench.reference.replay_f32 replays it bit for bit for fp32/fp16).
//
// Emulator faults (emu_faults.h; nothing under Vitis): operands:* round A and B as they enter
// the MAC array, accumulate:fp16 rounds every accumulator after every add, stale_rep adds every
// product of the first K chunk twice, skip_word leaves the word of C holding this CU's
// C[M-1][N-1] unwritten, wrong_index writes C[i][j] with the value of C[i][j^1] (where that
// column exists in the same word).
#include "epilogue.h"
#include "emu_faults.h"

#if MAC_DTYPE_ID == 0
#define GEMM_EMU_FAULTS (EMU_FAULTS_PRECISION | EMU_FAULTS_MEMORY)
#elif MAC_DTYPE_ID == 1   // fp16 and tf32 operands would change nothing in an fp16 kernel
#define GEMM_EMU_FAULTS (EMU_FAULT_BIT(OPERANDS_BF16) | EMU_FAULT_BIT(ACCUMULATE_FP16) | EMU_FAULTS_MEMORY)
#else
#define GEMM_EMU_FAULTS EMU_FAULTS_MEMORY
#endif
EMU_FAULT_KERNEL(gemm, GEMM_EMU_FAULTS)

#if NB == 1
#define GEMM_B_CALL B0
#define GEMM_B_PARAMS const word_t *B0
#elif NB == 2
#define GEMM_B_CALL B0, B1
#define GEMM_B_PARAMS const word_t *B0, const word_t *B1
#else
#define GEMM_B_CALL B0, B1, B2, B3
#define GEMM_B_PARAMS const word_t *B0, const word_t *B1, const word_t *B2, const word_t *B3
#endif

static inline unsigned int gemm_cdivu(unsigned int a, unsigned int b) { return (a + b - 1) / b; }

struct GemmStep {
  unsigned int m0, mv, n0, nv, k0, kv, tile;
  unsigned long aoff;   // word offset of this step's A chunk in the packed A
  unsigned long boff;   // word offset of this step's B chunk on every B port
};

// words of one B chunk row per port
static inline unsigned int gemm_b_row_words(unsigned int nv) {
  return gemm_cdivu(gemm_cdivu(nv, LA), NB);
}

// ------------------------------------------------------------------ load
// One step's chunks, each one sequential stream: A (mv rows x ceil(kv/LA) words,
// row-major, from the packed A) and B (kv rows x q words on each B port,
// GEMM_B_PORTS words per cycle).  The two loops use different ports and run
// concurrently (DATAFLOW).
static void gemm_load_a(const word_t* A, word_t a_buf[TM][TKW], unsigned long aoff, unsigned int mv,
                        unsigned int kv) {
  const unsigned int aw = gemm_cdivu(kv, LA);
  unsigned int i = 0, w = 0;
load_a:
  for (unsigned int it = 0; it < mv * aw; ++it) {
#pragma HLS PIPELINE II=1
HLSC_PRAGMA(HLS LOOP_TRIPCOUNT min=1 max=TM*TKW)
    a_buf[i][w] = A[aoff + it];
    if (++w == aw) { w = 0; ++i; }
  }
}

static void gemm_load_b(GEMM_B_PARAMS, word_t b_buf[TK][TNW], unsigned long boff, unsigned int kv,
                        unsigned int nv) {
  const unsigned int q_n = gemm_b_row_words(nv);
  unsigned int k = 0, q = 0;
load_b:
  for (unsigned int it = 0; it < kv * q_n; ++it) {
#pragma HLS PIPELINE II=1
HLSC_PRAGMA(HLS LOOP_TRIPCOUNT min=1 max=TK*TNW/NB)
    const unsigned long o = boff + it;
    b_buf[k][q * NB + 0] = B0[o];
#if NB >= 2
    b_buf[k][q * NB + 1] = B1[o];
#endif
#if NB == 4
    b_buf[k][q * NB + 2] = B2[o];
    b_buf[k][q * NB + 3] = B3[o];
#endif
    if (++q == q_n) { q = 0; ++k; }
  }
}

static void gemm_load(const word_t* A, GEMM_B_PARAMS, word_t a_buf[TM][TKW], word_t b_buf[TK][TNW],
                      const GemmStep& st) {
#pragma HLS DATAFLOW
  gemm_load_a(A, a_buf, st.aoff, st.mv, st.kv);
  gemm_load_b(GEMM_B_CALL, b_buf, st.boff, st.kv, st.nv);
}

// ------------------------------------------------------------------ compute
// The MACs of one group (ROWS rows x COLS columns) at depth k of the chunk.
// `first_chunk`: k belongs to the first K chunk (only the stale_rep fault looks at it).
static inline void gemm_group(word_t a_buf[TM][TKW], word_t b_buf[TK][TNW], acc_t acc[TM][TN], unsigned int k,
                              unsigned int rg, unsigned int cg, bool init, bool first_chunk) {
#pragma HLS INLINE
  EMU_FAULT_ENTRY(gemm)
  (void)first_chunk;
  buf_t b[PN];
  for (int w = 0; w < PN / LA; ++w) {
#pragma HLS UNROLL
    raw_t lanes[LA];
    mac_unpack<raw_t, LA>(b_buf[k][cg * (PN / LA) + w], lanes);
    for (int l = 0; l < LA; ++l) {
#pragma HLS UNROLL
      b[w * LA + l] = EMU_FAULT_OPERAND(mac_to_buf(lanes[l]));
    }
  }
  for (int r = 0; r < RM; ++r) {
#pragma HLS UNROLL
    const unsigned int i = rg * RM + r;
    const buf_t a = EMU_FAULT_OPERAND(mac_to_buf(word_lane<raw_t>(a_buf[i][k / LA], k % LA)));
    acc_t* row = &acc[i][cg * PN];
    if (init) {     // c starts from 0 (the documented order)
      for (int c = 0; c < PN; ++c) {
#pragma HLS UNROLL
        row[c] = mac(acc_t(0), a, b[c]);
        EMU_FAULT_ACCUMULATOR(row[c]);
        if (EMU_FAULT(STALE_REP) && first_chunk) row[c] = mac(row[c], a, b[c]);
      }
    } else {
      for (int c = 0; c < PN; ++c) {
#pragma HLS UNROLL
        row[c] = mac(row[c], a, b[c]);
        EMU_FAULT_ACCUMULATOR(row[c]);
        if (EMU_FAULT(STALE_REP) && first_chunk) row[c] = mac(row[c], a, b[c]);
      }
    }
  }
}

static void gemm_compute(word_t a_buf[TM][TKW], word_t b_buf[TK][TNW], acc_t acc[TM][TN],
                         const GemmStep& st) {
  const unsigned int rg_n = gemm_cdivu(st.mv, RM), cg_n = gemm_cdivu(st.nv, PN);
  const bool first_chunk = st.k0 == 0;
#if HLSC_VITIS || defined(GEMM_NATIVE_HLS_ORDER)
  const unsigned int G = rg_n * cg_n;
  // Each accumulator is revisited every Gp iterations: at least the adder's latency.
  const unsigned int Gp = G > GEMM_ACC_LATENCY ? G : GEMM_ACC_LATENCY;
  unsigned int k = 0, g = 0, rg = 0, cg = 0;
compute:
  for (unsigned int it = 0; it < st.kv * Gp; ++it) {
#pragma HLS PIPELINE II=1
#pragma HLS DEPENDENCE variable=acc inter false
HLSC_PRAGMA(HLS LOOP_TRIPCOUNT min=GEMM_ACC_LATENCY max=TK*(TM/RM)*(TN/PN))
    if (g < G) gemm_group(a_buf, b_buf, acc, k, rg, cg, first_chunk && k == 0, first_chunk);
    if (g + 1 == Gp) {
      g = 0; rg = 0; cg = 0; ++k;
    } else {
      ++g;
      if (++cg == cg_n) { cg = 0; ++rg; }
    }
  }
#else
  // Natively (emulation) the same MACs group by group, k innermost, so a group's accumulators stay
  // in the L1 cache: every output still sums k = 0, 1, ... in order, so the bits are the same
  // (tests build -DGEMM_NATIVE_HLS_ORDER and compare).
  for (unsigned int rg = 0; rg < rg_n; ++rg)
    for (unsigned int cg = 0; cg < cg_n; ++cg)
      for (unsigned int k = 0; k < st.kv; ++k) gemm_group(a_buf, b_buf, acc, k, rg, cg, first_chunk && k == 0, first_chunk);
#endif
}

// ------------------------------------------------------------------ store
// `nl`: valid lanes of this word (only the wrong_index fault looks at it).
static inline word_t gemm_out_word(const acc_t* accrow, const raw_t* bias_row, unsigned int epi, unsigned int nl) {
#pragma HLS INLINE
  EMU_FAULT_ENTRY(gemm)
  (void)nl;
  uint32_t v[LC];
  for (int l = 0; l < LC; ++l) {
#pragma HLS UNROLL
    const int sl = (EMU_FAULT(WRONG_INDEX) && (unsigned int)(l ^ 1) < nl) ? (l ^ 1) : l;
    v[l] = gemm_epilogue(acc_to_out_raw(accrow[sl]), bias_row[sl], epi);
  }
  return mac_pack<uint32_t, LC>(v);
}

// `last_n`: this tile holds column N-1 (only the skip_word fault looks at it).
static void gemm_store(acc_t acc[TM][TN], word_t* C, const word_t* bias, unsigned int M, unsigned int m0,
                       unsigned int mv, unsigned int n0, unsigned int nv, unsigned int epi, bool last_n) {
  EMU_FAULT_ENTRY(gemm)
  (void)last_n;
#define GEMM_SKIP(it) (EMU_FAULT(SKIP_WORD) && last_n && m0 + mv == M && (it) + 1 == mv * nw)
#define GEMM_NL(w) (nv - (w) * LC < (unsigned int)LC ? nv - (w) * LC : (unsigned int)LC)
  raw_t bias_buf[TN];
  HLSC_PRAGMA(HLS ARRAY_PARTITION variable=bias_buf cyclic factor=MAC_IN_LANES dim=1)
  if (epi != GEMM_EPI_NONE) {
  load_bias:
    for (unsigned int w = 0; w < gemm_cdivu(nv, LA); ++w) {
#pragma HLS PIPELINE II=1
HLSC_PRAGMA(HLS LOOP_TRIPCOUNT min=1 max=TNW)
      mac_unpack<raw_t, LA>(bias[n0 / LA + w], &bias_buf[w * LA]);
    }
  }
  // The tile's rows are consecutive in C's block of N tile n0 (packed C): one stream.
  // Lanes past nv (up to the word) are written too: they lie inside the block's row pitch.
  const unsigned int nw = gemm_cdivu(nv, LC);
  word_t* dst = C + (unsigned long)M * (n0 / LC) + (unsigned long)m0 * nw;
  unsigned int i = 0, w = 0;
  if (epi == GEMM_EPI_NONE) {
  store_c:
    for (unsigned int it = 0; it < mv * nw; ++it) {
#pragma HLS PIPELINE II=1
HLSC_PRAGMA(HLS LOOP_TRIPCOUNT min=1 max=TM*TN/LC)
      if (!GEMM_SKIP(it)) dst[it] = gemm_out_word(&acc[i][w * LC], &bias_buf[w * LC], epi, GEMM_NL(w));
      if (++w == nw) { w = 0; ++i; }
    }
  } else {
  store_c_epi:
    for (unsigned int it = 0; it < mv * nw; ++it) {
HLSC_PRAGMA(HLS PIPELINE II=LC/GEMM_EPI_LANES)
HLSC_PRAGMA(HLS LOOP_TRIPCOUNT min=1 max=TM*TN/LC)
      if (!GEMM_SKIP(it)) dst[it] = gemm_out_word(&acc[i][w * LC], &bias_buf[w * LC], epi, GEMM_NL(w));
      if (++w == nw) { w = 0; ++i; }
    }
  }
#undef GEMM_SKIP
#undef GEMM_NL
}

// ------------------------------------------------------------------ top
extern "C" void gemm(const word_t* A, GEMM_B_PARAMS, word_t* C, const word_t* bias,
                     unsigned int M, unsigned int K, unsigned int N, unsigned int epilogue) {
HLSC_PRAGMA(HLS INTERFACE m_axi port=A offset=slave bundle=gmemA max_read_burst_length=GEMM_BURST num_read_outstanding=GEMM_OUTSTANDING)
HLSC_PRAGMA(HLS INTERFACE m_axi port=B0 offset=slave bundle=gmemB0 max_read_burst_length=GEMM_BURST num_read_outstanding=GEMM_OUTSTANDING)
#if NB >= 2
HLSC_PRAGMA(HLS INTERFACE m_axi port=B1 offset=slave bundle=gmemB1 max_read_burst_length=GEMM_BURST num_read_outstanding=GEMM_OUTSTANDING)
#endif
#if NB == 4
HLSC_PRAGMA(HLS INTERFACE m_axi port=B2 offset=slave bundle=gmemB2 max_read_burst_length=GEMM_BURST num_read_outstanding=GEMM_OUTSTANDING)
HLSC_PRAGMA(HLS INTERFACE m_axi port=B3 offset=slave bundle=gmemB3 max_read_burst_length=GEMM_BURST num_read_outstanding=GEMM_OUTSTANDING)
#endif
HLSC_PRAGMA(HLS INTERFACE m_axi port=C offset=slave bundle=gmemC max_write_burst_length=GEMM_BURST num_write_outstanding=GEMM_OUTSTANDING)
HLSC_PRAGMA(HLS INTERFACE m_axi port=bias offset=slave bundle=gmemBias max_read_burst_length=GEMM_BURST num_read_outstanding=GEMM_OUTSTANDING)
#pragma HLS INTERFACE s_axilite port=M
#pragma HLS INTERFACE s_axilite port=K
#pragma HLS INTERFACE s_axilite port=N
#pragma HLS INTERFACE s_axilite port=epilogue
#pragma HLS INTERFACE s_axilite port=return
#pragma HLS ALLOCATION function instances=gemm_compute limit=1
#pragma HLS ALLOCATION function instances=gemm_load limit=1
#pragma HLS ALLOCATION function instances=gemm_store limit=1

  if ((epilogue != GEMM_EPI_NONE && epilogue != GEMM_EPI_BIAS && epilogue != GEMM_EPI_BIAS_GELU) || M == 0 ||
      K == 0 || N == 0)
    return;

  // Chunk buffers (two of each) and accumulators (two tiles), see README "Buffers".
  HLSC_KERNEL_STATIC word_t a0[TM][TKW], a1[TM][TKW];
  HLSC_KERNEL_STATIC word_t b0[TK][TNW], b1[TK][TNW];
  HLSC_KERNEL_STATIC acc_t c0[TM][TN], c1[TM][TN];
  HLSC_PRAGMA(HLS ARRAY_PARTITION variable=a0 cyclic factor=GEMM_ROWS dim=1)
  HLSC_PRAGMA(HLS ARRAY_PARTITION variable=a1 cyclic factor=GEMM_ROWS dim=1)
  HLSC_PRAGMA(HLS ARRAY_PARTITION variable=b0 cyclic factor=GEMM_B_BANKS dim=2)
  HLSC_PRAGMA(HLS ARRAY_PARTITION variable=b1 cyclic factor=GEMM_B_BANKS dim=2)
#pragma HLS BIND_STORAGE variable=a0 type=ram_2p impl=lutram
#pragma HLS BIND_STORAGE variable=a1 type=ram_2p impl=lutram
#pragma HLS BIND_STORAGE variable=b0 type=ram_2p impl=uram
#pragma HLS BIND_STORAGE variable=b1 type=ram_2p impl=uram
  HLSC_PRAGMA(HLS ARRAY_PARTITION variable=c0 cyclic factor=GEMM_ROWS dim=1)
  HLSC_PRAGMA(HLS ARRAY_PARTITION variable=c0 cyclic factor=GEMM_COLS dim=2)
  HLSC_PRAGMA(HLS ARRAY_PARTITION variable=c1 cyclic factor=GEMM_ROWS dim=1)
  HLSC_PRAGMA(HLS ARRAY_PARTITION variable=c1 cyclic factor=GEMM_COLS dim=2)
#pragma HLS BIND_STORAGE variable=c0 type=ram_2p impl=lutram
#pragma HLS BIND_STORAGE variable=c1 type=ram_2p impl=lutram

  const unsigned int lda = gemm_cdivu(K, LA);
  const unsigned int mt_n = gemm_cdivu(M, TM), nt_n = gemm_cdivu(N, TN), kc_n = gemm_cdivu(K, TK);
  const unsigned long S = (unsigned long)mt_n * nt_n * kc_n;

  // Step counters: (mt, nt, kc) of the current step.
  GemmStep cur = {0, M < TM ? M : TM, 0, N < TN ? N : TN, 0, K < TK ? K : TK, 0, 0, 0};
  unsigned int mt = 0, nt = 0, kc = 0;
  GemmStep pend = cur;   // the finished tile waiting to be stored
  bool have_pend = false;

  gemm_load(A, GEMM_B_CALL, a0, b0, cur);
steps:
  for (unsigned long s = 0; s < S; ++s) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=4096 avg=64
    // next step
    GemmStep nxt = cur;
    unsigned int nmt = mt, nnt = nt, nkc = kc + 1;
    nxt.aoff = cur.aoff + (unsigned long)cur.mv * gemm_cdivu(cur.kv, LA);
    nxt.boff = cur.boff + (unsigned long)cur.kv * gemm_b_row_words(cur.nv);
    if (nkc == kc_n) {
      nkc = 0;
      nxt.aoff = (unsigned long)mt * TM * lda;            // A tile read again for each N tile
      if (++nnt == nt_n) {
        nnt = 0; ++nmt;
        nxt.aoff = (unsigned long)nmt * TM * lda;
        nxt.boff = 0;                                     // B read again for each M tile
      }
      ++nxt.tile;
    }
    nxt.m0 = nmt * TM; nxt.mv = M - nxt.m0 < (unsigned int)TM ? M - nxt.m0 : TM;
    nxt.n0 = nnt * TN; nxt.nv = N - nxt.n0 < (unsigned int)TN ? N - nxt.n0 : TN;
    nxt.k0 = nkc * TK; nxt.kv = K - nxt.k0 < (unsigned int)TK ? K - nxt.k0 : TK;
    const bool has_next = s + 1 < S;
    const bool do_store = kc == 0 && have_pend;

#define GEMM_STEP(AC, BC, CC, AN, BN, CP)                                                    \
  gemm_compute(AC, BC, CC, cur);                                                            \
  if (has_next) gemm_load(A, GEMM_B_CALL, AN, BN, nxt);                                \
  if (do_store) gemm_store(CP, C, bias, M, pend.m0, pend.mv, pend.n0, pend.nv, epilogue, pend.n0 + pend.nv == N);
    switch ((unsigned int)((s & 1) * 2 + (cur.tile & 1))) {
      case 0: GEMM_STEP(a0, b0, c0, a1, b1, c1) break;
      case 1: GEMM_STEP(a0, b0, c1, a1, b1, c0) break;
      case 2: GEMM_STEP(a1, b1, c0, a0, b0, c1) break;
      default: GEMM_STEP(a1, b1, c1, a0, b0, c0) break;
    }
#undef GEMM_STEP

    if (kc + 1 == kc_n) { pend = cur; have_pend = true; }
    cur = nxt;
    mt = nmt; nt = nnt; kc = nkc;
  }
  gemm_store((pend.tile & 1) ? c1 : c0, C, bias, M, pend.m0, pend.mv, pend.n0, pend.nv, epilogue,
             pend.n0 + pend.nv == N);
}

#if !HLSC_VITIS
// The resource estimate of gemm_types.h, for the host (tests and README tables).
extern "C" void gemm_resources(long out[3]) {
  out[0] = GEMM_DSP_EST;
  out[1] = GEMM_URAM_EST;
  out[2] = GEMM_LUTRAM_KBIT;
}
#endif
