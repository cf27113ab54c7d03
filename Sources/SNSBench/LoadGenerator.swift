import Histogram
import Synchronization

/// Latencies (in microseconds) and counts of one load run.
struct LoadResult: Sendable {
  var concurrency: Int
  var operations: Int
  var errors: Int
  var elapsed: Duration
  var latencies: Histogram<UInt64>
  /// The first error seen, for the report's notes.
  var firstError: String?

  /// Successful operations per second.
  var throughput: Double { elapsed > .zero ? Double(operations) / elapsed.seconds : 0 }
  /// A latency percentile in milliseconds.
  func percentile(_ p: Double) -> Double { Double(latencies.valueAtPercentile(p)) / 1000 }
  var p50: Double { percentile(50) }
  var p99: Double { percentile(99) }
  var p999: Double { percentile(99.9) }

  /// A table row: label, concurrency, ops, ops/s, p50, p99, p99.9 (ms).
  func row(_ label: String) -> [String] {
    [
      label, "\(concurrency)", "\(operations)", BenchFormat.rate(throughput), BenchFormat.milliseconds(p50),
      BenchFormat.milliseconds(p99), BenchFormat.milliseconds(p999),
    ]
  }

  static let columns = ["measurement", "conc", "ops", "ops/s", "p50 ms", "p99 ms", "p99.9 ms"]

  /// Flat metrics under `prefix`.
  func metrics(_ prefix: String) -> [String: Double] {
    [
      "\(prefix).ops_per_s": throughput, "\(prefix).p50_ms": p50, "\(prefix).p99_ms": p99,
      "\(prefix).p999_ms": p999, "\(prefix).errors": Double(errors),
    ]
  }
}

/// A closed-loop load generator: `concurrency` workers, each issuing its next operation as soon as the last
/// one finished, until the duration is over or each worker did `operationsPerWorker`.
enum LoadGenerator {
  /// A worker stops after this many errors in a row (the system under test is gone); bounded loops.
  static let consecutiveErrorLimit = 50

  static func run(
    concurrency: Int, duration: Duration, operationsPerWorker: Int = .max,
    _ operation: @escaping @Sendable (_ worker: Int, _ index: Int) async throws -> Void
  ) async -> LoadResult {
    let clock = ContinuousClock()
    let firstError = Locked<String?>(nil)
    let start = clock.now
    let deadline = start + duration
    let parts = await withTaskGroup(of: (Histogram<UInt64>, Int, Int).self) { group in
      for worker in 0..<concurrency {
        group.addTask {
          var histogram = LoadGenerator.makeHistogram()
          var done = 0
          var errors = 0
          var inARow = 0
          var index = 0
          while index < operationsPerWorker, clock.now < deadline, inARow < consecutiveErrorLimit {
            let began = clock.now
            do {
              try await operation(worker, index)
              let micros = (clock.now - began).milliseconds * 1000
              _ = histogram.record(UInt64(max(1, micros)))
              done += 1
              inARow = 0
            } catch {
              errors += 1
              inARow += 1
              firstError.withLock { $0 = $0 ?? "\(error)" }
            }
            index += 1
          }
          return (histogram, done, errors)
        }
      }
      var merged = LoadGenerator.makeHistogram()
      var operations = 0
      var errors = 0
      for await (histogram, done, failed) in group {
        merged.add(histogram)
        operations += done
        errors += failed
      }
      return (merged, operations, errors)
    }
    return LoadResult(
      concurrency: concurrency, operations: parts.1, errors: parts.2, elapsed: clock.now - start,
      latencies: parts.0, firstError: firstError.value)
  }

  /// Microseconds from 1 µs to 10 minutes, 3 significant digits.
  static func makeHistogram() -> Histogram<UInt64> {
    Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
  }
}

/// A value behind a lock, shareable between tasks.
package final class Locked<Value: Sendable>: Sendable {
  private let mutex: Mutex<Value>
  package init(_ value: Value) { mutex = Mutex(value) }
  package func withLock<R>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
  package var value: Value { mutex.withLock { $0 } }
}
