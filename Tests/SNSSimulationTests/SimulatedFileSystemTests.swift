import Logging
import SNSCore
import Testing

@testable import SNSSimulation

/// The real ``FileContextStore`` on the simulation's files: a crash keeps what was fsynced, and of the rest
/// only a part, torn anywhere; a store opened after it has every acknowledged record and whole lines only.
@Suite("Simulated file system")
struct SimulatedFileSystemTests {
  static let directory = "cluster_1/server_1"
  static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

  static func post(_ sequence: UInt64) -> PlacedRecord {
    let author = fixture { try UserID(1) }
    let text = fixture { try PostText("post number \(sequence) with some text to tear") }
    let post = Post(
      id: PostID(author: author, sequence: sequence), time: Timestamp(milliseconds: Int64(sequence)),
      text: text)
    return PlacedRecord(.post(post), in: .timeline(author))
  }

  static func fixture<T>(_ make: () throws -> T) -> T {
    do { return try make() } catch { fatalError("fixture: \(error)") }
  }

  static func open(_ files: SimulatedFileSystem, plantedBugs: PlantedBugs = []) throws -> (
    FileContextStore, SimulatedProcessFiles
  ) {
    let process = files.process(serving: directory)
    let store = try FileContextStore(
      directory: directory, logger: logger, fileSystem: process, plantedBugs: plantedBugs)
    return (store, process)
  }

  @Test(
    "a crash loses exactly what was not fsynced, torn anywhere; a new store has every acknowledged record")
  func crashLosesTheUnsyncedSuffix() async throws {
    let acknowledged = (1...5).map { Self.post(UInt64($0)) }
    let unsynced = (6...10).map { Self.post(UInt64($0)) }
    let file = ContextFile.timeline(Self.fixture { try UserID(1) })
    var kept: Set<Int> = []
    for tear in UInt64(0)..<200 {
      let files = SimulatedFileSystem()
      let (store, process) = try Self.open(files)
      try await store.append(acknowledged)
      // The same directory through a store that skips its fsyncs: its lines are written, not durable.
      let careless = try FileContextStore(
        directory: Self.directory, logger: Self.logger, fileSystem: process,
        plantedBugs: .acknowledgeBeforeFsync)
      try await careless.append(unsynced)
      let durable = acknowledged.map { RecordCodec.encode($0.record).utf8.count }.reduce(0, +)
      let written = durable + unsynced.map { RecordCodec.encode($0.record).utf8.count }.reduce(0, +)
      #expect(try process.status(atPath: store.path(of: file))?.size == Int64(written))

      files.crash(process: process.process, tear: tear)
      #expect(throws: SNSError.self) { try process.status(atPath: store.path(of: file)) }
      let survived = written - files.tornBytes
      #expect(survived >= durable && survived <= written)

      let (reopened, newProcess) = try Self.open(files)
      // Opening cut a torn last line: the file ends with a whole line before anything reads it.
      let handle = try #require(try newProcess.open(reopened.path(of: file), .reading))
      let size = try handle.status().size
      #expect(size >= Int64(durable))
      #expect(try handle.read(at: size - 1, count: 1) == [UInt8(ascii: "\n")])
      handle.close()
      let records = try await reopened.records(in: file)
      // Every acknowledged record, then a prefix of the unsynced ones: never a torn or reordered line.
      #expect(Array(records.prefix(acknowledged.count)) == acknowledged.map(\.record))
      let rest = Array(records.dropFirst(acknowledged.count))
      #expect(rest == Array(unsynced.prefix(rest.count)).map(\.record))
      kept.insert(rest.count)
      // The torn tail was cut: a new append lands on a line of its own and reads back.
      try await reopened.append([Self.post(99)])
      let (again, _) = try Self.open(files)
      #expect(try await again.records(in: file).last == Self.post(99).record)
    }
    // The tears cover losing all of the unsynced lines, keeping all, and cuts in between.
    #expect(kept.contains(0) && kept.contains(unsynced.count) && kept.count > 2)
  }

  @Test("a crash inside a write fails the append and keeps every record acknowledged before it")
  func crashInsideAWrite() async throws {
    let files = SimulatedFileSystem()
    let (store, process) = try Self.open(files)
    let file = ContextFile.timeline(Self.fixture { try UserID(1) })
    try await store.append((1...3).map { Self.post(UInt64($0)) })
    files.armCrash(directory: Self.directory, tear: 7)
    await #expect(throws: SNSError.self) { try await store.append([Self.post(4), Self.post(5)]) }
    #expect(files.takeCrashed() == [Self.directory])
    #expect(throws: SNSError.self) { try process.names(inDirectory: Self.directory) }

    let (reopened, _) = try Self.open(files)
    #expect(try await reopened.records(in: file) == (1...3).map { Self.post(UInt64($0)).record })
  }

  @Test("an append whose lines cannot be removed for certain after a failed fsync is in doubt, not refused")
  func failedTakeBackIsInDoubt() async throws {
    let files = SimulatedFileSystem()
    let (store, _) = try Self.open(files)
    let file = ContextFile.timeline(Self.fixture { try UserID(1) })
    try await store.append([Self.post(1)])
    files.failSyncs(directory: Self.directory)
    do {
      try await store.append([Self.post(2)])
      Issue.record("an append whose fsync failed succeeded")
    } catch SNSError.unavailable(let why) {
      #expect(why.contains("fsync"))
    } catch {
      Issue.record("answered \(error): a refusal is final, but the lines' removal was not made durable")
    }
    files.healSyncs(directory: Self.directory)
    // The retry stores the post once, whatever stayed of the first attempt.
    try await store.append([Self.post(2)])
    let (reopened, _) = try Self.open(files)
    #expect(try await reopened.records(in: file) == [Self.post(1).record, Self.post(2).record])
  }

  @Test("a lock held by another open file is refused at once, not waited for")
  func lockConflictFailsAtOnce() async throws {
    let files = SimulatedFileSystem()
    let process = files.process(serving: nil)
    try process.makeDirectory("d")
    let first = try #require(try process.open("d/users", .appending))
    let second = try #require(try process.open("d/users", .appending))
    #expect(try first.tryLock(exclusive: true))
    #expect(try !second.tryLock(exclusive: false))
    first.close()
    #expect(try second.tryLock(exclusive: false))
    #expect(try first.tryLock(exclusive: false))
    #expect(try !first.tryLock(exclusive: true))
  }
}
