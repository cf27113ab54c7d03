import Dispatch
import Foundation
import Synchronization

/// One thread that runs every job of a simulation run, first in, first out. A run executes on it as its
/// task executor preference, and so do the actors it calls (default actors run on the caller's preferred
/// executor) and every child task; so concurrent tasks of a run (several client commands at once, a catch-up
/// page fetched while the last one is stored) interleave in an order fixed by the program alone, and a seed
/// replays the same run. Unstructured tasks would escape it: the code under simulation makes none, and the
/// simulation's own (a call that goes on after its caller gave up) are started on it explicitly.
final class SimulationExecutor: TaskExecutor {
  private struct Queue {
    var jobs: [UnownedJob] = []
    var stopped = false
  }
  private let queue = Mutex(Queue())
  /// Counts jobs queued (and the stop request); the thread waits on it.
  private let signal = DispatchSemaphore(value: 0)

  init(name: String) {
    let thread = Thread { [self] in work() }
    thread.name = name
    thread.start()
  }

  func enqueue(_ job: UnownedJob) {
    queue.withLock { $0.jobs.append(job) }
    signal.signal()
  }

  /// Lets the thread end once the jobs queued so far have run. Jobs enqueued later never run: call it when
  /// the run is over and nothing of it is left to do.
  func stop() {
    queue.withLock { $0.stopped = true }
    signal.signal()
  }

  private func work() {
    while true {
      signal.wait()
      let next = queue.withLock { queue -> UnownedJob?? in
        if !queue.jobs.isEmpty { return .some(queue.jobs.removeFirst()) }
        return queue.stopped ? .none : .some(nil)
      }
      guard let next else { return }
      next?.runSynchronously(on: asUnownedTaskExecutor())
    }
  }

  /// Runs `body` with every job on a thread of its own, and ends the thread afterwards.
  static func run<T: Sendable>(name: String, _ body: (SimulationExecutor) async -> T) async -> T {
    let executor = SimulationExecutor(name: name)
    defer { executor.stop() }
    return await withTaskExecutorPreference(executor) { await body(executor) }
  }
}
