import Synchronization

/// A clock that moves only when told to: tests and simulations advance it and sleepers wake in deadline order.
public final class ManualClock: SNSClock {
  struct Sleeper {
    let id: UInt64
    let deadline: Timestamp
    let continuation: CheckedContinuation<Void, Error>
  }
  struct State {
    var now: Timestamp
    var nextID: UInt64 = 0
    var sleepers: [Sleeper] = []
  }
  let state: Mutex<State>

  public init(start: Timestamp = Timestamp(milliseconds: 1_700_000_000_000)) {
    state = Mutex(State(now: start))
  }

  public func now() -> Timestamp { state.withLock { $0.now } }

  /// Moves time forward and wakes every sleeper whose deadline has come.
  public func advance(by duration: Duration) {
    let due = state.withLock { state -> [Sleeper] in
      state.now = state.now + duration
      let now = state.now
      let due = state.sleepers.filter { $0.deadline <= now }.sorted {
        ($0.deadline, $0.id) < ($1.deadline, $1.id)
      }
      state.sleepers.removeAll { $0.deadline <= now }
      return due
    }
    for sleeper in due { sleeper.continuation.resume() }
  }

  /// How many tasks are sleeping on this clock.
  public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

  public func sleep(until deadline: Timestamp) async throws {
    let id = state.withLock { state -> UInt64 in
      state.nextID += 1
      return state.nextID
    }
    try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
        let resumeNow = state.withLock { state -> Bool in
          if deadline <= state.now || Task.isCancelled { return true }
          state.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
          return false
        }
        if resumeNow { continuation.resume() }
      }
      try Task.checkCancellation()
    } onCancel: {
      let sleeper = state.withLock { state -> Sleeper? in
        guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
        return state.sleepers.remove(at: index)
      }
      sleeper?.continuation.resume(throwing: CancellationError())
    }
  }
}
