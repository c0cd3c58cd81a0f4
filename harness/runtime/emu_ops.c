/* Buffer operations of the emulator, in native code so a verified repetition makes as few
 * passes over memory as it can (harness/runtime/emulator.py, BufferOps):
 *
 *   fill_many          poison: every 64-bit word of each buffer := value
 *   compare_many       the device words (each XOR the job's key) against the expected words,
 *                      or against their own index where no expected array is given (one
 *                      read pass); counts differing words and finds the first
 *   copy_bytes         a sync (host <-> device), split over the threads
 *
 * Work is split into pieces shared by up to `threads` POSIX threads. Python calls these
 * through ctypes, which releases the GIL. Plain C, no HLS headers.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#define HAVE_STREAM 1 /* non-temporal stores: a written line is not read first (half the traffic) */
#else
#define HAVE_STREAM 0
#endif

#ifdef __cplusplus /* CXX (g++) builds it, as it does the kernels */
extern "C" {
#endif

#define PIECE_WORDS (1u << 17) /* 1 MiB of 64-bit words: large enough to amortise, small enough to balance */

typedef struct {
  uint64_t* dst;      /* fill */
  const uint64_t* src; /* compare: the device words */
  const uint64_t* exp;
  uint64_t n;        /* words in this piece */
  uint64_t base;     /* index of the piece's first word within its buffer */
  uint64_t key;      /* XORed into every device word before it is compared */
  int job;
} piece_t;

typedef struct {
  piece_t* pieces;
  int n_pieces;
  int next;          /* next piece to take (under lock) */
  pthread_mutex_t lock;
  int op;            /* 0 fill, 1 compare */
  uint64_t value;
  uint64_t* bad;     /* per job: differing words */
  int64_t* first;    /* per job: first differing index, -1 if none */
} work_t;

static void do_fill(const piece_t* p, uint64_t v) {
  uint64_t* d = p->dst;
  uint64_t i = 0, n = p->n;
#if HAVE_STREAM
  for (; i < n && ((uintptr_t)(d + i) & 15); ++i) d[i] = v;
  __m128i vv = _mm_set1_epi64x((long long)v);
  for (; i + 8 <= n; i += 8) {
    _mm_stream_si128((__m128i*)(d + i), vv);
    _mm_stream_si128((__m128i*)(d + i + 2), vv);
    _mm_stream_si128((__m128i*)(d + i + 4), vv);
    _mm_stream_si128((__m128i*)(d + i + 6), vv);
  }
  _mm_sfence();
#endif
  for (; i < n; ++i) d[i] = v;
}

/* Word j of a piece as it should be: the expected array's, or (no array) its index in the buffer. */
static inline uint64_t want(const piece_t* p, uint64_t j) { return p->exp ? p->exp[j] : p->base + j; }

/* The words i..i+k of a piece, checked one by one (only where a block differed). */
static uint64_t count_bad(const piece_t* p, uint64_t i, uint64_t k, int64_t* first) {
  uint64_t bad = 0;
  for (uint64_t j = i; j < i + k; ++j) {
    if ((p->src[j] ^ p->key) != want(p, j)) {
      if (*first < 0) *first = (int64_t)j;
      ++bad;
    }
  }
  return bad;
}

/* Differing words of a piece; *first = index of the first one within the piece, or -1.
 * Blocks of 64 words are OR-reduced; only a block that differs is looked at word by word. */
static uint64_t do_compare(const piece_t* p, int64_t* first) {
  uint64_t bad = 0, i = 0;
  const uint64_t n = p->n, key = p->key, *s = p->src, *e = p->exp;
  *first = -1;
  for (; i + 64 <= n; i += 64) {
    uint64_t diff = 0;
    if (e) {
      for (int j = 0; j < 64; ++j) diff |= s[i + j] ^ key ^ e[i + j];
    } else {
      const uint64_t w = p->base + i;
      for (int j = 0; j < 64; ++j) diff |= s[i + j] ^ key ^ (w + (uint64_t)j);
    }
    if (diff) bad += count_bad(p, i, 64, first);
  }
  return bad + count_bad(p, i, n - i, first);
}

static void* worker(void* arg) {
  work_t* w = (work_t*)arg;
  for (;;) {
    pthread_mutex_lock(&w->lock);
    int k = w->next < w->n_pieces ? w->next++ : -1;
    pthread_mutex_unlock(&w->lock);
    if (k < 0) return NULL;
    piece_t* p = &w->pieces[k];
    if (w->op == 0) {
      do_fill(p, w->value);
    } else {
      int64_t f;
      uint64_t b = do_compare(p, &f);
      if (b) {
        pthread_mutex_lock(&w->lock);
        w->bad[p->job] += b;
        int64_t at = (int64_t)p->base + f;
        if (w->first[p->job] < 0 || at < w->first[p->job]) w->first[p->job] = at;
        pthread_mutex_unlock(&w->lock);
      }
    }
  }
}

static int run(work_t* w, int threads) {
  pthread_mutex_init(&w->lock, NULL);
  w->next = 0;
  if (threads > w->n_pieces) threads = w->n_pieces;
  if (threads < 1) threads = 1;
  pthread_t tid[64];
  if (threads > 64) threads = 64;
  int started = 0;
  for (int t = 1; t < threads; ++t) {
    if (pthread_create(&tid[started], NULL, worker, w) == 0) ++started;
  }
  worker(w); /* the calling thread works too */
  for (int t = 0; t < started; ++t) pthread_join(tid[t], NULL);
  pthread_mutex_destroy(&w->lock);
  return 0;
}

static piece_t* split(int jobs, uint64_t* const* dst, const uint64_t* const* src, const uint64_t* const* exp,
                      const uint64_t* keys, const uint64_t* words, int* n_out) {
  /* exp[j] may be NULL: job j's expected word w is w itself */
  int n = 0;
  for (int j = 0; j < jobs; ++j) n += (int)((words[j] + PIECE_WORDS - 1) / PIECE_WORDS);
  piece_t* ps = (piece_t*)calloc(n ? n : 1, sizeof(piece_t));
  if (!ps) return NULL;
  int k = 0;
  for (int j = 0; j < jobs; ++j) {
    for (uint64_t b = 0; b < words[j]; b += PIECE_WORDS) {
      uint64_t len = words[j] - b < PIECE_WORDS ? words[j] - b : PIECE_WORDS;
      ps[k].dst = dst ? dst[j] + b : NULL;
      ps[k].src = src ? src[j] + b : NULL;
      ps[k].exp = exp && exp[j] ? exp[j] + b : NULL;
      ps[k].n = len;
      ps[k].base = b;
      ps[k].key = keys ? keys[j] : 0;
      ps[k].job = j;
      ++k;
    }
  }
  *n_out = n;
  return ps;
}

int fill_many(int jobs, uint64_t* const* dst, const uint64_t* words, uint64_t value, int threads) {
  work_t w;
  memset(&w, 0, sizeof w);
  w.pieces = split(jobs, dst, NULL, NULL, NULL, words, &w.n_pieces);
  if (!w.pieces) return -1;
  w.op = 0;
  w.value = value;
  run(&w, threads);
  free(w.pieces);
  return 0;
}

int compare_many(int jobs, const uint64_t* const* src, const uint64_t* const* exp, const uint64_t* keys,
                 const uint64_t* words, uint64_t* bad, int64_t* first, int threads) {
  work_t w;
  memset(&w, 0, sizeof w);
  w.pieces = split(jobs, NULL, src, exp, keys, words, &w.n_pieces);
  if (!w.pieces) return -1;
  for (int j = 0; j < jobs; ++j) {
    bad[j] = 0;
    first[j] = -1;
  }
  w.op = 1;
  w.bad = bad;
  w.first = first;
  run(&w, threads);
  free(w.pieces);
  return 0;
}

typedef struct {
  char* dst;
  const char* src;
  size_t n;
} span_t;

static void* copy_span(void* arg) {
  span_t* sp = (span_t*)arg;
  memcpy(sp->dst, sp->src, sp->n);
  return NULL;
}

void copy_bytes(char* dst, const char* src, size_t n, int threads) {
  if (threads > 16) threads = 16;
  if (threads < 2 || n < ((size_t)PIECE_WORDS << 3)) {
    memcpy(dst, src, n);
    return;
  }
  span_t sp[16];
  pthread_t tid[16];
  size_t chunk = (n / threads + 4095) & ~(size_t)4095;
  int k = 0;
  for (size_t off = 0; off < n; off += chunk, ++k) {
    sp[k].dst = dst + off;
    sp[k].src = src + off;
    sp[k].n = n - off < chunk ? n - off : chunk;
  }
  int started[16] = {0};
  for (int t = 1; t < k; ++t) started[t] = pthread_create(&tid[t], NULL, copy_span, &sp[t]) == 0;
  copy_span(&sp[0]);
  for (int t = 1; t < k; ++t) {
    if (started[t]) pthread_join(tid[t], NULL);
    else copy_span(&sp[t]);
  }
}

#ifdef __cplusplus
}
#endif
