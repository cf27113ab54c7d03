import SNSCore
import Synchronization

/// A synchronizer's saved progress on the simulated machine: a save is durable when it returns, and a new
/// synchronizer process over the same directory loads what the last one saved.
final class SimulatedProgressStore: SyncProgressStore {
  let saved = Mutex(SyncProgress())

  func load() async throws -> SyncProgress { saved.withLock { $0 } }

  func save(_ changes: SyncProgress.Changes) async throws {
    saved.withLock { $0.apply(changes) }
  }
}
