"""The benches as library code: a typed plan in, verified samples out (harness.results writes them)."""

# At least this many empty-kernel launches on a card, so the p99 of the launch cost means something.
MIN_HW_LAUNCHES = 1000
