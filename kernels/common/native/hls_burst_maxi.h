// hls_burst_maxi.h -- hls::burst_maxi for the native (g++) build: the hls4ml headers do not ship
// it, Vitis HLS (2022.1 and later) does, and Vitis uses its own. Same calls as UG1399's
// "Using Manual Burst" (offsets and lengths in elements of T):
//   read_request(offset, len)   queue a read of len elements from offset
//   T read()                    the next element of the oldest request (len calls per request)
//   write_request(offset, len)  queue a write of len elements at offset
//   write(val[, byteenable])    the next element of the oldest request not yet given all its data
//   write_response()            once per write request, in order: waits for its response
// Natively nothing waits (memory answers at once), so instead the protocol a hardware build relies
// on is checked, and a violation makes the launch fail with its reason:
//   - a read with no words left in any request (more reads than requested), a request whose words
//     were not all read by the end of the call (fewer), likewise for writes;
//   - a write_response with no write request left to answer, or before the request got all its data;
//     a write request still unanswered when the call ends;
//   - a request of zero elements, or one beyond the buffer the port was given (when the emulator
//     told us its size: harness_emu_call_begin);
//   - more AXI bursts outstanding than the port's num_read/num_write_outstanding allow, a request of
//     len elements counting as ceil(len / max_burst_length) bursts: read requests until their last
//     element is read, write requests until their write_response. Beyond that a hardware build's
//     read_request / write_request can wait for room that only a later read() of the same thread
//     makes (a deadlock); within it the adapter's read buffer (outstanding x burst beats) holds all
//     the data asked for. 4 KiB boundary splits are not counted (the harness's ports start 4 KiB
//     aligned and its transactions of up to 4 KiB are aligned to the burst unless a stride is not).
// A port's limits are the m_axi pragma's, declared at the kernel's entry with HLSC_BURST_LIMITS
// (kernels/common/hls_compat.h), which also checks at every return of the kernel that nothing is
// left half done. After the first violation the call's ports are dead: reads and writes go to a
// scratch word and requests are dropped, so the kernel runs to its end without touching memory, and
// harness_emu_call_error() returns the reason (the emulator's worker reads it after every call).
#ifndef HLSC_NATIVE_BURST_MAXI_H
#define HLSC_NATIVE_BURST_MAXI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <type_traits>
#include <ap_int.h>

namespace hlsc_burst {

struct Req {
  size_t offset, len;   // elements
};

// A queue of requests in order (at most num_*_outstanding of them, <= 512 by the pragma's limit).
struct Queue {
  static const unsigned CAP = 1024;
  Req q[CAP];
  unsigned head, count;
  Req& at(unsigned i) { return q[(head + i) % CAP]; }
};

struct Port {
  const void* base;          // the port's address: a port is found by it
  size_t elem;               // bytes per element
  unsigned burst[2], outstanding[2];   // [0] read, [1] write: the m_axi pragma's values
  bool range_known;
  size_t range_elems;        // elements from base that the buffer holds
  Queue rq, wq;
  unsigned rbursts, wbursts; // bursts outstanding
  unsigned wcur;             // requests before wq.at(wcur) have all their data
  char* rptr;                // the read request being read (rq.at(0)): next element, elements left
  size_t rleft;
  char* wptr;                // the write request being written (wq.at(wcur)): likewise
  size_t wleft;
};

static const unsigned MAX_PORTS = 32;
struct Call {
  Port ports[MAX_PORTS];
  unsigned n_ports;
  unsigned n_ranges;
  uint64_t range_addr[MAX_PORTS], range_bytes[MAX_PORTS];
  bool dead;
  bool begun;     // harness_emu_call_begin ran for the call about to start
  unsigned live;  // kernel calls running (their Guards alive)
  char error[512];
  alignas(64) unsigned char scratch[4096];   // what a dead port reads and writes
};

// One per thread, allocated on first use; the pointer in initial-exec TLS, so the per-word path reads it
// with one load instead of a __tls_get_addr call (the emulator's seq loops run at memory speed).
inline thread_local Call* tls_call __attribute__((tls_model("initial-exec"))) = nullptr;

inline Call& call() {
  Call* c = tls_call;
  if (__builtin_expect(c == nullptr, 0)) c = tls_call = new Call();
  return *c;
}

inline void fail(const Port* p, const char* fmt, size_t a = 0, size_t b = 0, size_t c = 0) {
  Call& k = call();
  if (k.dead) return;
  k.dead = true;
  for (unsigned i = 0; i < k.n_ports; ++i) {   // off the fast paths: every access now goes to scratch
    k.ports[i].rptr = k.ports[i].wptr = nullptr;
    k.ports[i].rleft = k.ports[i].wleft = 0;
  }
  char what[400];
  snprintf(what, sizeof what, fmt, a, b, c);
  snprintf(k.error, sizeof k.error, "hls::burst_maxi protocol error on the port at %p: %s", p ? p->base : nullptr,
           what);
}

inline Port* find(const void* base) {   // (the per-word path tests ports 0 and 1 first, inline)
  Call& k = call();
  for (unsigned i = 0; i < k.n_ports; ++i)
    if (k.ports[i].base == base) return &k.ports[i];
  return nullptr;
}

// The kernel's entry: (re)start the port's bookkeeping with the pragma's limits.
inline void reset_ports(Call& k) {
  for (unsigned i = 0; i < k.n_ports; ++i) k.ports[i].base = nullptr;   // no stale port is found again
  k.n_ports = 0;
}

inline void declare(const void* base, size_t elem, unsigned rb, unsigned ro, unsigned wb, unsigned wo) {
  Call& k = call();
  if (k.live == 0) {        // a new kernel call: a clean slate (a call not prepared by the worker has no ranges)
    reset_ports(k);
    if (!k.begun) {
      k.dead = false;
      k.error[0] = 0;
      k.n_ranges = 0;
    }
    k.begun = false;
  }
  Port* p = find(base);
  if (!p) {
    if (k.n_ports == MAX_PORTS) {
      fail(nullptr, "more than %zu burst_maxi ports in one call", MAX_PORTS);
      return;
    }
    p = &k.ports[k.n_ports++];
  }
  memset(p, 0, sizeof *p);
  p->base = base;
  p->elem = elem;
  p->burst[0] = rb, p->outstanding[0] = ro, p->burst[1] = wb, p->outstanding[1] = wo;
  for (unsigned i = 0; i < k.n_ranges; ++i)
    if (k.range_addr[i] == (uint64_t)(uintptr_t)base) {
      p->range_known = true;
      p->range_elems = k.range_bytes[i] / elem;
    }
}

inline Port* port(const void* base) {
  Port* p = find(base);
  if (!p) fail(nullptr, "a burst_maxi port used without HLSC_BURST_LIMITS at the kernel's entry");
  return p;
}

inline bool request(Port* p, int dir, size_t offset, size_t len) {
  if (call().dead || !p) return false;
  if (len == 0) {
    fail(p, dir ? "write_request of 0 elements at offset %zu" : "read_request of 0 elements at offset %zu", offset);
    return false;
  }
  if (p->range_known && (offset > p->range_elems || len > p->range_elems - offset)) {
    fail(p, dir ? "write_request of elements %zu..%zu beyond the buffer's %zu elements"
                : "read_request of elements %zu..%zu beyond the buffer's %zu elements",
         offset, offset + len - 1, p->range_elems);
    return false;
  }
  const unsigned b = (unsigned)((len + p->burst[dir] - 1) / p->burst[dir]);
  unsigned& out = dir ? p->wbursts : p->rbursts;
  Queue& q = dir ? p->wq : p->rq;
  if (out + b > p->outstanding[dir] || q.count == Queue::CAP) {
    fail(p, dir ? "write_request would make %zu bursts outstanding; the m_axi pragma allows %zu "
                  "(num_write_outstanding; a request of len elements is ceil(len / %zu) bursts)"
                : "read_request would make %zu bursts outstanding; the m_axi pragma allows %zu "
                  "(num_read_outstanding; a request of len elements is ceil(len / %zu) bursts)",
         out + b, p->outstanding[dir], p->burst[dir]);
    return false;
  }
  out += b;
  Req& r = q.at(q.count++);
  r.offset = offset, r.len = len;
  return true;
}

// read(): the element at the head of the oldest request; a request ends (its bursts no longer
// outstanding) with its last element.
__attribute__((noinline, cold)) inline const void* read_elem(Port* p) {
  Call& k = call();
  if (k.dead || !p) return k.scratch;
  if (!p->rptr) {
    if (p->rq.count == 0) {
      fail(p, "read() with no requested element left: more reads than read_request asked for");
      return k.scratch;
    }
    const Req& r = p->rq.at(0);
    p->rptr = (char*)p->base + r.offset * p->elem;
    p->rleft = r.len;
  }
  const char* at = p->rptr;
  p->rptr += p->elem;
  if (--p->rleft == 0) {
    Queue& q = p->rq;
    p->rbursts -= (unsigned)((q.at(0).len + p->burst[0] - 1) / p->burst[0]);
    q.head = (q.head + 1) % Queue::CAP;
    --q.count;
    p->rptr = nullptr;
  }
  return at;
}

// write(): the next element of the oldest request still owed data (wcur: requests before it have all theirs).
__attribute__((noinline, cold)) inline void* write_elem(Port* p) {
  Call& k = call();
  if (k.dead || !p) return k.scratch;
  if (!p->wptr) {
    if (p->wcur >= p->wq.count) {
      fail(p, "write() with no requested element left: more writes than write_request asked for");
      return k.scratch;
    }
    const Req& r = p->wq.at(p->wcur);
    p->wptr = (char*)p->base + r.offset * p->elem;
    p->wleft = r.len;
  }
  char* at = p->wptr;
  p->wptr += p->elem;
  if (--p->wleft == 0) {
    p->wptr = nullptr;
    ++p->wcur;
  }
  return at;
}

inline void write_response(Port* p) {
  if (call().dead || !p) return;
  Queue& q = p->wq;
  if (q.count == 0) {
    fail(p, "write_response() with no write request left to answer");
    return;
  }
  if (p->wcur == 0) {
    const size_t len = q.at(0).len;
    fail(p, "write_response() for a request still waiting for %zu of its %zu elements (it would never come)",
         p->wptr ? p->wleft : len, len);
    return;
  }
  p->wbursts -= (unsigned)((q.at(0).len + p->burst[1] - 1) / p->burst[1]);
  q.head = (q.head + 1) % Queue::CAP;
  --q.count;
  --p->wcur;
}

// At every return of the kernel: nothing half done.
inline void finish(const void* base) {
  Call& k = call();
  Port* p = find(base);
  if (k.dead || !p) return;
  size_t unread = p->rptr ? p->rleft : 0;   // the request being read is rq.at(0)
  for (unsigned i = p->rptr ? 1 : 0; i < p->rq.count; ++i) unread += p->rq.at(i).len;
  if (unread) {
    fail(p, "the kernel returned with %zu requested elements never read (fewer reads than read_request asked "
            "for; %zu requests open)", unread, p->rq.count);
    return;
  }
  if (p->wq.count) {
    size_t unwritten = p->wptr ? p->wleft : 0;
    for (unsigned i = p->wptr ? p->wcur + 1 : p->wcur; i < p->wq.count; ++i) unwritten += p->wq.at(i).len;
    if (unwritten)
      fail(p, "the kernel returned with %zu requested elements never written (fewer writes than write_request "
              "asked for)", unwritten);
    else
      fail(p, "the kernel returned with %zu write requests whose write_response() was never called", p->wq.count);
  }
}

struct Guard {
  const void* base;
  explicit Guard(const void* b) : base(b) { ++call().live; }
  ~Guard() {
    finish(base);
    --call().live;
  }
};

}  // namespace hlsc_burst

// The emulator's worker: before a call, the address and size of every buffer argument; after it,
// the first violation ("" if none). Weak: one definition in a library of several kernel sources.
extern "C" __attribute__((weak)) void harness_emu_call_begin(unsigned n, const uint64_t* addr,
                                                             const uint64_t* bytes) {
  hlsc_burst::Call& k = hlsc_burst::call();
  hlsc_burst::reset_ports(k);
  k.dead = false;
  k.begun = true;
  k.error[0] = 0;
  k.n_ranges = n < hlsc_burst::MAX_PORTS ? n : hlsc_burst::MAX_PORTS;
  for (unsigned i = 0; i < k.n_ranges; ++i) k.range_addr[i] = addr[i], k.range_bytes[i] = bytes[i];
}

extern "C" __attribute__((weak)) const char* harness_emu_call_error(void) { return hlsc_burst::call().error; }

namespace hls {

template <typename T>
class burst_maxi {
 public:
  T* Ptr;   // the only member: passed like the pointer XRT gives the argument (trivially copyable)

  burst_maxi() = default;
  burst_maxi(T* p) : Ptr(p) {}

  void read_request(size_t offset, size_t len) { hlsc_burst::request(p(), 0, offset, len); }
  void write_request(size_t offset, size_t len) { hlsc_burst::request(p(), 1, offset, len); }
  void write_response() { hlsc_burst::write_response(p()); }

  T read() {
    T v;
    memcpy(static_cast<void*>(&v), hlsc_read_ptr(), sizeof(T));
    return v;
  }
  void write(const T& val, ap_uint<sizeof(T)> byteenable = ~ap_uint<sizeof(T)>(0)) {
    unsigned char* dst = hlsc_write_ptr();
    const unsigned char* src = reinterpret_cast<const unsigned char*>(&val);
    for (size_t i = 0; i < sizeof(T); ++i)
      if (byteenable[i]) dst[i] = src[i];
  }

  // Native only (kernels/common/hls_compat.h's maxi helpers): where the next element is read from /
  // written to, without copying it through a T; what a read/write does besides the copy.
  const unsigned char* hlsc_read_ptr() {
    hlsc_burst::Port* q = p();
    if (__builtin_expect(q != nullptr && q->rleft > 1, 1)) {   // inside a request, not its last element
      --q->rleft;
      const char* at = q->rptr;
      q->rptr += sizeof(T);
      // a few lines ahead: the loop around a read is long, so little else overlaps its memory latency
      __builtin_prefetch(at + 1024);
      return (const unsigned char*)at;
    }
    return (const unsigned char*)hlsc_burst::read_elem(q);
  }
  unsigned char* hlsc_write_ptr() {
    hlsc_burst::Port* q = p();
    if (__builtin_expect(q != nullptr && q->wleft > 1, 1)) {
      --q->wleft;
      char* at = q->wptr;
      q->wptr += sizeof(T);
      return (unsigned char*)at;
    }
    return (unsigned char*)hlsc_burst::write_elem(q);
  }
  // The element at `offset`, outside the protocol: only for the emulator's wrong_index fault.
  T hlsc_peek(size_t offset) const { return Ptr[offset]; }

 private:
  hlsc_burst::Port* p() const {
    hlsc_burst::Call& k = hlsc_burst::call();
    if (k.n_ports > 0 && k.ports[0].base == Ptr) return &k.ports[0];
    if (k.n_ports > 1 && k.ports[1].base == Ptr) return &k.ports[1];
    return hlsc_burst::port(Ptr);
  }
};

}  // namespace hls

#endif  // HLSC_NATIVE_BURST_MAXI_H
