import Foundation
import Logging
import SNSTestSupport
import Testing

@testable import SNSCore

/// Torn files cut anywhere, and group commit: the durability promises of docs/RELIABILITY.md.
@Suite("FileContextStore durability")
struct FileContextStoreDurabilityTests {
  typealias Fixtures = FileContextStoreTests

  /// A crash can stop a file at any byte. Cutting a file at every byte offset of a *middle* record (the rest
  /// of the file is gone, so that record becomes the torn tail) reopens with exactly the whole records
  /// before the cut, logs the cut, and the file on disk ends at the last whole record.
  @Test func cutAtEveryOffsetOfAMiddleRecordKeepsExactlyTheWholeRecordsBefore() async throws {
    try await Fixtures.withTemporaryDirectory { root in
      let file = Fixtures.timeline(1)
      let records = (1...5).map { Fixtures.post(1, UInt64($0), "middle ✓ \($0)") }
      let lines = records.map(Fixtures.line)
      let original = lines.flatMap { $0 }
      let middle = 2
      let middleStart = lines[..<middle].reduce(0) { $0 + $1.count }
      let middleEnd = middleStart + lines[middle].count

      for cut in middleStart...middleEnd {
        let directory = "\(root)/cut-\(cut)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = "\(directory)/\(file.fileName)"
        try Fixtures.write(Array(original.prefix(cut)), to: path)

        let logs = LogRecorder()
        let store = try FileContextStore(directory: directory, logger: logs.logger)
        let whole = cut == middleEnd ? middle + 1 : middle
        #expect(try await store.records(in: file) == Array(records.prefix(whole)), "cut at \(cut)")
        let kept = cut == middleEnd ? middleEnd : middleStart
        #expect(Fixtures.bytes(path) == Array(original.prefix(kept)), "cut at \(cut)")
        let warnings = logs.messages(atLeast: .warning)
        #expect(
          warnings.count == (cut == middleStart || cut == middleEnd ? 0 : 1), "cut at \(cut): \(warnings)")

        // Writers that retry what was not acknowledged restore the file byte for byte.
        try await store.append(records.map { PlacedRecord($0, in: file) })
        #expect(Fixtures.bytes(path) == original, "cut at \(cut)")
        try FileManager.default.removeItem(atPath: directory)
      }
    }
  }

  /// A middle record damaged at any single byte (a flipped bit in place, not a cut) is reported and skipped,
  /// never trusted, and every other record is kept.
  @Test func aFlippedByteAnywhereInAMiddleRecordLosesOnlyThatRecord() async throws {
    try await Fixtures.withTemporaryDirectory { root in
      let file = Fixtures.timeline(1)
      let records = (1...3).map { Fixtures.post(1, UInt64($0)) }
      let lines = records.map(Fixtures.line)
      let original = lines.flatMap { $0 }
      let middleStart = lines[0].count
      // Every byte but the newline (damaging it merges two lines: covered by the cut test's reasoning).
      for position in middleStart..<(middleStart + lines[1].count - 1) {
        let directory = "\(root)/flip-\(position)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var bytes = original
        bytes[position] ^= 0x01
        try Fixtures.write(bytes, to: "\(directory)/\(file.fileName)")
        let logs = LogRecorder()
        let store = try FileContextStore(directory: directory, logger: logs.logger)
        #expect(try await store.records(in: file) == [records[0], records[2]], "flip at \(position)")
        #expect(logs.messages(atLeast: .error).count == 1, "flip at \(position)")
        try FileManager.default.removeItem(atPath: directory)
      }
    }
  }

  /// Many appends in flight on one store share fsyncs, and each still returns only once its record is in
  /// the file (read back by a second, independent store right after it returns).
  @Test func concurrentAppendsShareFsyncs() async throws {
    try await Fixtures.withTemporaryDirectory { directory in
      let store = try FileContextStore(directory: directory, logger: LogRecorder().logger)
      // A second, independent store (its own descriptors and cache) reads what the first acknowledged.
      let witness = try FileContextStore(directory: directory, logger: LogRecorder().logger)
      let file = Fixtures.timeline(1)
      let count = 400
      try await withThrowingTaskGroup(of: Void.self) { group in
        for lane in 0..<16 {
          group.addTask {
            for number in stride(from: lane + 1, through: count, by: 16) {
              let record = Fixtures.post(1, UInt64(number))
              let appended = try await store.append([PlacedRecord(record, in: file)])
              let seen = try await witness.records(in: file)
              #expect(appended.count == 1)
              #expect(seen.contains(record))
            }
          }
        }
        try await group.waitForAll()
      }
      let records = try await FileContextStore(directory: directory, logger: LogRecorder().logger)
        .records(in: file)
      #expect(Set(records) == Set((1...count).map { Fixtures.post(1, UInt64($0)) }))
      #expect(records.count == count)
      let statistics = store.commitStatistics
      #expect(statistics.appends == count)
      #expect(statistics.fileSyncs == statistics.rounds)
      // With 16 appends in flight, rounds take several appends each: far fewer fsyncs than appends.
      #expect(statistics.fileSyncs < count / 2, "\(statistics)")
    }
  }

  /// Appends waiting in one round that name the same key: the first one appends it, the others find it
  /// there, as if they had run one after another; duplicates inside one call are written once.
  @Test func aRoundKeepsPerCallResultsAndIdempotence() async throws {
    try await Fixtures.withTemporaryDirectory { directory in
      let store = try FileContextStore(directory: directory, logger: LogRecorder().logger)
      let file = Fixtures.timeline(2)
      let shared = PlacedRecord(Fixtures.post(2, 1), in: file)
      let results = try await withThrowingTaskGroup(of: Int.self) { group in
        for _ in 0..<20 {
          group.addTask { try await store.append([shared, shared]).count }
        }
        return try await group.reduce(into: [Int]()) { $0.append($1) }
      }
      #expect(results.sorted() == Array(repeating: 0, count: 19) + [1])
      #expect(try await store.records(in: file) == [shared.record])
    }
  }

  #if os(Linux)
    /// In one round, the append whose file fails gets the error and the others still succeed.
    @Test func aFailingFileFailsOnlyTheAppendsThatWriteIt() async throws {
      try await Fixtures.withTemporaryDirectory { directory in
        let store = try FileContextStore(directory: directory, logger: LogRecorder().logger)
        try FileManager.default.createSymbolicLink(
          atPath: store.path(of: .users), withDestinationPath: "/dev/full")
        let outcomes = await withTaskGroup(of: (Int, Bool).self) { group in
          for number in 1...40 {
            group.addTask {
              let record: PlacedRecord =
                number % 4 == 0
                ? PlacedRecord(.user(Fixtures.user(number)), in: .users)
                : PlacedRecord(Fixtures.post(3, UInt64(number)), in: Fixtures.timeline(3))
              return (number, (try? await store.append([record])) != nil)
            }
          }
          return await group.reduce(into: [Int: Bool]()) { $0[$1.0] = $1.1 }
        }
        for (number, succeeded) in outcomes {
          #expect(succeeded == (number % 4 != 0), "append \(number)")
        }
        #expect(try await store.records(in: Fixtures.timeline(3)).count == 30)
        #expect(try await store.records(in: .users) == [])
      }
    }
  #endif
}
