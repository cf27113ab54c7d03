import Synchronization

/// A thread-safe boolean, for observing from a test what a handler or task did.
package final class Flag: Sendable {
  private let value = Mutex(false)
  package init() {}
  package func set() { value.withLock { $0 = true } }
  package var isSet: Bool { value.withLock { $0 } }
}

extension Flag {
  /// Waits until the flag is set, at most `timeout`; whether it was.
  package func wait(within timeout: Duration) async -> Bool {
    await eventually(within: timeout, every: .milliseconds(10)) { isSet }
  }
}
