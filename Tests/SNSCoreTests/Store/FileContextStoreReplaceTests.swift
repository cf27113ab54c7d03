import Foundation
import SNSTestSupport
import Testing

@testable import SNSCore

/// ``FileContextStore/replace(_:)``: a slave lets its master's record win over an orphan under the same key.
@Suite("FileContextStore.replace")
struct FileContextStoreReplaceTests {
  typealias Fixtures = FileContextStoreTests

  @Test("only records that differ are swapped; every other byte, the order and the key set stay")
  func swapsOnlyDifferingRecords() async throws {
    try await Fixtures.withTemporaryDirectory { directory in
      let store = try FileContextStore(directory: directory, logger: quietLogger)
      let file = Fixtures.timeline(1)
      let originals = (1...5).map { Fixtures.post(1, UInt64($0), "orphan") }
      try await store.append(originals.map { PlacedRecord($0, in: file) })
      // A damaged line in the middle (a whole line follows it) is kept byte for byte: skipped, never trusted,
      // never dropped.
      let damaged = Array("garbage line\n".utf8)
      try Fixtures.appendRaw(damaged + Fixtures.line(Fixtures.post(1, 6, "orphan")), to: store.path(of: file))

      let masters = [
        Fixtures.post(1, 2, "master"), Fixtures.post(1, 4, "orphan"), Fixtures.post(1, 9, "master"),
      ]
      let replaced = try await store.replace(masters.map { PlacedRecord($0, in: file) })
      // Sequence 4 is identical and 9 is absent: only 2 is swapped; 9 is left to `append`.
      #expect(replaced == [PlacedRecord(masters[0], in: file)])

      var expected = originals + [Fixtures.post(1, 6, "orphan")]
      expected[1] = masters[0]
      #expect(try await store.records(in: file) == expected)
      let reopened = try FileContextStore(directory: directory, logger: quietLogger)
      #expect(try await reopened.records(in: file) == expected)
      let onDisk = Fixtures.bytes(store.path(of: file))
      let wanted =
        expected.prefix(5).flatMap(Fixtures.line) + damaged + Fixtures.line(expected[5])
      #expect(onDisk == wanted)
      // Again: nothing differs any more, nothing is written, and no stray file is left behind.
      #expect(try await store.replace(masters.map { PlacedRecord($0, in: file) }).isEmpty)
      #expect(try await store.files() == [file])
      #expect(!FileManager.default.fileExists(atPath: store.path(of: file) + ".replacing"))
    }
  }

  @Test("a read position handed out before the file was replaced starts over instead of skipping records")
  func positionsSurviveReplacement() async throws {
    try await Fixtures.withTemporaryDirectory { directory in
      let store = try FileContextStore(directory: directory, logger: quietLogger)
      let file = Fixtures.timeline(1)
      try await store.append((1...3).map { PlacedRecord(Fixtures.post(1, UInt64($0), "short"), in: file) })
      let (_, position) = try await store.records(in: file, after: .start)
      // Longer lines: the old end offset now falls inside the file, past the start of its last line.
      try await store.replace(
        (1...3).map { PlacedRecord(Fixtures.post(1, UInt64($0), "a much longer text"), in: file) })
      try await store.append([PlacedRecord(Fixtures.post(1, 4, "short"), in: file)])
      let (records, _) = try await store.records(in: file, after: position)
      #expect(records.count == 4)
      #expect(records.last == Fixtures.post(1, 4, "short"))
    }
  }

  @Test("appends from another store instance while the file is replaced are never lost")
  func concurrentAppendsSurviveReplacement() async throws {
    try await Fixtures.withTemporaryDirectory { directory in
      // Two instances exclude each other through flock, as two processes do.
      let slave = try FileContextStore(directory: directory, logger: quietLogger)
      let synchronizer = try FileContextStore(directory: directory, logger: quietLogger)
      let file = Fixtures.timeline(1)
      try await slave.append([PlacedRecord(Fixtures.post(1, 1, "orphan"), in: file)])
      let count = 300
      async let appends: Void = {
        // Posts of another author (as a synchronizer delivers them), one append each.
        for sequence in 1...count {
          try await synchronizer.append([PlacedRecord(Fixtures.post(2, UInt64(sequence)), in: file)])
        }
      }()
      async let replacements: Int = {
        var made = 0
        for round in 1...40 {
          let text = round.isMultiple(of: 2) ? "orphan" : "master"
          made += try await slave.replace([PlacedRecord(Fixtures.post(1, 1, text), in: file)]).count
        }
        return made
      }()
      try await appends
      let made = try await replacements
      #expect(made == 40)
      let records = try await FileContextStore(directory: directory, logger: quietLogger).records(in: file)
      #expect(records.count == count + 1)
      #expect(Set(records.map(\.key)).count == count + 1)
      #expect(records.contains(Fixtures.post(1, 1, "orphan")))
    }
  }

  @Test("remove drops only the lines of its keys; the key may be appended again afterwards")
  func removeDropsOnlyItsLines() async throws {
    try await Fixtures.withTemporaryDirectory { directory in
      let store = try FileContextStore(directory: directory, logger: quietLogger)
      let file = Fixtures.timeline(1)
      let posts = (1...4).map { Fixtures.post(1, UInt64($0)) }
      try await store.append(posts.map { PlacedRecord($0, in: file) })
      let removed = try await store.remove([posts[1].key, Fixtures.post(1, 9).key], from: file)
      #expect(removed == [posts[1].key])
      let kept = [posts[0], posts[2], posts[3]]
      #expect(try await store.records(in: file) == kept)
      #expect(Fixtures.bytes(store.path(of: file)) == kept.flatMap(Fixtures.line))
      #expect(try await store.remove([posts[1].key], from: file).isEmpty)
      // The key set forgot it: appending it again stores it.
      #expect(
        try await store.append([PlacedRecord(posts[1], in: file)]) == [PlacedRecord(posts[1], in: file)])
      let reopened = try FileContextStore(directory: directory, logger: quietLogger)
      #expect(try await reopened.records(in: file) == kept + [posts[1]])
    }
  }
}
