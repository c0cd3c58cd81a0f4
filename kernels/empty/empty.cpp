// nop -- the empty kernel for dispatch-latency measurements.
//
// Kernel name (v++ -k, XRT): nop.  (Not "empty", to avoid clashing with
// anything of that name in the natively built shared library.)  No arguments;
// only the s_axilite control interface (ap_ctrl_chain start/done), so a run
// measures XRT + PCIe + control-register round trip only.
#include "hls_compat.h"

extern "C" void nop() {
#pragma HLS INTERFACE s_axilite port=return
}
