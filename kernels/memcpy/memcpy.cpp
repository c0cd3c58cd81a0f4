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
// Semantics (host verification depends on them, see docs/design.md):
//   read : out[0] lane j (uint64) = wrapping sum over all reps and all words i
//          of lane j of in[i].  Eight independent 64-bit adders instead of one
//          512-bit adder, so the II=1 loop closes timing at 300 MHz.
//   write: out[i] lane j = ((i << 3) | j) ^ 0x9E3779B97F4A7C15, every rep.
//   copy : out[i] = in[i], every rep.
//
// Build parameters (integer literals, -DNAME=value), set only in
// kernels/designs/memcpy.toml and passed by `make xclbin` / `make emu`:
//   MEMCPY_BURST        max_read/max_write_burst_length, beats
//   MEMCPY_OUTSTANDING  num_read/num_write_outstanding
#include "hls_compat.h"

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
    read_words:
      for (unsigned int i = 0; i < n_words; ++i) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT min=16384 max=4194304 avg=1048576
        uint64_t lane[8];
#pragma HLS ARRAY_PARTITION variable=lane complete dim=1
        hlsc::unpack_u64x8(in[i], lane);
        for (int j = 0; j < 8; ++j) {
#pragma HLS UNROLL
          sum[j] += lane[j];
        }
      }
    }
    out[0] = hlsc::pack_u64x8(sum);
  } else if (mode == MEMCPY_MODE_WRITE) {
  write_reps:
    for (unsigned int r = 0; r < reps; ++r) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=16 avg=1
    write_words:
      for (unsigned int i = 0; i < n_words; ++i) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT min=16384 max=4194304 avg=1048576
        uint64_t lane[8];
#pragma HLS ARRAY_PARTITION variable=lane complete dim=1
        for (int j = 0; j < 8; ++j) {
#pragma HLS UNROLL
          lane[j] = ((((uint64_t)i) << 3) | (uint64_t)j) ^ MEMCPY_WRITE_KEY;
        }
        out[i] = hlsc::pack_u64x8(lane);
      }
    }
  } else if (mode == MEMCPY_MODE_COPY) {
  copy_reps:
    for (unsigned int r = 0; r < reps; ++r) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=16 avg=1
    copy_words:
      for (unsigned int i = 0; i < n_words; ++i) {
#pragma HLS PIPELINE II=1
#pragma HLS LOOP_TRIPCOUNT min=16384 max=4194304 avg=1048576
        out[i] = in[i];
      }
    }
  }
  // any other mode: nothing is read or written
}
