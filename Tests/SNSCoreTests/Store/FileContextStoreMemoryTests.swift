import Foundation
import SNSTestSupport
import Testing

@testable import SNSCore

/// What a store keeps in memory: the files used last, within a budget, and nothing of a history it only
/// opened.
@Suite("FileContextStore memory")
struct FileContextStoreMemoryTests {
  typealias Fixture = FileContextStoreTests

  static func posts(of user: Int, count: Int) -> [PlacedRecord] {
    (1...count).map { PlacedRecord(Fixture.post(user, UInt64($0)), in: Fixture.timeline(user)) }
  }

  @Test("a store over many files holds no more than its budget, and reads and idempotence stay exact")
  func cachedRecordsStayWithinTheBudget() async throws {
    try await Fixture.withTemporaryDirectory { directory in
      let budget = 32 << 10
      let users = 1...120
      let perUser = 20
      let store = try FileContextStore(
        directory: directory, logger: LogRecorder().logger, cacheBudget: budget)
      // One file's worth of records may sit above the budget: the file in use is never forgotten.
      let oneFile = perUser * (FileCache.bytesPerRecord + Fixture.line(Fixture.post(1, 1)).count + 8)
      for user in users {
        _ = try await store.append(Self.posts(of: user, count: perUser))
        #expect(store.cacheUsage.bytes <= budget + oneFile, "after appending for user \(user)")
      }
      #expect(store.cacheUsage.files < users.count)

      for user in users {
        let expected = Self.posts(of: user, count: perUser).map(\.record)
        #expect(try await store.records(in: Fixture.timeline(user)) == expected, "user \(user)")
        #expect(store.cacheUsage.bytes <= budget + oneFile, "after reading user \(user)")
      }

      // A forgotten file's keys are read from disk again: appending its records again writes nothing.
      let before = try users.map {
        try Data(contentsOf: URL(fileURLWithPath: store.path(of: Fixture.timeline($0))))
      }
      for user in users {
        #expect(try await store.append(Self.posts(of: user, count: perUser + 1)).count == 1, "user \(user)")
      }
      for user in users {
        let path = store.path(of: Fixture.timeline(user))
        let after = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(after.prefix(before[user - 1].count) == before[user - 1], "user \(user)")
        #expect(try await store.records(in: Fixture.timeline(user)).count == perUser + 1, "user \(user)")
      }
      #expect(store.cacheUsage.bytes <= budget + oneFile)
    }
  }

  @Test("an append to a file whose records were forgotten reads only what others appended since")
  func appendingToAForgottenFileKeepsItForgotten() async throws {
    try await Fixture.withTemporaryDirectory { directory in
      let store = try FileContextStore(
        directory: directory, logger: LogRecorder().logger, cacheBudget: 16 << 10)
      for user in 1...40 {
        _ = try await store.append(Self.posts(of: user, count: 20))
      }
      let forgotten = store.cacheUsage
      #expect(forgotten.files < 40)
      // Another process appends to user 1's file meanwhile; this store sees those keys too.
      let other = try FileContextStore(directory: directory, logger: LogRecorder().logger)
      _ = try await other.append([PlacedRecord(Fixture.post(1, 21), in: Fixture.timeline(1))])

      let again = Self.posts(of: 1, count: 22)
      #expect(try await store.append(again) == [again[21]])
      #expect(store.cacheUsage.bytes <= forgotten.bytes, "the file was not read back into the cache")
      #expect(try await store.records(in: Fixture.timeline(1)) == again.map(\.record))
      #expect(try await store.append(again) == [])
    }
  }

  @Test("a read while a round holds a forgotten file locked serves its acknowledged records")
  func readingAForgottenFileDuringItsRound() async throws {
    try await Fixture.withTemporaryDirectory { directory in
      let gate = SyncGate()
      let store = try FileContextStore(
        directory: directory, logger: LogRecorder().logger, durabilityBarrier: gate.barrier, cacheBudget: 0)
      let file = Fixture.timeline(1)
      let first = Self.posts(of: 1, count: 3)
      _ = try await store.append(first)
      _ = try await store.append(Self.posts(of: 2, count: 3))
      #expect(store.cacheUsage.files == 1, "user 1's records were forgotten")

      gate.arm()
      let next = PlacedRecord(Fixture.post(1, 4), in: file)
      async let appending = store.append([next])
      #expect(await gate.nextArrival(within: FileContextStoreRoundTests.patience) == file)
      #expect(try await store.records(in: file) == first.map(\.record))
      #expect(try await store.records(in: file, after: .start).records == first.map(\.record))
      gate.release()
      #expect(try await appending == [next])
      #expect(try await store.records(in: file) == (first + [next]).map(\.record))
    }
  }

  @Test("a key summary answers exactly as the set of keys it was given")
  func keySummaryMatchesASet() {
    var generator = SystemRandomNumberGenerator()
    var summary = KeySummary()
    var model: Set<RecordKey> = []
    var records: [ContextRecord] = []
    for _ in 0..<3_000 {
      let author = Int.random(in: 1...4, using: &generator)
      let sequence = UInt64.random(in: 1...300, using: &generator)
      let record: ContextRecord =
        switch Int.random(in: 0..<3, using: &generator) {
        case 0: Fixture.post(author, sequence)
        case 1: .following(Fixture.follow(author, author + 1, sequence))
        default: .user(Fixture.user(Int(sequence)))
        }
      records.append(record)
      #expect(summary.contains(record) == model.contains(record.key), "\(record.key)")
      summary.insert(record)
      model.insert(record.key)
    }
    for record in records { #expect(summary.contains(record)) }
    for sequence in 301...310 { #expect(!summary.contains(Fixture.post(1, UInt64(sequence)))) }
  }

  @Test(
    "opening a directory reads only the end of each file: nothing is cached, middle damage is left to reads")
  func openingChecksOnlyTails() async throws {
    try await Fixture.withTemporaryDirectory { directory in
      let writer = try FileContextStore(directory: directory, logger: LogRecorder().logger)
      for user in 1...30 {
        _ = try await writer.append(Self.posts(of: user, count: 50))
      }
      // A damaged line in the middle of one file: found by the read that passes it, not at open.
      let damaged = writer.path(of: Fixture.timeline(7))
      var bytes = Fixture.bytes(damaged)
      bytes[Fixture.line(Fixture.post(7, 1)).count + 12] ^= 0x20
      try Fixture.write(bytes, to: damaged)

      let logs = LogRecorder()
      let reopened = try FileContextStore(directory: directory, logger: logs.logger)
      #expect(reopened.cacheUsage.files == 0)
      #expect(reopened.cacheUsage.bytes == 0)
      #expect(logs.messages(atLeast: .warning).isEmpty)

      #expect(try await reopened.records(in: Fixture.timeline(7)).count == 49)
      #expect(logs.messages(atLeast: .error).count == 1)
      #expect(Fixture.bytes(damaged) == bytes, "middle damage is never cut")
    }
  }

  @Test("a torn or corrupt last line is cut when the directory opens, also after a line longer than a page")
  func openingCutsDamagedTails() async throws {
    try await Fixture.withTemporaryDirectory { directory in
      let long = try PostText(String(repeating: "x", count: 20_000), limits: PostLimits(maximumBytes: 20_000))
      let longPost = ContextRecord.post(
        Post(id: PostID(author: Fixture.user(1), sequence: 2), time: Timestamp(milliseconds: 1), text: long))
      let intact = Fixture.line(Fixture.post(1, 1)) + Fixture.line(longPost)
      let torn = Fixture.timeline(1)
      try Fixture.write(
        intact + Array(Fixture.line(Fixture.post(1, 3)).dropLast(5)), to: "\(directory)/\(torn.fileName)")
      // A whole last line whose checksum fails, after a line longer than the first window read.
      var corrupt = Fixture.line(longPost)
      corrupt[corrupt.count - 3] ^= 0x01
      let corrupted = Fixture.timeline(2)
      let kept = Fixture.line(Fixture.post(2, 1)) + Fixture.line(longPost)
      try Fixture.write(kept + corrupt, to: "\(directory)/\(corrupted.fileName)")
      // A long intact last line is not damage.
      let whole = Fixture.timeline(3)
      try Fixture.write(Fixture.line(longPost), to: "\(directory)/\(whole.fileName)")

      let logs = LogRecorder()
      let store = try FileContextStore(directory: directory, logger: logs.logger)
      // Cut before anything was read through the store.
      #expect(Fixture.bytes("\(directory)/\(torn.fileName)") == intact)
      #expect(Fixture.bytes("\(directory)/\(corrupted.fileName)") == kept)
      #expect(Fixture.bytes("\(directory)/\(whole.fileName)") == Fixture.line(longPost))
      #expect(logs.messages(atLeast: .warning).count == 2)
      #expect(try await store.records(in: whole) == [longPost])
    }
  }
}
