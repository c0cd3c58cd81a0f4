// bw_memcpy -- HBM/DDR bandwidth kernel (read / write / copy of 512-bit words).
//
// Kernel name (v++ -k, XRT): bw_memcpy.  (Not "memcpy": that would clash with
// libc's memcpy in the natively built shared library.)
//
// Arguments (XRT order):
//   in       const ap_uint<512>*  m_axi gmem0   source (read, copy)
//   out      ap_uint<512>*        m_axi gmem1   destination (write, copy);
//                                               out[0] receives the read checksum
//   n_words  uint32               512-bit words per repetition
//   reps     uint32               repetitions over the same n_words words
//   mode     uint32               MEMCPY_MODE_READ / _WRITE / _COPY (codes from
//                                 kernels/designs/memcpy.toml); anything else: no-op
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
// Emulator faults (emu_faults.h; nothing under Vitis): skip_word leaves out the last word of
// every rep; stale_rep runs the last rep as a repeat of the one before (rk(reps-2); needs
// reps >= 2); wrong_index puts the data of word i^1 (read, copy: when it exists) or the
// pattern of index i^1 (write) at index i.
//
// Build parameters (integer literals, -DNAME=value), set only in
// kernels/designs/memcpy.toml and passed by `make xclbin` / `make emu`:
//   MEMCPY_BURST        max_read/max_write_burst_length, beats
//   MEMCPY_OUTSTANDING  num_read/num_write_outstanding
#include "hls_compat.h"
#include "emu_faults.h"

#if !defined(MEMCPY_BURST) || !defined(MEMCPY_OUTSTANDING) || !defined(MEMCPY_MODE_READ) || \
    !defined(MEMCPY_MODE_WRITE) || !defined(MEMCPY_MODE_COPY)
#error "MEMCPY_BURST, MEMCPY_OUTSTANDING and the MEMCPY_MODE_* codes come from kernels/designs/memcpy.toml: build with make emu or make xclbin"
#endif

static_assert(MEMCPY_BURST >= 1 && MEMCPY_BURST <= 256,
              "MEMCPY_BURST must be 1..256 beats (AXI4 burst limit)");
static_assert(MEMCPY_OUTSTANDING >= 1 && MEMCPY_OUTSTANDING <= 512,
              "MEMCPY_OUTSTANDING must be 1..512 (Vitis HLS m_axi limit)");
static_assert(sizeof(ap_uint<512>) == 64, "ap_uint<512> must occupy 64 bytes");

static const uint64_t MEMCPY_WRITE_KEY = 0x9E3779B97F4A7C15ULL;
static const uint64_t MEMCPY_REP_KEY = 0xD6E8FEB86659FD93ULL;   // odd

EMU_FAULT_KERNEL(bw_memcpy, EMU_FAULTS_MEMORY)

extern "C" void bw_memcpy(const ap_uint<512>* in, ap_uint<512>* out,
                          unsigned int n_words, unsigned int reps,
                          unsigned int mode) {
  HLSC_PRAGMA(HLS INTERFACE m_axi port=in offset=slave bundle=gmem0 max_read_burst_length=MEMCPY_BURST max_write_burst_length=MEMCPY_BURST num_read_outstanding=MEMCPY_OUTSTANDING num_write_outstanding=MEMCPY_OUTSTANDING)
  HLSC_PRAGMA(HLS INTERFACE m_axi port=out offset=slave bundle=gmem1 max_read_burst_length=MEMCPY_BURST max_write_burst_length=MEMCPY_BURST num_read_outstanding=MEMCPY_OUTSTANDING num_write_outstanding=MEMCPY_OUTSTANDING)
#pragma HLS INTERFACE s_axilite port=in
#pragma HLS INTERFACE s_axilite port=out
#pragma HLS INTERFACE s_axilite port=n_words
#pragma HLS INTERFACE s_axilite port=reps
#pragma HLS INTERFACE s_axilite port=mode
#pragma HLS INTERFACE s_axilite port=return

  EMU_FAULT_ENTRY(bw_memcpy)
  // The words a faulty kernel would get wrong (constant false outside the emulator).
#define MEMCPY_SKIP(i) (EMU_FAULT(SKIP_WORD) && (i) + 1 == n_words)
#define MEMCPY_SRC(i) ((EMU_FAULT(WRONG_INDEX) && ((i) ^ 1u) < n_words) ? ((i) ^ 1u) : (i))
#define MEMCPY_REP(r) ((EMU_FAULT(STALE_REP) && (r) + 1 == reps && (r) > 0) ? (r) - 1 : (r))

  if (mode == MEMCPY_MODE_READ) {
    uint64_t sum[8];
#pragma HLS ARRAY_PARTITION variable=sum complete dim=1
    for (int j = 0; j < 8; ++j) {
#pragma HLS UNROLL
      sum[j] = 0;
    }
  read_reps:
    for (unsigned int r = 0; r < reps; ++r) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=16 avg=1
      const uint64_t rk = (uint64_t)MEMCPY_REP(r) * MEMCPY_REP_KEY;
    read_words:
      for (unsigned int i = 0; i < n_words; ++i) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT min=16384 max=4194304 avg=1048576
        if (MEMCPY_SKIP(i)) continue;
        uint64_t lane[8];
#pragma HLS ARRAY_PARTITION variable=lane complete dim=1
        hlsc::unpack_u64x8(in[MEMCPY_SRC(i)], lane);
        for (int j = 0; j < 8; ++j) {
#pragma HLS UNROLL
          const uint64_t pat = ((((uint64_t)i) << 3) | (uint64_t)j) ^ MEMCPY_WRITE_KEY;
          sum[j] += (lane[j] ^ pat) + rk;
        }
      }
    }
    out[0] = hlsc::pack_u64x8(sum);
  } else if (mode == MEMCPY_MODE_WRITE) {
  write_reps:
    for (unsigned int r = 0; r < reps; ++r) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=16 avg=1
      const uint64_t rk = (uint64_t)MEMCPY_REP(r) * MEMCPY_REP_KEY;
    write_words:
      for (unsigned int i = 0; i < n_words; ++i) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT min=16384 max=4194304 avg=1048576
        if (MEMCPY_SKIP(i)) continue;
        const uint64_t idx = EMU_FAULT(WRONG_INDEX) ? (uint64_t)(i ^ 1u) : (uint64_t)i;
        uint64_t lane[8];
#pragma HLS ARRAY_PARTITION variable=lane complete dim=1
        for (int j = 0; j < 8; ++j) {
#pragma HLS UNROLL
          lane[j] = ((idx << 3) | (uint64_t)j) ^ MEMCPY_WRITE_KEY ^ rk;
        }
        out[i] = hlsc::pack_u64x8(lane);
      }
    }
  } else if (mode == MEMCPY_MODE_COPY) {
  copy_reps:
    for (unsigned int r = 0; r < reps; ++r) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=16 avg=1
      const uint64_t rk = (uint64_t)MEMCPY_REP(r) * MEMCPY_REP_KEY;
    copy_words:
      for (unsigned int i = 0; i < n_words; ++i) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT min=16384 max=4194304 avg=1048576
        if (MEMCPY_SKIP(i)) continue;
        uint64_t lane[8];
#pragma HLS ARRAY_PARTITION variable=lane complete dim=1
        hlsc::unpack_u64x8(in[MEMCPY_SRC(i)], lane);
        for (int j = 0; j < 8; ++j) {
#pragma HLS UNROLL
          lane[j] ^= rk;
        }
        out[i] = hlsc::pack_u64x8(lane);
      }
    }
  }
#undef MEMCPY_SKIP
#undef MEMCPY_SRC
#undef MEMCPY_REP
  // any other mode: nothing is read or written
}
