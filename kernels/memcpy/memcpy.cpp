// bw_memcpy -- HBM/DDR bandwidth kernel (read / write / copy of 512-bit words).
//
// Kernel name (v++ -k, XRT): bw_memcpy.  (Not "memcpy": that would clash with
// libc's memcpy in the natively built shared library.)
//
// Arguments (XRT order; in and out are hls::burst_maxi<ap_uint<512>> ports, which XRT sees as the
// 64-bit buffer addresses a pointer argument has):
//   in       m_axi gmem0   source (read, copy)
//   out      m_axi gmem1   destination (write, copy); out[0] receives the read checksum
//   n_words  uint32               512-bit words per repetition
//   reps     uint32               repetitions over the same n_words words
//   mode     uint32               MEMCPY_MODE_READ / _WRITE / _COPY (codes from
//                                 kernels/designs/memcpy.toml); anything else: no-op
//   pattern  uint32               MEMCPY_PATTERN_SEQ / _STRIDE / _RANDOM (same file); else no-op
//   txn_words    uint32           stride, random: 512-bit words per transaction (>= 1)
//   stride_words uint32           stride: words from one transaction's start to the next
//   seed     uint32               random: the generator's seed
//
// Semantics (host verification depends on them: harness/bench/reference.py, docs/design.md).
// With pat(i, j) = ((i << 3) | j) ^ 0x9E3779B97F4A7C15 and rk(r) = r * 0xD6E8FEB86659FD93
// (uint64, wrapping), for lane j (uint64) of word i and repetition r:
//   read : out[0] lane j = sum over all reps r and words i of ((in[i]_j ^ pat(i, j)) + rk(r)).
//          Each word counts at its own index and each rep with its own number, so a skipped,
//          swapped or repeated word or rep changes the sum.  Eight independent 64-bit adders
//          instead of one 512-bit adder, so the II=1 loop closes timing at 300 MHz.
//   write: rep r writes out[i] lane j = pat(i, j) ^ rk(r): what is left is the last rep's.
//   copy : rep r writes out[i] lane j = in[i]_j ^ rk(r): likewise.
// rk(0) = 0, so with one rep write stores pat and copy stores in unchanged.
//
// Patterns. seq visits i = 0 .. n_words-1 in order (the roofline's figure).
// stride and random: n_words and txn_words are powers of two (the host checks; mask = n_words - 1),
// and rep r issues T = n_words / txn_words transactions; beat k < txn_words of transaction t is
// word a = (start(r, t) + k) & mask, with (uint32 arithmetic, wrapping)
//   stride: start = t * stride_words
//   random: start = mix(key(r) ^ t) * txn_words,  key(r) = mix(seed ^ mix(r ^ 0x9E3779B9)),
//           mix = murmur3's 32-bit finalizer (a bijection: a counter-based generator, so the host
//           replays any (seed, rep, transaction) without running the sequence).
// Word a is then read as word i is above (each visit counts at its own index with its rep), while
// write stores pat(a, j) ^ rk(r) ^ tk(t) and copy in[a] ^ rk(r) ^ tk(t), tk(t) = t * 0xC2B2AE3D27D4EB4F:
// what is left is the last visit's (rep, transaction), so a write dropped from a word that another
// transaction of the same rep writes again still shows; words never visited keep whatever was there
// (the host's poison).
//
// What the kernel issues (hls::burst_maxi, UG1399 "Using Manual Burst"; harness/docs/xrt-and-vitis.md).
// One pipelined loop over the n_words words of a rep serves every pattern and mode; a request is one
// contiguous piece of a transaction:
//   seq     transactions of MEMCPY_BURST words at t * MEMCPY_BURST (the last one of a rep shorter):
//           the AXI traffic the auto-burst loops it replaces made (MEMCPY_BURST-beat bursts);
//   stride, random: a request of txn_words words per transaction, at its start; a stride transaction
//           that runs past the buffer's end (stride not a multiple of txn_words) is two requests, the
//           part up to the end and the part the contract wraps to word 0. A random start is a multiple
//           of txn_words, so a random transaction never wraps.
// The m_axi adapter cuts a request into AXI bursts of at most MEMCPY_BURST beats (so a 4 KiB
// transaction with MEMCPY_BURST = 16 is four 1 KiB bursts back to back) -- what harness.model assumes
// (bursts of min(MEMCPY_BURST, txn) beats, MEMCPY_OUTSTANDING of them in flight).
// Reads run ahead: `ahead` requests are issued before the first word is read and one more each time a
// piece has been read, where ahead = MEMCPY_OUTSTANDING / ceil(txn / MEMCPY_BURST) (at least 1): as
// many requests as keep MEMCPY_OUTSTANDING bursts in flight (MEMCPY_OUTSTANDING for seq and any
// txn_words <= MEMCPY_BURST). The words asked for then never exceed the adapter's read buffer
// (outstanding x burst beats), so a read_request never waits for room only a later read() would make.
// Writes: a write_request at each piece's first word, its words as the loop makes them, and the
// write_response of the piece `ahead` requests back collected before the next request (the rest after
// the last rep). Read mode ends with a one-word write of the checksum to out[0].
// A word a fault must not store is still written, with its byte enables off (the port is owed it).
// The native build checks this protocol (kernels/common/native/hls_burst_maxi.h) and fails the launch
// on any break of it.
//
// Emulator faults (emu_faults.h; nothing under Vitis): skip_word leaves out the last word of
// every rep (read: not summed; write, copy: written with byte enables off); stale_rep runs the last
// rep as a repeat of the one before (rk(reps-2) and, for random, its transactions; needs reps >= 2);
// wrong_index puts the data of word a^1 (read, copy: when it exists; the emulator reads it outside the
// protocol) or the pattern of index a^1 (write) at index a.
//
// Build parameters (integer literals, -DNAME=value), set only in
// kernels/designs/memcpy.toml and passed by `make xclbin` / `make emu`:
//   MEMCPY_BURST        max_read/max_write_burst_length, beats
//   MEMCPY_OUTSTANDING  num_read/num_write_outstanding
#include <hls_burst_maxi.h>
#include "hls_compat.h"
#include "emu_faults.h"

#if !defined(MEMCPY_BURST) || !defined(MEMCPY_OUTSTANDING) || !defined(MEMCPY_MODE_READ) || \
    !defined(MEMCPY_MODE_WRITE) || !defined(MEMCPY_MODE_COPY) || !defined(MEMCPY_PATTERN_SEQ) || \
    !defined(MEMCPY_PATTERN_STRIDE) || !defined(MEMCPY_PATTERN_RANDOM)
#error "MEMCPY_BURST, MEMCPY_OUTSTANDING and the MEMCPY_MODE_* / MEMCPY_PATTERN_* codes come from kernels/designs/memcpy.toml: build with make emu or make xclbin"
#endif

static_assert(MEMCPY_BURST >= 1 && MEMCPY_BURST <= 256,
              "MEMCPY_BURST must be 1..256 beats (AXI4 burst limit)");
static_assert(MEMCPY_OUTSTANDING >= 1 && MEMCPY_OUTSTANDING <= 512,
              "MEMCPY_OUTSTANDING must be 1..512 (Vitis HLS m_axi limit)");
static_assert(sizeof(ap_uint<512>) == 64, "ap_uint<512> must occupy 64 bytes");

static const uint64_t MEMCPY_WRITE_KEY = 0x9E3779B97F4A7C15ULL;
static const uint64_t MEMCPY_REP_KEY = 0xD6E8FEB86659FD93ULL;   // odd

static const uint32_t MEMCPY_REP_SALT = 0x9E3779B9u;
static const uint64_t MEMCPY_TXN_KEY = 0xC2B2AE3D27D4EB4FULL;   // odd

// murmur3's fmix32: two multiplies and three xor-shifts, a bijection of uint32 (pipelines at II=1).
static inline uint32_t memcpy_mix(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85EBCA6Bu;
  h ^= h >> 13;
  h *= 0xC2B2AE35u;
  h ^= h >> 16;
  return h;
}

EMU_FAULT_KERNEL(bw_memcpy, EMU_FAULTS_MEMORY)

// Where transaction t of a rep starts. cs is the stride start carried by addition (t * stride_words
// mod n_words, the contract's start), so no loop-carried path goes through a multiply: the counters
// (t, k, ti, the piece lengths) depend only on additions and compares, and the random start, which
// goes through memcpy_mix's multiplies, feeds addresses alone (feed-forward: it pipelines).
// txn_shift = log2(txn): random transactions are a power of two words (the host checks), so the
// contract's mix * txn is a shift, not a multiplier.
static inline uint32_t memcpy_start(bool seq, bool stride, uint32_t t, uint32_t cs, uint32_t txn_shift,
                                    uint32_t key, uint32_t mask) {
  if (seq) return t * MEMCPY_BURST;                 // a shift: MEMCPY_BURST is a build constant
  return stride ? cs : (memcpy_mix(key ^ t) << txn_shift) & mask;
}

// Words of transaction t: seq MEMCPY_BURST (the last one of a rep shorter); stride, random txn.
static inline uint32_t memcpy_txn_len(bool seq, uint32_t t, uint32_t txn, uint32_t n_words) {
  const uint32_t s = t * MEMCPY_BURST;
  return seq && n_words - s < txn ? n_words - s : txn;
}

// Words of a transaction's first piece: all of them, except a stride transaction that runs past the
// buffer's end (the contract wraps it to word 0). A random start is a multiple of txn, which divides
// n_words, so a random transaction never wraps; seq never does either.
static inline uint32_t memcpy_first_piece(bool stride, uint32_t cs, uint32_t tl, uint32_t n_words) {
  return stride && n_words - cs < tl ? n_words - cs : tl;
}

// Issue the read request of the next piece of a rep's transactions (the port by value, as UG1399's
// examples hand one to a sub-function): a piece is a whole transaction, or one of the two contiguous
// parts of a stride transaction that wraps. ti: the transaction; is: its stride start (by addition);
// tail: its second part, of tail_len words, is next.
static inline void memcpy_request(hls::burst_maxi<ap_uint<512> > in, bool seq, bool stride, uint32_t txn,
                                  uint32_t txn_shift, uint32_t stride_words, uint32_t key, uint32_t mask,
                                  uint32_t n_words,
                                  uint32_t& ti, uint32_t& is, bool& tail, uint32_t& tail_len) {
  const uint32_t tl = memcpy_txn_len(seq, ti, txn, n_words);
  const uint32_t first = memcpy_first_piece(stride, is, tl, n_words);
  const uint32_t len = tail ? tail_len : first;
  in.read_request(tail ? 0 : memcpy_start(seq, stride, ti, is, txn_shift, key, mask), len);
  if (!tail && len < tl) {
    tail = true;
    tail_len = tl - len;
  } else {
    tail = false;
    ++ti;
    is = (is + stride_words) & mask;
  }
}

// Natively the word at `i` outside the protocol (the wrong_index fault); never used under Vitis.
#if HLSC_VITIS
#define MEMCPY_PEEK(port, i) ap_uint<512>(0)
#else
#define MEMCPY_PEEK(port, i) (port).hlsc_peek(i)
#endif

// The fault selector of this call, passed to memcpy_run (its EMU_FAULT tests read `emu_fault_`).
#if defined(HARNESS_EMU_FAULTS) && HARNESS_EMU_FAULTS && !HLSC_VITIS
#define MEMCPY_FAULT_SELECTOR emu_fault_
#else
#define MEMCPY_FAULT_SELECTOR 0
#endif
// The words a faulty kernel would get wrong (constant false outside the emulator).
#define MEMCPY_SKIP(i) (EMU_FAULT(SKIP_WORD) && (i) + 1 == n_words)
#define MEMCPY_REP(r) ((EMU_FAULT(STALE_REP) && (r) + 1 == reps && (r) > 0) ? (r) - 1 : (r))

// Every rep of one mode (a template: the mode's loop has only its own port calls, and natively no
// per-word test of the mode).
template <unsigned MODE>
static void memcpy_run(hls::burst_maxi<ap_uint<512> > in, hls::burst_maxi<ap_uint<512> > out, uint32_t n_words,
                       uint32_t reps, bool seq, bool stride, uint32_t txn, uint32_t txn_shift, uint32_t n_txn,
                       uint32_t ahead,
                       uint32_t stride_words, uint32_t seed, int emu_fault_) {
  const bool reading = MODE != MEMCPY_MODE_WRITE, writing = MODE != MEMCPY_MODE_READ;
  const uint32_t mask = n_words - 1;                              // stride, random: n_words is 2^k
  uint64_t sum[8];
#pragma HLS ARRAY_PARTITION variable=sum complete dim=1
  for (int j = 0; j < 8; ++j) {
#pragma HLS UNROLL
    sum[j] = 0;
  }
  uint32_t w_open = 0;   // write requests whose write_response is still to collect
reps_loop:
  for (unsigned int r = 0; r < reps; ++r) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=16 avg=1
    const uint32_t rr = MEMCPY_REP(r);
    const uint64_t rk = (uint64_t)rr * MEMCPY_REP_KEY;
    const uint32_t key = memcpy_mix(seed ^ memcpy_mix(rr ^ MEMCPY_REP_SALT));
    // Issuer: the next piece to request is of transaction ti (memcpy_request).
    uint32_t ti = 0, is = 0, tail_len = 0;
    bool tail = false;
  prefetch:
    for (uint32_t q = 0; q < ahead; ++q) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=16 avg=16
#pragma HLS PIPELINE II=1
      if (reading && ti != n_txn)
        memcpy_request(in, seq, stride, txn, txn_shift, stride_words, key, mask, n_words, ti, is, tail,
                       tail_len);
    }
    // Consumer: word k of transaction t, its address a; seg_left words left in the current piece;
    // cs its stride start and tkey = t * MEMCPY_TXN_KEY, both carried by addition.
    uint32_t t = 0, k = 0, start = 0, tl = 0, seg_left = 0, cs = 0;
    uint64_t tkey = 0;
  words:
    for (unsigned int w = 0; w < n_words; ++w) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT min=16384 max=4194304 avg=1048576
      if (k == 0) {
        start = memcpy_start(seq, stride, t, cs, txn_shift, key, mask);
        tl = memcpy_txn_len(seq, t, txn, n_words);
      }
      const uint32_t a = seq ? start + k : (start + k) & mask;
      const bool piece_start = seg_left == 0;
      if (piece_start) seg_left = k == 0 ? memcpy_first_piece(stride, cs, tl, n_words) : tl - k;
      const uint64_t key_t = seq ? rk : rk ^ tkey;
      if (writing && piece_start) {
        if (w_open == ahead) {
          out.write_response();
          --w_open;
        }
        out.write_request(a, seg_left);
        ++w_open;
      }
      const bool keep = !MEMCPY_SKIP(w);
      uint64_t lane[8];
#pragma HLS ARRAY_PARTITION variable=lane complete dim=1
      if (reading) {
        hlsc::maxi_read_u64x8(in, lane);
        if (EMU_FAULT(WRONG_INDEX) && (a ^ 1u) < n_words) hlsc::unpack_u64x8(MEMCPY_PEEK(in, a ^ 1u), lane);
      }
      if (MODE == MEMCPY_MODE_READ) {
        for (int j = 0; j < 8; ++j) {
#pragma HLS UNROLL
          if (keep) sum[j] += (lane[j] ^ (((((uint64_t)a) << 3) | (uint64_t)j) ^ MEMCPY_WRITE_KEY)) + rk;
        }
      } else {
        const uint64_t idx = EMU_FAULT(WRONG_INDEX) ? (uint64_t)(a ^ 1u) : (uint64_t)a;
        for (int j = 0; j < 8; ++j) {
#pragma HLS UNROLL
          lane[j] = MODE == MEMCPY_MODE_WRITE ? ((idx << 3) | (uint64_t)j) ^ MEMCPY_WRITE_KEY ^ key_t
                                              : lane[j] ^ key_t;
        }
        hlsc::maxi_write_u64x8(out, lane, keep);
      }
      // A piece read: request the next (so `ahead` requests stay in flight).
      if (--seg_left == 0 && reading && ti != n_txn)
        memcpy_request(in, seq, stride, txn, txn_shift, stride_words, key, mask, n_words, ti, is, tail,
                       tail_len);
      if (++k == tl) {
        k = 0;
        ++t;
        cs = (cs + stride_words) & mask;
        tkey += MEMCPY_TXN_KEY;
      }
    }
  }
drain:
  for (; w_open > 0; --w_open) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=16 avg=16
    out.write_response();
  }
  if (MODE == MEMCPY_MODE_READ) {
    // A copy goes out: natively `sum` then never has its address taken, so g++ keeps it in registers
    // through the word loop instead of storing it every word.
    uint64_t total[8];
#pragma HLS ARRAY_PARTITION variable=total complete dim=1
    for (int j = 0; j < 8; ++j) {
#pragma HLS UNROLL
      total[j] = sum[j];
    }
    out.write_request(0, 1);
    hlsc::maxi_write_u64x8(out, total, true);
    out.write_response();
  }
  (void)emu_fault_;
}

extern "C" void bw_memcpy(hls::burst_maxi<ap_uint<512> > in, hls::burst_maxi<ap_uint<512> > out,
                          unsigned int n_words, unsigned int reps,
                          unsigned int mode, unsigned int pattern, unsigned int txn_words,
                          unsigned int stride_words, unsigned int seed) {
  HLSC_PRAGMA(HLS INTERFACE m_axi port=in offset=slave bundle=gmem0 max_read_burst_length=MEMCPY_BURST max_write_burst_length=MEMCPY_BURST num_read_outstanding=MEMCPY_OUTSTANDING num_write_outstanding=MEMCPY_OUTSTANDING)
  HLSC_PRAGMA(HLS INTERFACE m_axi port=out offset=slave bundle=gmem1 max_read_burst_length=MEMCPY_BURST max_write_burst_length=MEMCPY_BURST num_read_outstanding=MEMCPY_OUTSTANDING num_write_outstanding=MEMCPY_OUTSTANDING)
#pragma HLS INTERFACE s_axilite port=in
#pragma HLS INTERFACE s_axilite port=out
#pragma HLS INTERFACE s_axilite port=n_words
#pragma HLS INTERFACE s_axilite port=reps
#pragma HLS INTERFACE s_axilite port=mode
#pragma HLS INTERFACE s_axilite port=pattern
#pragma HLS INTERFACE s_axilite port=txn_words
#pragma HLS INTERFACE s_axilite port=stride_words
#pragma HLS INTERFACE s_axilite port=seed
#pragma HLS INTERFACE s_axilite port=return
  HLSC_BURST_LIMITS(in, MEMCPY_BURST, MEMCPY_OUTSTANDING, MEMCPY_BURST, MEMCPY_OUTSTANDING)
  HLSC_BURST_LIMITS(out, MEMCPY_BURST, MEMCPY_OUTSTANDING, MEMCPY_BURST, MEMCPY_OUTSTANDING)

  EMU_FAULT_ENTRY(bw_memcpy)

  const bool seq = pattern == MEMCPY_PATTERN_SEQ, stride = pattern == MEMCPY_PATTERN_STRIDE;
  if ((!seq && !stride && pattern != MEMCPY_PATTERN_RANDOM) || (!seq && txn_words == 0) ||
      (mode != MEMCPY_MODE_READ && mode != MEMCPY_MODE_WRITE && mode != MEMCPY_MODE_COPY))
    return;
  // Words per transaction: seq MEMCPY_BURST (the last one of a rep shorter); a transaction of more
  // words than the buffer is the whole buffer (start 0 either way: same words, same tk(0) = 0).
  const uint32_t txn = seq ? (uint32_t)MEMCPY_BURST : (txn_words < n_words ? txn_words : n_words);
  uint32_t txn_shift = 0;                      // log2(txn) for the random start (txn is 2^k there)
txn_log2:
  for (; txn_shift < 31 && (1u << txn_shift) < txn; ++txn_shift) {
#pragma HLS LOOP_TRIPCOUNT min=0 max=6 avg=3
  }
  const uint32_t n_txn = seq ? (n_words + MEMCPY_BURST - 1) / MEMCPY_BURST : txn ? n_words / txn : 0;
  // Requests in flight: as many as keep MEMCPY_OUTSTANDING AXI bursts outstanding (the adapter cuts a
  // request into bursts of MEMCPY_BURST beats), so the words asked for never exceed the adapter's
  // read buffer (MEMCPY_OUTSTANDING x MEMCPY_BURST words) and a read_request never waits on a read
  // this loop has yet to make.
  const uint32_t bursts_per_txn = (txn + MEMCPY_BURST - 1) / MEMCPY_BURST;
  const uint32_t ahead = bursts_per_txn >= MEMCPY_OUTSTANDING ? 1u : MEMCPY_OUTSTANDING / bursts_per_txn;

  if (mode == MEMCPY_MODE_READ)
    memcpy_run<MEMCPY_MODE_READ>(in, out, n_words, reps, seq, stride, txn, txn_shift, n_txn, ahead, stride_words, seed,
                                 MEMCPY_FAULT_SELECTOR);
  else if (mode == MEMCPY_MODE_WRITE)
    memcpy_run<MEMCPY_MODE_WRITE>(in, out, n_words, reps, seq, stride, txn, txn_shift, n_txn, ahead, stride_words, seed,
                                  MEMCPY_FAULT_SELECTOR);
  else
    memcpy_run<MEMCPY_MODE_COPY>(in, out, n_words, reps, seq, stride, txn, txn_shift, n_txn, ahead, stride_words, seed,
                                 MEMCPY_FAULT_SELECTOR);
}
