// emu_faults.h -- deliberate mistakes the emulator can switch on inside a kernel, so the
// tests can show that the host's verification catches each one (README "What is checked").
//
// Compiled in only when HARNESS_EMU_FAULTS=1, which only the emulator's native build passes
// (harness/designs/native.py, with -funswitch-loops so the loop-invariant fault tests leave
// the hot loops and a fault-free call runs at the plain build's speed, bit-identical).
// Under Vitis (synthesis and C simulation) and in every other build each macro below is a
// constant or the identity: no variable, no branch, no symbol.
//
// In a kernel source:
//   EMU_FAULT_KERNEL(name, mask)  file scope, once per kernel: the selector the emulator sets
//                                 before each call (extern "C" int harness_emu_fault_<name>)
//                                 and the faults this kernel implements (harness_emu_faults_<name>,
//                                 bit 1 << code); the emulator refuses any other.
//   EMU_FAULT_ENTRY(name)         first statement of the kernel body: reads the selector once.
//   EMU_FAULT(CODE)               true when fault EMU_FAULT_<CODE> is on for this call.
//   EMU_FAULT_OPERAND(x)          x, or x rounded to the precision an OPERANDS_* fault names.
//   EMU_FAULT_ACCUMULATOR(acc)    statement: rounds acc to fp16 under ACCUMULATE_FP16.
//
// The codes, with the HARNESS_EMU_FAULT spec that selects each; harness/runtime/emulator.py
// reads this table (the `// spec` comment) so the two cannot disagree.  What each fault does
// in a kernel is documented at its hooks and in the kernel's README.
#ifndef EMU_FAULTS_H
#define EMU_FAULTS_H

#define EMU_FAULT_OPERANDS_FP16    1   // operands:fp16
#define EMU_FAULT_OPERANDS_BF16    2   // operands:bf16
#define EMU_FAULT_OPERANDS_TF32    3   // operands:tf32
#define EMU_FAULT_ACCUMULATE_FP16  4   // accumulate:fp16
#define EMU_FAULT_SKIP_WORD        5   // skip_word
#define EMU_FAULT_STALE_REP        6   // stale_rep
#define EMU_FAULT_WRONG_INDEX      7   // wrong_index

#define EMU_FAULT_BIT(CODE) (1u << EMU_FAULT_##CODE)
#define EMU_FAULTS_PRECISION                                                           \
  (EMU_FAULT_BIT(OPERANDS_FP16) | EMU_FAULT_BIT(OPERANDS_BF16) | EMU_FAULT_BIT(OPERANDS_TF32) | \
   EMU_FAULT_BIT(ACCUMULATE_FP16))
#define EMU_FAULTS_MEMORY \
  (EMU_FAULT_BIT(SKIP_WORD) | EMU_FAULT_BIT(STALE_REP) | EMU_FAULT_BIT(WRONG_INDEX))

#if defined(HARNESS_EMU_FAULTS) && HARNESS_EMU_FAULTS && \
    !defined(__SYNTHESIS__) && !defined(__VITIS_HLS__)

#include <stdint.h>
#include <string.h>

#define EMU_FAULT_KERNEL(name, mask)                                                     \
  extern "C" {                                                                           \
  int harness_emu_fault_##name = 0;                                                      \
  extern const unsigned harness_emu_faults_##name; /* const alone would be internal */  \
  const unsigned harness_emu_faults_##name = (mask);                                     \
  }
#define EMU_FAULT_ENTRY(name) const int emu_fault_ = harness_emu_fault_##name;
#define EMU_FAULT(CODE) (emu_fault_ == EMU_FAULT_##CODE)
#define EMU_FAULT_OPERAND(x) emu_fault_operand((x), emu_fault_)
#define EMU_FAULT_ACCUMULATOR(acc) \
  do { if (emu_fault_ == EMU_FAULT_ACCUMULATE_FP16) acc = emu_fault_fp16(acc); } while (0)

// float -> float with `keep` mantissa bits, round to nearest even, fp32 exponent range.
static inline float emu_fault_keep_bits(float x, int keep) {
  uint32_t u;
  memcpy(&u, &x, 4);
  const int drop = 23 - keep;
  u = (u + ((1u << (drop - 1)) - 1) + ((u >> drop) & 1u)) & ~((1u << drop) - 1);
  memcpy(&x, &u, 4);
  return x;
}
static inline float emu_fault_fp16(float x) { return (float)(_Float16)x; }
template <class T> static inline T emu_fault_fp16(const T& x) { return x; }   // integer accumulators

static inline float emu_fault_operand(float x, int fault) {
  switch (fault) {
    case EMU_FAULT_OPERANDS_FP16: return emu_fault_fp16(x);           // binary16: 10 bits, its range
    case EMU_FAULT_OPERANDS_BF16: return emu_fault_keep_bits(x, 7);   // bfloat16
    case EMU_FAULT_OPERANDS_TF32: return emu_fault_keep_bits(x, 10);  // TensorFloat-32
    default: return x;
  }
}
template <class T> static inline T emu_fault_operand(const T& x, int) { return x; }   // integers

#else   // Vitis, and every build but the emulator's: no hooks at all

#define EMU_FAULT_KERNEL(name, mask)
#define EMU_FAULT_ENTRY(name)
#define EMU_FAULT(CODE) false
#define EMU_FAULT_OPERAND(x) (x)
#define EMU_FAULT_ACCUMULATOR(acc) do { } while (0)

#endif
#endif  // EMU_FAULTS_H
