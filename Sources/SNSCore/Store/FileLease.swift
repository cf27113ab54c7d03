import Foundation
import Synchronization

/// A ``SynchronizerLease`` held as `flock(LOCK_EX | LOCK_NB)` on a file in the cluster's data directory:
/// the kernel drops it when the holder dies (kill -9 included), so a standby takes over at its next try.
/// Asking never waits: a holder that is paused keeps the lease, and the standby keeps standing by.
public final class FileLease: SynchronizerLease {
  let path: String
  /// The descriptor holding the lock, once taken; kept open for the life of the process.
  let held = Mutex<Int32?>(nil)

  public init(path: String) {
    self.path = path
  }

  public func acquire() -> Bool {
    held.withLock { held in
      if held != nil { return true }
      let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
      guard descriptor >= 0 else { return false }
      guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
        close(descriptor)
        return false
      }
      held = descriptor
      return true
    }
  }

  deinit {
    if let descriptor = held.withLock({ $0 }) { close(descriptor) }
  }
}
