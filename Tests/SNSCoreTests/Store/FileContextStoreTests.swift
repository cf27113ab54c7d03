import Foundation
import Logging
import SNSTestSupport
import Synchronization
import Testing

@testable import SNSCore

@Suite("FileContextStore")
struct FileContextStoreTests {
  // MARK: Fixtures

  static func user(_ value: Int) -> UserID {
    do { return try UserID(value) } catch { fatalError("fixture user id \(value): \(error)") }
  }

  static func post(_ author: Int, _ sequence: UInt64, _ text: String = "post text") -> ContextRecord {
    let body: PostText
    do { body = try PostText("\(text) #\(sequence)") } catch { fatalError("fixture text: \(error)") }
    return .post(
      Post(
        id: PostID(author: user(author), sequence: sequence),
        time: Timestamp(milliseconds: 1_700_000_000_000 + Int64(sequence)), text: body))
  }

  static func follow(_ follower: Int, _ followee: Int, _ sequence: UInt64) -> FollowEvent {
    FollowEvent(
      kind: sequence % 2 == 1 ? .follow : .unfollow, follower: user(follower), followee: user(followee),
      sequence: sequence, time: Timestamp(milliseconds: 1_700_000_000_000))
  }

  static func timeline(_ user: Int) -> ContextFile { .timeline(Self.user(user)) }

  /// Runs `body` with a fresh directory that is removed afterwards, whatever happens.
  static func withTemporaryDirectory(_ body: (String) async throws -> Void) async throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("sns-store-\(UUID())").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    try await body(path)
  }

  static func bytes(_ path: String) -> [UInt8] {
    FileManager.default.contents(atPath: path).map { [UInt8]($0) } ?? []
  }

  static func write(_ bytes: [UInt8], to path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
  }

  /// Appends raw bytes in place, as a writer that crashed mid-line would have left them.
  static func appendRaw(_ bytes: [UInt8], to path: String) throws {
    guard let handle = FileHandle(forWritingAtPath: path) else { throw CocoaError(.fileNoSuchFile) }
    defer { try? handle.close() }
    try handle.seekToEnd()
    try handle.write(contentsOf: Data(bytes))
  }

  static func line(_ record: ContextRecord) -> [UInt8] { Array(RecordCodec.encode(record).utf8) }

  // MARK: Basics

  @Test func appendsReadBackInOrderAcrossFilesAndInstances() async throws {
    try await Self.withTemporaryDirectory { root in
      let directory = "\(root)/data/master_1"
      let logs = LogRecorder()
      let store = try FileContextStore(directory: directory, logger: logs.logger)
      let batch: [PlacedRecord] = [
        PlacedRecord(.user(Self.user(1)), in: .users),
        PlacedRecord(.following(Self.follow(1, 2, 1)), in: .follows(Self.user(1))),
        PlacedRecord(Self.post(1, 1), in: Self.timeline(1)),
        PlacedRecord(.user(Self.user(2)), in: .users),
        PlacedRecord(.follower(Self.follow(1, 2, 1)), in: .follows(Self.user(2))),
        PlacedRecord(Self.post(1, 2), in: Self.timeline(1)),
        PlacedRecord(Self.post(1, 2), in: Self.timeline(2)),
        PlacedRecord(.cursor(SyncCursor(stream: .posts, user: Self.user(1), sequence: 2)), in: .cursors),
      ]
      #expect(try await store.append(batch) == batch)
      #expect(try await store.records(in: .users) == [.user(Self.user(1)), .user(Self.user(2))])
      #expect(try await store.records(in: Self.timeline(1)) == [Self.post(1, 1), Self.post(1, 2)])
      #expect(try await store.records(in: Self.timeline(3)) == [])

      // The file is what `cat` shows: one checksummed line per record.
      #expect(
        Self.bytes(store.path(of: .users)) == Self.line(.user(Self.user(1))) + Self.line(.user(Self.user(2))))

      for stray in ["notes.txt", "1.timeline.tmp", "0.follow", "x.timeline", "users~"] {
        try Self.write(Array("junk\n".utf8), to: "\(directory)/\(stray)")
      }
      let expectedFiles: [ContextFile] = [
        .users, .follows(Self.user(1)), .follows(Self.user(2)), Self.timeline(1), Self.timeline(2), .cursors,
      ]
      #expect(try await store.files() == expectedFiles)

      let reopened = try FileContextStore(directory: directory, logger: logs.logger)
      for file in expectedFiles {
        let expected = batch.filter { $0.file == file }.map(\.record)
        #expect(try await reopened.records(in: file) == expected, "\(file)")
      }
      #expect(logs.messages(atLeast: .warning).isEmpty)
    }
  }

  @Test func appendIsIdempotent() async throws {
    try await Self.withTemporaryDirectory { directory in
      let store = try FileContextStore(directory: directory, logger: LogRecorder().logger)
      let file = Self.timeline(1)
      let batch = [Self.post(1, 1), Self.post(2, 1), Self.post(1, 1), Self.post(1, 2)].map {
        PlacedRecord($0, in: file)
      }
      // The repeated post inside the batch is written once, and reported once.
      #expect(try await store.append(batch) == [batch[0], batch[1], batch[3]])
      let before = Self.bytes(store.path(of: file))

      #expect(try await store.append(batch) == [])
      #expect(Self.bytes(store.path(of: file)) == before)

      // Another instance (think: the synchronizer delivering what the master already has) changes nothing.
      let other = try FileContextStore(directory: directory, logger: LogRecorder().logger)
      #expect(try await other.append(batch) == [])
      #expect(Self.bytes(store.path(of: file)) == before)

      // A mixed batch appends only what is new.
      let mixed = [PlacedRecord(Self.post(1, 3), in: file), batch[1]]
      #expect(try await other.append(mixed) == [mixed[0]])
      #expect(try await store.append(mixed) == [])
      #expect(
        try await store.records(in: file) == [
          Self.post(1, 1), Self.post(2, 1), Self.post(1, 2), Self.post(1, 3),
        ])
    }
  }

  // MARK: Torn and corrupt tails

  @Test func tornTailIsCutAtEveryOffsetOfTheLastRecord() async throws {
    try await Self.withTemporaryDirectory { root in
      let file = Self.timeline(1)
      let records = [
        Self.post(1, 1), Self.post(1, 2, "with  spaces and ünïcødé"), Self.post(1, 3, "the last one"),
      ]
      let original = records.flatMap(Self.line)
      let lastStart = original.count - Self.line(records[2]).count

      for cut in lastStart..<original.count {
        let directory = "\(root)/cut-\(cut)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = "\(directory)/\(file.fileName)"
        try Self.write(Array(original.prefix(cut)), to: path)

        let logs = LogRecorder()
        let store = try FileContextStore(directory: directory, logger: logs.logger)
        #expect(try await store.records(in: file) == Array(records.prefix(2)), "cut at \(cut)")
        #expect(Self.bytes(path) == Array(original.prefix(lastStart)), "cut at \(cut)")
        let warnings = logs.messages(atLeast: .warning)
        if cut > lastStart {
          #expect(warnings.count == 1, "cut at \(cut): \(warnings)")
          #expect(
            warnings.first?.contains("offset \(lastStart): \(cut - lastStart) bytes") == true, "\(warnings)")
        } else {
          #expect(warnings.isEmpty)
        }

        // Appending the lost record again restores the file exactly.
        #expect(try await store.append([PlacedRecord(records[2], in: file)]).count == 1)
        #expect(Self.bytes(path) == original, "cut at \(cut)")
        try FileManager.default.removeItem(atPath: directory)
      }
    }
  }

  @Test func corruptLastRecordIsCut() async throws {
    try await Self.withTemporaryDirectory { directory in
      let file = Self.timeline(1)
      let records = [Self.post(1, 1), Self.post(1, 2), Self.post(1, 3)]
      var bytes = records.flatMap(Self.line)
      let lastStart = bytes.count - Self.line(records[2]).count
      bytes[bytes.count - 3] ^= 0x01  // inside the text of the last line, newline intact
      let path = "\(directory)/\(file.fileName)"
      try Self.write(bytes, to: path)

      let logs = LogRecorder()
      let store = try FileContextStore(directory: directory, logger: logs.logger)
      #expect(try await store.records(in: file) == Array(records.prefix(2)))
      #expect(Self.bytes(path).count == lastStart)
      #expect(logs.messages(atLeast: .warning).count == 1)
    }
  }

  @Test func tornTailLeftByACrashedWriterIsCutBeforeTheNextAppend() async throws {
    try await Self.withTemporaryDirectory { directory in
      let file = Self.timeline(1)
      let logs = LogRecorder()
      let store = try FileContextStore(directory: directory, logger: logs.logger)
      try await store.append([PlacedRecord(Self.post(1, 1), in: file)])
      let whole = Self.bytes(store.path(of: file))

      // Another process dies half way through a line, after this store has cached the file.
      try Self.appendRaw(Array(Self.line(Self.post(1, 2)).prefix(20)), to: store.path(of: file))
      #expect(try await store.append([PlacedRecord(Self.post(1, 3), in: file)]).count == 1)
      #expect(Self.bytes(store.path(of: file)) == whole + Self.line(Self.post(1, 3)))
      #expect(logs.messages(atLeast: .warning).count == 1)

      // Readers cut it too.
      try Self.appendRaw(Array(Self.line(Self.post(1, 4)).dropLast()), to: store.path(of: file))
      #expect(try await store.records(in: file) == [Self.post(1, 1), Self.post(1, 3)])
      #expect(Self.bytes(store.path(of: file)) == whole + Self.line(Self.post(1, 3)))
    }
  }

  @Test func corruptMiddleRecordIsSkippedAndKept() async throws {
    try await Self.withTemporaryDirectory { directory in
      let file = Self.timeline(1)
      let records = [Self.post(1, 1), Self.post(1, 2), Self.post(1, 3)]
      var bytes = records.flatMap(Self.line)
      let middleStart = Self.line(records[0]).count
      bytes[middleStart + 12] ^= 0x20  // inside the middle line's payload
      // A whole line with a valid checksum that this version cannot parse (a newer writer's record).
      let unknown = Array("\(RecordCodec.hex(CRC32C.checksum("like 1 2".utf8))) like 1 2\n".utf8)
      bytes += unknown
      let path = "\(directory)/\(file.fileName)"
      try Self.write(bytes, to: path)

      let logs = LogRecorder()
      let store = try FileContextStore(directory: directory, logger: logs.logger)
      #expect(try await store.records(in: file) == [records[0], records[2]])
      #expect(Self.bytes(path) == bytes, "nothing is cut")
      #expect(logs.messages(atLeast: .error).count == 2)
      #expect(logs.messages(atLeast: .error).first?.contains("offset \(middleStart)") == true)

      // The damaged copy is not trusted: appending the record again writes a good copy at the end.
      #expect(try await store.append([PlacedRecord(records[1], in: file)]).count == 1)
      #expect(try await store.records(in: file) == [records[0], records[2], records[1]])
      let reopened = try FileContextStore(directory: directory, logger: LogRecorder().logger)
      #expect(try await reopened.records(in: file) == [records[0], records[2], records[1]])
    }
  }

  // MARK: Concurrency

  @Test func twoStoresAppendingConcurrentlyKeepEveryRecordOnceAndWhole() async throws {
    try await Self.withTemporaryDirectory { directory in
      let file = Self.timeline(1)
      let first = try FileContextStore(directory: directory, logger: LogRecorder().logger)
      let second = try FileContextStore(directory: directory, logger: LogRecorder().logger)
      let perStore = 500
      // A third store reads incrementally while the others write: it must never see half a line (and so
      // never cut one), and what it saw must be the file's first records in order.
      let readerLogs = LogRecorder()
      let reader = try FileContextStore(directory: directory, logger: readerLogs.logger)
      async let observed: (records: [ContextRecord], next: FilePosition) = {
        var seen: [ContextRecord] = []
        var position = FilePosition.start
        for _ in 0..<300 {
          let (new, next) = try await reader.records(in: file, after: position)
          seen += new
          position = next
          try await Task.sleep(for: .milliseconds(1))
        }
        return (seen, position)
      }()
      let appended = try await withThrowingTaskGroup(of: [PlacedRecord].self) { group in
        for (author, store) in [(1, first), (2, second)] {
          // Two tasks per store, so appends also contend inside one instance.
          for half in 0..<2 {
            group.addTask {
              var appended: [PlacedRecord] = []
              for sequence in stride(from: UInt64(1 + half), through: UInt64(perStore), by: 2) {
                // Each call also carries a record the other store writes at about the same moment (as a
                // master and a synchronizer may deliver the same post), so the key check races too.
                let shared = PlacedRecord(Self.post(3, sequence), in: file)
                appended += try await store.append([
                  PlacedRecord(Self.post(author, sequence), in: file), shared,
                ])
              }
              return appended
            }
          }
        }
        return try await group.reduce(into: []) { $0 += $1 }
      }

      #expect(appended.count == 3 * perStore)
      #expect(Set(appended.map(\.record.key)).count == appended.count)
      let fresh = try FileContextStore(directory: directory, logger: LogRecorder().logger)
      let records = try await fresh.records(in: file)
      #expect(records.count == 3 * perStore)
      #expect(Set(records.map(\.key)).count == records.count)
      #expect(Set(records) == Set(appended.map(\.record)))
      #expect(try await first.records(in: file) == records)
      #expect(try await second.records(in: file) == records)
      let (seen, next) = try await observed
      #expect(try await seen + reader.records(in: file, after: next).records == records)
      #expect(readerLogs.messages(atLeast: .warning).isEmpty)

      // Every line is whole and valid.
      let bytes = Self.bytes(fresh.path(of: file))
      #expect(bytes.last == UInt8(ascii: "\n"))
      let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast()
      #expect(lines.count == records.count)
      #expect(lines.allSatisfy { (try? RecordCodec.decode(line: $0)) != nil })
    }
  }

  // MARK: Positions and stamps

  @Test func readingAfterAPositionReturnsOnlyNewRecords() async throws {
    try await Self.withTemporaryDirectory { directory in
      let file = Self.timeline(1)
      let reader = try FileContextStore(directory: directory, logger: LogRecorder().logger)
      let writer = try FileContextStore(directory: directory, logger: LogRecorder().logger)
      let missing = try await reader.records(in: file, after: .start)
      #expect(missing.records == [] && missing.next == .start)

      try await writer.append([
        PlacedRecord(Self.post(1, 1), in: file), PlacedRecord(Self.post(1, 2), in: file),
      ])
      let all = try await reader.records(in: file, after: .start)
      #expect(all.records == [Self.post(1, 1), Self.post(1, 2)])
      #expect(all.next.offset == Int64(Self.bytes(reader.path(of: file)).count))
      let none = try await reader.records(in: file, after: all.next)
      #expect(none.records == [] && none.next == all.next)

      try await writer.append([PlacedRecord(Self.post(1, 3), in: file)])
      let new = try await reader.records(in: file, after: all.next)
      #expect(new.records == [Self.post(1, 3)])
      #expect(new.next > all.next)
      #expect(try await reader.records(in: file, after: new.next).records == [])

      // A position past the end (the file was replaced) reads from the start rather than skip anything.
      let beyond = try await reader.records(in: file, after: FilePosition(offset: new.next.offset + 100))
      #expect(beyond.records.count == 3 && beyond.next == new.next)
    }
  }

  @Test func stampChangesAfterAnAppend() async throws {
    try await Self.withTemporaryDirectory { directory in
      let file = Self.timeline(1)
      let store = try FileContextStore(directory: directory, logger: LogRecorder().logger)
      #expect(try await store.stamp(of: file) == nil)
      try await store.append([PlacedRecord(Self.post(1, 1), in: file)])
      let first = try #require(try await store.stamp(of: file))
      #expect(first.size == Int64(Self.line(Self.post(1, 1)).count))
      try await store.append([PlacedRecord(Self.post(1, 2), in: file)])
      let second = try #require(try await store.stamp(of: file))
      #expect(second != first && second.size > first.size)
      #expect(second.modificationNanoseconds >= first.modificationNanoseconds)
      try await store.append([PlacedRecord(Self.post(1, 2), in: file)])
      #expect(try await store.stamp(of: file)?.size == second.size)
    }
  }

  @Test func replacedOrRemovedFilesAreReadAgain() async throws {
    try await Self.withTemporaryDirectory { directory in
      let file = Self.timeline(1)
      let store = try FileContextStore(directory: directory, logger: LogRecorder().logger)
      try await store.append([
        PlacedRecord(Self.post(1, 1), in: file), PlacedRecord(Self.post(1, 2), in: file),
      ])
      try FileManager.default.removeItem(atPath: store.path(of: file))
      #expect(try await store.records(in: file) == [])
      #expect(try await store.files() == [])
      // Written by someone else, byte-for-byte, through a new inode.
      try Self.write(Self.line(Self.post(1, 3)), to: store.path(of: file))
      #expect(try await store.records(in: file) == [Self.post(1, 3)])
      #expect(try await store.append([PlacedRecord(Self.post(1, 1), in: file)]).count == 1)
    }
  }

  // MARK: Errors

  @Test func unusableDirectoryIsAClearError() async throws {
    try await Self.withTemporaryDirectory { root in
      try Self.write(Array("x".utf8), to: "\(root)/plain")
      #expect {
        try FileContextStore(directory: "\(root)/plain/master_1", logger: LogRecorder().logger)
      } throws: { error in
        guard case SNSError.storage(let message) = error else { return false }
        return message.contains("\(root)/plain") && message.contains("Not a directory")
      }
      #expect(throws: SNSError.self) {
        try FileContextStore(directory: "\(root)/plain", logger: LogRecorder().logger)
      }

      // A directory that disappears under a running store gives errors that say so, not crashes.
      let store = try FileContextStore(directory: "\(root)/gone", logger: LogRecorder().logger)
      try FileManager.default.removeItem(atPath: "\(root)/gone")
      await #expect(throws: SNSError.storage("cannot list \(root)/gone: No such file or directory (errno 2)"))
      {
        try await store.files()
      }
      #expect(try await store.records(in: .users) == [])
      await #expect(
        throws: SNSError.storage("cannot open \(root)/gone/users: No such file or directory (errno 2)")
      ) {
        try await store.append([PlacedRecord(.user(Self.user(1)), in: .users)])
      }
    }
  }

  #if os(Linux)
    /// `/dev/full` fails every write with ENOSPC: the error comes back, nothing is acknowledged, and the
    /// store keeps working for other files.
    @Test func diskFullIsAStorageErrorAndTheStoreStaysUsable() async throws {
      try await Self.withTemporaryDirectory { directory in
        let logs = LogRecorder()
        let store = try FileContextStore(directory: directory, logger: logs.logger)
        try FileManager.default.createSymbolicLink(
          atPath: store.path(of: .users), withDestinationPath: "/dev/full")
        await #expect {
          try await store.append([PlacedRecord(.user(Self.user(1)), in: .users)])
        } throws: { error in
          guard case SNSError.storage(let message) = error else { return false }
          return message.contains(store.path(of: .users)) && message.contains("No space left on device")
        }
        #expect(try await store.records(in: .users) == [])
        let post = PlacedRecord(Self.post(1, 1), in: Self.timeline(1))
        #expect(try await store.append([post]) == [post])
        #expect(try await store.records(in: Self.timeline(1)) == [post.record])
      }
    }
  #endif
}

// MARK: - Helpers

/// Collects what the store logs, so tests can check that damage is reported (shared by the store suites).
final class LogRecorder: Sendable {
  private let entries = Mutex<[(level: Logger.Level, message: String)]>([])

  var logger: Logger {
    Logger(label: "test.store") { _ in RecordingLogHandler(recorder: self) }
  }

  func record(_ level: Logger.Level, _ message: String) {
    entries.withLock { $0.append((level, message)) }
  }

  func messages(atLeast level: Logger.Level) -> [String] {
    entries.withLock { $0.filter { $0.level >= level }.map(\.message) }
  }
}

struct RecordingLogHandler: LogHandler {
  let recorder: LogRecorder
  var metadata: Logger.Metadata = [:]
  var logLevel: Logger.Level = .trace

  subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  func log(event: LogEvent) {
    recorder.record(event.level, event.message.description)
  }
}
