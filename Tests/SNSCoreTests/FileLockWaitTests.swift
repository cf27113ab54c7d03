import Foundation
import SNSTestSupport
import Testing

@testable import SNSCore

/// Another process holding a context file's lock (paused, stuck) makes a call fail after a bounded wait,
/// with a clear error, instead of freezing the caller.
@Suite("Bounded lock waits")
struct FileLockWaitTests {
  @Test("an append to a file another holder keeps locked fails after the wait; then works once it is free")
  func appendGivesUp() async throws {
    try await withTemporaryDirectory { root in
      let store = try FileContextStore(directory: root, logger: quietLogger)
      let record = PlacedRecord(.user(user(7)), in: .users)
      // The other holder: a descriptor of its own (flock locks belong to the open file description).
      let other = open("\(root)/users", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
      try #require(other >= 0)
      #expect(flock(other, LOCK_EX) == 0)
      let started = ContinuousClock.now
      await #expect {
        try await store.append([record])
      } throws: { error in
        "\(error)".contains("stayed locked by another process")
      }
      #expect(ContinuousClock.now - started >= OpenContextFile.lockWait)
      close(other)
      #expect(try await store.append([record]) == [record])
    }
  }
}
