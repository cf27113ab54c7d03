import Dispatch
import Foundation
import Synchronization

/// A fixed set of dedicated threads for blocking system calls (`flock`, `write`, `fsync`), so that they do not
/// occupy Swift's cooperative pool, which has one thread per core (two on the benchmark machine): a blocked
/// cooperative thread stalls every task of the process, gRPC completions included.
///
/// Not a `DispatchQueue`: on Linux, libdispatch runs blocking work on about one thread per core and adds
/// more only slowly (64 blocks that sleep 100 ms on a concurrent queue took 1.6 s), while fsyncs of different
/// files only merge into one journal commit when they are in flight at the same time.
///
/// Threads start on first use and live as long as the process; jobs run in submission order.
final class BlockingThreads: Sendable {
  private let jobs = Mutex<[@Sendable () -> Void]>([])
  /// Counts submitted jobs not yet taken; each idle thread waits on it.
  private let pending = DispatchSemaphore(value: 0)

  /// Starts `count` threads named `name-<i>` (the name shows in `top -H`, `perf` and debuggers).
  init(name: String, count: Int) {
    for number in 0..<count {
      let thread = Thread { [self] in work() }
      thread.name = "\(name)-\(number)"
      thread.start()
    }
  }

  /// Runs `job` on one of the threads, some time later.
  func submit(_ job: @escaping @Sendable () -> Void) {
    jobs.withLock { $0.append(job) }
    pending.signal()
  }

  /// Runs `body` on one of the threads and returns its result without blocking the caller's thread.
  func run<Result: Sendable>(_ body: @escaping @Sendable () -> Result) async -> Result {
    await withCheckedContinuation { continuation in
      submit { continuation.resume(returning: body()) }
    }
  }

  /// Runs every job concurrently (as far as there are threads) and returns when all have finished. The last
  /// job runs on the calling thread, so a single job (one poster's round) costs no thread switch.
  ///
  /// - Important: Blocks the calling thread: call it from a thread of another ``BlockingThreads`` (never from
  ///   one of these threads, which could then wait for jobs queued behind itself, nor from a task).
  func performAll(_ all: [@Sendable () -> Void]) {
    guard let last = all.last else { return }
    let group = DispatchGroup()
    for job in all.dropLast() {
      group.enter()
      submit {
        job()
        group.leave()
      }
    }
    last()
    group.wait()
  }

  private func work() -> Never {
    while true {
      pending.wait()
      // One job per signal, so the array holds at least one here.
      let job = jobs.withLock { $0.isEmpty ? nil : $0.removeFirst() }
      job?()
    }
  }
}
