import Foundation
import SNSTestSupport
import Synchronization
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

  @Test("reads waiting for a locked file leave the cooperative pool free: other tasks of the process go on")
  func waitingReadsDoNotStallTheProcess() async throws {
    try await withTemporaryDirectory { root in
      let writer = try FileContextStore(directory: root, logger: quietLogger)
      try await writer.append([PlacedRecord(.user(user(7)), in: .users)])
      // A store that has not read the file yet must take its shared lock, which the other holder refuses.
      let store = try FileContextStore(directory: root, logger: quietLogger)
      let other = open("\(root)/users", O_RDWR | O_CLOEXEC)
      try #require(other >= 0)
      #expect(flock(other, LOCK_EX) == 0)
      // More waiting reads than the pool has threads (one per core).
      let readers = 2 * ProcessInfo.processInfo.activeProcessorCount
      let ticks = TickCount()
      try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<readers {
          group.addTask { _ = try? await store.records(in: .users) }
        }
        // A task that only needs a thread now and then, as heartbeats and gRPC calls do. Waiting reads that
        // hold the pool's threads leave it none until they give up, after the lock wait.
        let ticker = Task {
          while !Task.isCancelled {
            ticks.add()
            try? await Task.sleep(for: .milliseconds(10))
          }
        }
        try await Task.sleep(for: OpenContextFile.lockWait / 2)
        let seen = ticks.value
        ticker.cancel()
        close(other)
        try await group.waitForAll()
        // Half a lock wait holds 250 ticks of 10 ms. A stalled pool lets through the first one or two (until the
        // readers hold every thread); a free one, even on a loaded machine sharing it with other tests, dozens.
        #expect(seen >= 5, "the ticker ran \(seen) times while \(readers) reads waited for the lock")
      }
    }
  }

  @Test("a read waiting for a file another holder keeps locked does not hold up reads of other files")
  func waitingReadLeavesOtherFilesReadable() async throws {
    try await withTemporaryDirectory { root in
      let post = PlacedRecord(
        .post(
          Post(
            id: PostID(author: user(1), sequence: 1), time: Timestamp(milliseconds: 1), text: text("a post"))),
        in: .timeline(user(1)))
      try await FileContextStore(directory: root, logger: quietLogger).append([
        PlacedRecord(.user(user(1)), in: .users), post,
      ])
      // Nothing cached yet: both reads go to the files.
      let store = try FileContextStore(directory: root, logger: quietLogger)
      let other = open("\(root)/1.timeline", O_RDWR | O_CLOEXEC)
      try #require(other >= 0)
      #expect(flock(other, LOCK_EX) == 0)
      let waitingReadEnded = Flag()
      let waiting = Task {
        _ = try? await store.records(in: .timeline(user(1)), after: .start)
        waitingReadEnded.set()
      }
      try await Task.sleep(for: .milliseconds(200))
      let users = try await store.records(in: .users, after: .start)
      #expect(users.records == [.user(user(1))])
      #expect(!waitingReadEnded.isSet, "the read of the users file waited for the locked timeline's read")
      close(other)
      await waiting.value
    }
  }
}

/// A counter tasks can share.
final class TickCount: Sendable {
  private let count = Mutex(0)
  func add() { count.withLock { $0 += 1 } }
  var value: Int { count.withLock { $0 } }
}
