import Synchronization

/// Accepted calls waiting for `run()`; one consumer.
final class AcceptedCalls: Sendable {
  private struct State {
    var calls: [ServerCallRunner] = []
    var finished = false
    var waiter: CheckedContinuation<ServerCallRunner?, Never>?
  }
  private let state = Mutex(State())

  func push(_ call: ServerCallRunner) {
    let waiter = state.withLock { state in
      guard let waiter = state.waiter else {
        state.calls.append(call)
        return nil as CheckedContinuation<ServerCallRunner?, Never>?
      }
      state.waiter = nil
      return waiter
    }
    waiter?.resume(returning: call)
  }

  /// No call will be pushed any more; `next()` returns nil once the queued ones are taken.
  func finish() {
    let waiter = state.withLock { state in
      state.finished = true
      defer { state.waiter = nil }
      return state.waiter
    }
    waiter?.resume(returning: nil)
  }

  /// The next accepted call, or nil once finished. Not cancellable: shutdown, not cancellation, ends it.
  func next() async -> ServerCallRunner? {
    await withCheckedContinuation { continuation in
      let ready: ServerCallRunner?? = state.withLock { state in
        if !state.calls.isEmpty { return .some(state.calls.removeFirst()) }
        if state.finished { return .some(nil) }
        state.waiter = continuation
        return .none
      }
      if let ready { continuation.resume(returning: ready) }
    }
  }
}
