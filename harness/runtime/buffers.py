"""What a verified repetition does to its buffers besides running the kernel.

- `poison`: make the first bytes of each output buffer, on the device, a 64-bit
  word no correct result takes, so a launch that skips a word cannot pass;
- `fetch_compare`: sync each output from the device and compare it, word for
  word, with the expected words (an array, or IndexWords; each output word XORed
  with the item's key first, 0 by default): (differing words, first differing word)
  per buffer.
  Afterwards the host copy of an output is not to be relied on (Session.from_device
  fetches it): here it holds the output, the emulator's version leaves it as it was.

This generic version uses only the pyxrt 2023.1 surface (map, sync) and numpy,
so it is what runs on the card. The emulator's (harness.runtime.emu_native.BufferOps)
computes the same results on the device copy, in fewer passes over memory, in
native code on every core. Runtime.buffers holds the one that goes with the mode.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IndexWords:
    """Expected words that are their own index (word w is w, n words): a pattern the emulator
    compares against without reading an array for it."""
    n: int

    @property
    def size(self) -> int:
        return self.n

    def array(self):
        import numpy as np
        return np.arange(self.n, dtype=np.uint64)


class BufferOps:
    def __init__(self, xrt):
        self.xrt = xrt

    def poison(self, items: list, word: int) -> None:
        """items: [(bo, nbytes)], nbytes a multiple of 8: those bytes := `word` on host and device."""
        import numpy as np
        to_dev = self.xrt.xclBOSyncDirection.XCL_BO_SYNC_BO_TO_DEVICE
        for b, nbytes in items:
            np.frombuffer(b.map(), np.uint64, count=nbytes // 8)[:] = np.uint64(word)
            b.sync(to_dev, nbytes, 0)

    def fetch_compare(self, items: list) -> list[tuple[int, int]]:
        """items: [(bo, expected uint64 words[, key])]: sync that many bytes from the device, then
        compare each word XOR key with the expected word."""
        import numpy as np
        from_dev = self.xrt.xclBOSyncDirection.XCL_BO_SYNC_BO_FROM_DEVICE
        out = []
        for item in items:
            b, want, key = (*item, 0) if len(item) == 2 else item
            want = want.array() if isinstance(want, IndexWords) else np.asarray(want, dtype=np.uint64).reshape(-1)
            b.sync(from_dev, want.size * 8, 0)
            got = np.frombuffer(b.map(), np.uint64, count=want.size)
            diff = (got ^ np.uint64(key)) != want if key else got != want
            n = int(np.count_nonzero(diff))
            out.append((n, int(np.argmax(diff)) if n else -1))
        return out
