// A kernel that breaks the hls::burst_maxi protocol in the way `misuse` selects (0: keeps it), for
// tests/test_burst_protocol.py: the native hls_burst_maxi.h must refuse each mistake.
// Ports of 4-beat bursts, 2 outstanding; n: words per request (1..8).
#include <hls_burst_maxi.h>
#include "hls_compat.h"

typedef hls::burst_maxi<ap_uint<512> > port_t;

extern "C" void burst_misuse(port_t in, port_t out, unsigned misuse, unsigned n, unsigned words) {
  HLSC_BURST_LIMITS(in, 4, 2, 4, 2)
  HLSC_BURST_LIMITS(out, 4, 2, 4, 2)
  ap_uint<512> acc = 0;
  switch (misuse) {
    case 0:   // correct: read n words, write them back + 1, two requests of each in flight
      in.read_request(0, n);
      in.read_request(0, n);
      for (unsigned i = 0; i < 2 * n; ++i) acc += in.read();
      out.write_request(0, n);
      out.write_request(0, n);
      for (unsigned i = 0; i < 2 * n; ++i) out.write(acc + i);
      out.write_response();
      out.write_response();
      return;
    case 1:   // reads more words than requested
      in.read_request(0, n);
      for (unsigned i = 0; i <= n; ++i) acc += in.read();
      return;
    case 2:   // reads fewer
      in.read_request(0, n);
      for (unsigned i = 0; i + 1 < n; ++i) acc += in.read();
      return;
    case 3:   // a write_response with no write_request
      out.write_response();
      return;
    case 4:   // writes fewer words than requested, then waits for the response
      out.write_request(0, n);
      for (unsigned i = 0; i + 1 < n; ++i) out.write(i);
      out.write_response();
      return;
    case 5:   // writes more
      out.write_request(0, n);
      for (unsigned i = 0; i <= n; ++i) out.write(i);
      out.write_response();
      return;
    case 6:   // never collects the write response
      out.write_request(0, n);
      for (unsigned i = 0; i < n; ++i) out.write(i);
      return;
    case 7:   // a request past the end of the buffer (`words` long)
      in.read_request(words - n + 1, n);
      for (unsigned i = 0; i < n; ++i) acc += in.read();
      return;
    case 8:   // three requests of n <= 4 words in flight: 3 bursts, 2 allowed
      for (unsigned q = 0; q < 3; ++q) in.read_request(0, n);
      for (unsigned i = 0; i < 3 * n; ++i) acc += in.read();
      return;
    case 9:   // one request of 3 bursts (n > 8 words)
      in.read_request(0, n);
      for (unsigned i = 0; i < n; ++i) acc += in.read();
      return;
    case 10:  // a request of no words
      in.read_request(0, 0);
      return;
    case 11:  // three writes requests in flight
      for (unsigned q = 0; q < 3; ++q) out.write_request(0, n);
      for (unsigned i = 0; i < 3 * n; ++i) out.write(i);
      for (unsigned q = 0; q < 3; ++q) out.write_response();
      return;
  }
}
