"""The simulated retailer behind `omni demo` and the benchmarks."""
