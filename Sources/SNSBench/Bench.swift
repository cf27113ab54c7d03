/// Benchmark scenarios (see `sns bench`).
public enum BenchPlaceholder {}
