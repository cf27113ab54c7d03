import Dispatch
import Foundation
import SNSTestSupport
import Synchronization
import Testing

@testable import SNSCore

/// What a group-commit round does while it waits for its fsyncs: it holds no store-wide lock, syncs its files
/// concurrently, and cuts a file back when its fsync fails. Each test holds or fails the sync through the
/// store's durability barrier, so nothing depends on timing; every wait is bounded.
@Suite("FileContextStore group-commit rounds")
struct FileContextStoreRoundTests {
  typealias Fixtures = FileContextStoreTests

  /// How long a blocked barrier or a test waits before giving up: far longer than any step takes, so
  /// reaching it means the awaited thing could not happen (as with the old design, where a read waited for
  /// the round's lock while the round waited for the test).
  static let patience = 20

  /// Reads of this store go on while a round is blocked in its fsync, and show the files as before the round
  /// (also the stamp, so a timeline watcher does not skip the round's lines); the append returns after.
  @Test func readsGoOnWhileARoundWaitsForItsSync() async throws {
    try await Fixtures.withTemporaryDirectory { directory in
      let gate = SyncGate()
      let store = try FileContextStore(
        directory: directory, logger: LogRecorder().logger, durabilityBarrier: gate.barrier)
      let file = Fixtures.timeline(1)
      let other = Fixtures.timeline(2)
      let first = Fixtures.post(1, 1)
      let second = Fixtures.post(1, 2)
      let elsewhere = Fixtures.post(2, 1)
      try await store.append([PlacedRecord(first, in: file), PlacedRecord(elsewhere, in: other)])
      let before = try await store.stamp(of: file)

      gate.arm()
      async let appending = store.append([PlacedRecord(second, in: file)])
      #expect(await gate.nextArrival(within: Self.patience) == file)
      // The round is inside its sync now, holding the file's LOCK_EX.
      #expect(try await store.records(in: file) == [first])
      #expect(try await store.records(in: other) == [elsewhere])
      let (records, next) = try await store.records(in: file, after: .start)
      #expect(records == [first])
      #expect(next == FilePosition(offset: Int64(Fixtures.line(first).count)))
      #expect(try await store.stamp(of: file) == before)
      gate.release()

      #expect(try await appending == [PlacedRecord(second, in: file)])
      #expect(!gate.timedOut)
      #expect(try await store.records(in: file) == [first, second])
      #expect(try await store.stamp(of: file) != before)
      let witness = try FileContextStore(directory: directory, logger: LogRecorder().logger)
      #expect(try await witness.records(in: file) == [first, second])
    }
  }

  /// The fsyncs of one round's files are in flight together: each file's barrier waits until every file's
  /// has been reached, which fsyncs one after another would never do.
  @Test func theFilesOfARoundAreSyncedConcurrently() async throws {
    try await Fixtures.withTemporaryDirectory { directory in
      let files = (1...3).map(Fixtures.timeline)
      let rendezvous = Rendezvous(count: files.count, patience: Self.patience)
      let store = try FileContextStore(
        directory: directory, logger: LogRecorder().logger, durabilityBarrier: rendezvous.arrive)
      let records = files.enumerated().map { PlacedRecord(Fixtures.post($0.offset + 1, 1), in: $0.element) }
      #expect(try await store.append(records) == records)
      #expect(!rendezvous.timedOut)
      #expect(store.commitStatistics.fileSyncs == files.count)
    }
  }

  /// A file whose fsync fails is cut back to where it was before the round (still under its lock), and the
  /// append gets the error; the round's other file stays durable, and a retry appends only what is missing.
  @Test func aFailedSyncCutsItsFileBackAndFailsTheAppend() async throws {
    try await Fixtures.withTemporaryDirectory { directory in
      let failing = Fixtures.timeline(2)
      let failure = SNSError.storage("injected fsync failure")
      let armed = Mutex(true)
      let logs = LogRecorder()
      let store = try FileContextStore(directory: directory, logger: logs.logger) { file throws(SNSError) in
        if file == failing, armed.withLock({ $0 }) { throw failure }
      }
      let kept = PlacedRecord(Fixtures.post(1, 1), in: Fixtures.timeline(1))
      let cut = PlacedRecord(Fixtures.post(2, 1), in: failing)

      await #expect(throws: failure) { try await store.append([kept, cut]) }
      #expect(Fixtures.bytes(store.path(of: failing)) == [])
      #expect(logs.messages(atLeast: .warning).contains { $0.contains("removed its") })
      #expect(try await store.records(in: failing) == [])
      #expect(try await store.records(in: kept.file) == [kept.record])

      armed.withLock { $0 = false }
      #expect(try await store.append([kept, cut]) == [cut])
      let witness = try FileContextStore(directory: directory, logger: LogRecorder().logger)
      #expect(try await witness.records(in: failing) == [cut.record])
    }
  }
}

/// Holds a round in its sync (once armed) until the test releases it, and tells the test when it got there.
final class SyncGate: Sendable {
  private let arrivals: AsyncStream<ContextFile>
  private let continuation: AsyncStream<ContextFile>.Continuation
  private let released = DispatchSemaphore(value: 0)
  private let armed = Mutex(false)
  private let gaveUp = Mutex(false)

  init() {
    (arrivals, continuation) = AsyncStream.makeStream()
  }

  /// Whether a held sync stopped waiting because the test never released it.
  var timedOut: Bool { gaveUp.withLock { $0 } }

  /// From now on, the next sync waits for ``release()``.
  func arm() { armed.withLock { $0 = true } }

  func release() { released.signal() }

  /// The barrier: runs on a sync thread, so it may block (boundedly).
  @Sendable func barrier(_ file: ContextFile) {
    guard
      armed.withLock({ armed in
        defer { armed = false }; return armed
      })
    else { return }
    continuation.yield(file)
    let deadline = DispatchTime.now() + .seconds(FileContextStoreRoundTests.patience)
    if released.wait(timeout: deadline) == .timedOut { gaveUp.withLock { $0 = true } }
  }

  /// The file of the next held sync, or `nil` if none arrives within `seconds`.
  func nextArrival(within seconds: Int) async -> ContextFile? {
    await withTaskGroup(of: ContextFile?.self) { group in
      group.addTask { [arrivals] in await arrivals.first { _ in true } }
      group.addTask {
        try? await Task.sleep(for: .seconds(seconds))
        return nil
      }
      let first = await group.next() ?? nil
      group.cancelAll()
      return first
    }
  }
}

/// A barrier that lets syncs through only once `count` of them wait at the same time.
final class Rendezvous: Sendable {
  private let count: Int
  private let patience: Int
  private let arrived = Mutex(0)
  private let everyone = DispatchSemaphore(value: 0)
  private let gaveUp = Mutex(false)

  init(count: Int, patience: Int) {
    self.count = count
    self.patience = patience
  }

  /// Whether some sync stopped waiting for the others.
  var timedOut: Bool { gaveUp.withLock { $0 } }

  @Sendable func arrive(_ file: ContextFile) {
    let number = arrived.withLock { arrived in
      arrived += 1
      return arrived
    }
    if number == count {
      for _ in 1..<count { everyone.signal() }
    } else if everyone.wait(timeout: .now() + .seconds(patience)) == .timedOut {
      gaveUp.withLock { $0 = true }
    }
  }
}
