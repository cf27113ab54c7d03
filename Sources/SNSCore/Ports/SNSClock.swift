/// Time for the actors: wall-clock ``Timestamp``s for posts and heartbeats, and sleeping for timers.
/// Deployment uses ``SystemClock``; tests use ``ManualClock`` and move time themselves.
public protocol SNSClock: Sendable {
  /// The current time.
  func now() -> Timestamp
  /// Suspends until `deadline` (or throws `CancellationError` when the task is cancelled).
  func sleep(until deadline: Timestamp) async throws
}

extension SNSClock {
  /// Suspends for `duration` from now.
  public func sleep(for duration: Duration) async throws {
    try await sleep(until: now() + duration)
  }
}
