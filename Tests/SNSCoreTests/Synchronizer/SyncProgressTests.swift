import Foundation
import Logging
import SNSTestSupport
import Synchronization
import Testing

@testable import SNSCore

@Suite("Synchronizer progress: bounded cursors, saved positions")
struct SyncProgressTests {
  let configuration = SynchronizerConfiguration(
    cluster: cluster(1), endpoint: endpoint("s1:1"), clusterCount: 3)

  @Test("delivered sequences: a contiguous prefix, exceptions above a gap, bounded, the gap filled later")
  func deliveredSequences() {
    var sequences = DeliveredSequences()
    var inserted = [UInt64(1), 2].map { sequences.insert($0) }
    #expect(inserted == [true, true])
    #expect(sequences.through == 2 && sequences.above.isEmpty)
    inserted = [UInt64(4), 5, 5].map { sequences.insert($0) }
    #expect(inserted == [true, true, false])
    #expect(sequences.through == 2 && sequences.above == [4, 5] && !sequences.contains(3))
    inserted = [sequences.insert(3)]
    #expect(inserted == [true])
    #expect(sequences.through == 5 && sequences.above.isEmpty)
    // A gap that never fills: the exceptions stay bounded, the lowest forgotten first.
    for sequence in UInt64(7)...UInt64(7 + 2 * DeliveredSequences.maximumExceptions) {
      sequences.insert(sequence)
    }
    #expect(sequences.above.count == DeliveredSequences.maximumExceptions)
    #expect(
      sequences.contains(UInt64(7 + 2 * DeliveredSequences.maximumExceptions)) && !sequences.contains(7))
    #expect(sequences.through == 5)
  }

  @Test("a file's position is saved only once none of its items waits for delivery")
  func positionsWaitForDelivery() throws {
    var state = SynchronizerState(configuration: configuration)
    let master = try ServerID(1)
    state.onScanStarted(master: master)
    let post = Post(
      id: PostID(author: user(4), sequence: 1), time: Timestamp(milliseconds: 10), text: text("p"))
    state.onRead(.timeline(user(4)), upTo: FilePosition(offset: 100))
    state.onRead(.users, upTo: FilePosition(offset: 20))
    state.onScanned(users: [], follows: [], posts: [post])
    let follower = FollowEvent(
      kind: .follow, follower: user(3), followee: user(4), sequence: 1, time: Timestamp(milliseconds: 1))
    let plan = state.planRound(followerEvents: [user(4): [follower]])
    // Cluster 3 did not answer: the post waits, so its file's position is not saved; the users file's is.
    state.onRoundDelivered(plan, acknowledged: [cluster(1), cluster(2)])
    let first = state.progressToSave()
    #expect(first.server == master)
    #expect(first.positions == [.users: FilePosition(offset: 20)])
    state.onProgressSaved(first)
    #expect(state.progressToSave().isEmpty)
    state.onRoundDelivered(state.planRound(followerEvents: [user(4): [follower]]), acknowledged: [cluster(3)])
    let second = state.progressToSave()
    #expect(second.positions == [.timeline(user(4)): FilePosition(offset: 100)])
    #expect(second.delivered == [SyncStream(.posts, of: user(4)): DeliveredSequences(through: 1)])
    state.onProgressSaved(second)
    // A restarted synchronizer resumes there; a new master starts over.
    var restarted = SynchronizerState(configuration: configuration)
    var saved = SyncProgress()
    saved.apply(first)
    saved.apply(second)
    restarted.onProgressLoaded(saved)
    restarted.onScanStarted(master: master)
    #expect(restarted.position(of: .timeline(user(4))) == FilePosition(offset: 100))
    restarted.onScanStarted(master: try ServerID(2))
    #expect(restarted.position(of: .timeline(user(4))) == .start)
  }

  @Test("progress lines: every kind round-trips, a damaged line is refused")
  func lines() throws {
    let lines: [SyncProgressLine] = [
      .delivered(SyncStream(.posts, of: user(7)), DeliveredSequences(through: 12, above: [15, 18])),
      .delivered(SyncStream(.user, of: user(7)), DeliveredSequences(through: 1)),
      .scanned(
        try ServerID(2), .timeline(user(7)),
        FilePosition(offset: 1234, identity: FileIdentity(device: 2049, inode: 5678))),
      .scanned(try ServerID(2), .users, FilePosition(offset: 88)),
    ]
    for line in lines {
      let encoded = line.encoded
      #expect(encoded.hasSuffix("\n"))
      let decoded = SyncProgressLine(line: Array(encoded.utf8.dropLast())[...])
      #expect(decoded == line)
      if case .scanned(_, _, let position) = line, case .scanned(_, _, let back)? = decoded {
        #expect(back.identity == position.identity)
      }
      var damaged = Array(encoded.dropLast().utf8)
      damaged[damaged.count - 1] ^= 1
      #expect(SyncProgressLine(line: damaged[...]) == nil)
    }
    // Numbers are plain digits, as everywhere in the data directory: a sign or an empty field is refused.
    for payload in [
      "delivered posts +7 12", "delivered posts 7 +12", "delivered posts 7 12 15,,18", "scanned 2 users -1 -",
    ] {
      #expect(
        SyncProgressLine(line: Array(RecordCodec.line(payload: payload).utf8.dropLast())[...]) == nil,
        "\(payload)")
    }
  }

  @Test(
    "the file: saves append what changed, a torn last line is cut, compaction keeps the latest, old cursors are folded in"
  )
  func file() async throws {
    let directory = NSTemporaryDirectory() + "sns-progress-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let logger = Logger(label: "test")
    // An earlier synchronizer's cursors file (one record per delivered item).
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let legacy = [UInt64(1), 2, 3].map {
      RecordCodec.encode(.cursor(SyncCursor(stream: .posts, user: user(7), sequence: $0)))
    }
    try legacy.joined().write(toFile: "\(directory)/cursors", atomically: false, encoding: .utf8)

    let store = try FileSyncProgressStore(directory: directory, logger: logger)
    let loaded = try await store.load()
    #expect(loaded.delivered[SyncStream(.posts, of: user(7))] == DeliveredSequences(through: 3))
    #expect(!FileManager.default.fileExists(atPath: "\(directory)/cursors"))

    let stream = SyncStream(.posts, of: user(1))
    let server = try ServerID(1)
    for through in UInt64(1)...UInt64(10) {
      try await store.save(
        SyncProgress.Changes(
          delivered: [stream: DeliveredSequences(through: through)], server: server,
          positions: [.timeline(user(1)): FilePosition(offset: Int64(through * 10))]))
    }
    let lines = try String(contentsOfFile: "\(directory)/progress", encoding: .utf8).split(separator: "\n")
    #expect(lines.count == 1 + 20, "one line per stream of the compaction, then two per save")

    // A save torn by a crash: its partial line is ignored and cut; the one before stands.
    let handle = try #require(FileHandle(forWritingAtPath: "\(directory)/progress"))
    try handle.seekToEnd()
    try handle.write(
      contentsOf: Data(
        SyncProgressLine.delivered(stream, DeliveredSequences(through: 11)).encoded.utf8.dropLast(4)))
    try handle.close()
    let reopened = try FileSyncProgressStore(directory: directory, logger: logger)
    let again = try await reopened.load()
    #expect(again.delivered[stream] == DeliveredSequences(through: 10))
    #expect(again.server == server && again.positions[.timeline(user(1))] == FilePosition(offset: 100))
    #expect(again.delivered[SyncStream(.posts, of: user(7))] == DeliveredSequences(through: 3))
    try await reopened.save(SyncProgress.Changes(delivered: [stream: DeliveredSequences(through: 12)]))
    #expect(
      try await FileSyncProgressStore(directory: directory, logger: logger).load().delivered[stream]
        == DeliveredSequences(through: 12))

    // Many saves of the same few streams: the file stays around twice the live lines plus the slack.
    for through in UInt64(13)...UInt64(3000) {
      try await reopened.save(SyncProgress.Changes(delivered: [stream: DeliveredSequences(through: through)]))
    }
    let size = try String(contentsOfFile: "\(directory)/progress", encoding: .utf8).split(separator: "\n")
      .count
    #expect(size <= 2 * 3 + FileSyncProgressStore.compactionSlack + 1)
    #expect(
      try await FileSyncProgressStore(directory: directory, logger: logger).load().delivered[stream]
        == DeliveredSequences(through: 3000))
  }
}

@Suite("A synchronizer's lazy view of a server directory")
struct LazyDirectoryReadTests {
  @Test("a position saved by an earlier process reads only what came after it; a replaced file is read whole")
  func tailAfterSavedPosition() async throws {
    let directory = NSTemporaryDirectory() + "sns-lazy-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let logger = Logger(label: "test")
    let owner = try FileContextStore(directory: directory, logger: logger)
    func post(_ sequence: UInt64) -> PlacedRecord {
      PlacedRecord(
        .post(
          Post(
            id: PostID(author: user(1), sequence: sequence), time: Timestamp(milliseconds: 1),
            text: text("p\(sequence)"))),
        in: .timeline(user(1)))
    }
    try await owner.append((1...50).map(post))
    let first = try FileContextStore.openingLazily(directory: directory, logger: logger)
    let (all, position) = try await first.records(in: .timeline(user(1)), after: .start)
    #expect(all.count == 50)
    try await owner.append((51...53).map(post))

    // A new process with the saved position: the bytes before it are not even parsed (garbled here).
    let path = owner.path(of: .timeline(user(1)))
    let handle = try #require(FileHandle(forUpdatingAtPath: path))
    try handle.seek(toOffset: 10)
    try handle.write(contentsOf: Data("garbage".utf8))
    try handle.close()
    let log = LogRecorder()
    let restarted = try FileContextStore.openingLazily(directory: directory, logger: log.logger)
    let (tail, next) = try await restarted.records(in: .timeline(user(1)), after: position)
    #expect(tail == (51...53).map { post($0).record })
    #expect(log.messages(atLeast: .warning).isEmpty, "the garbled line before the position was never read")
    #expect(next.offset == Int64(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? -1))
    let (nothing, same) = try await restarted.records(in: .timeline(user(1)), after: next)
    #expect(nothing.isEmpty && same == next)

    // The file replaced (another inode): the old position means nothing, everything is read.
    let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    try bytes.write(to: URL(fileURLWithPath: path + ".new"))
    #expect(rename(path + ".new", path) == 0)
    let again = try FileContextStore.openingLazily(directory: directory, logger: logger)
    let (whole, _) = try await again.records(in: .timeline(user(1)), after: next)
    #expect(whole.count == 52, "53 records, the garbled first one skipped")
  }
}

/// Counts the saves of the store it wraps.
final class CountingProgressStore: SyncProgressStore {
  let base: any SyncProgressStore
  let saves = Mutex(0)
  init(_ base: any SyncProgressStore) { self.base = base }
  func load() async throws -> SyncProgress { try await base.load() }
  func save(_ changes: SyncProgress.Changes) async throws {
    try await base.save(changes)
    saves.withLock { $0 += 1 }
  }
}

@Suite("A synchronizer scans a large history in chunks")
struct ChunkedScanTests {
  @Test("a round reads a chunk, delivers it and saves its progress, then reads on: every post arrives once")
  func chunkedRound() async throws {
    try await withTemporaryDirectory { root in
      let clock = ManualClock()
      let sns = try TinySNS(root: root, clock: clock, logger: quietLogger)
      await sns.heartbeatAll()
      let authors = [user(1), user(4), user(7)]
      let follower = sns.client(for: user(2))
      _ = try await follower.execute(.login)
      for author in authors { _ = try await sns.client(for: author).execute(.login) }
      // Twice: synchronizers register with their first round, so the first pass cannot reach later ones.
      try await sns.syncAll()
      try await sns.syncAll()
      for author in authors { #expect(try await follower.execute(.follow(author)) == .success) }
      try await sns.syncAll()
      clock.advance(by: .milliseconds(5))
      for author in authors {
        for number in 1...5 {
          clock.advance(by: .milliseconds(1))
          _ = try await sns.client(for: author).execute(.post(text("\(author) says \(number)")))
        }
      }
      var counting: CountingProgressStore?
      let synchronizer = try extraSynchronizer(
        ofCluster: 1, in: sns, clock: clock, cursors: "synchronizer_chunks", scanChunkRecords: 3
      ) { base in
        let store = CountingProgressStore(base)
        counting = store
        return store
      }
      let report = try await synchronizer.round()
      #expect(report.posts == 15 && report.failed.isEmpty, "\(report)")
      #expect((counting?.saves.withLock { $0 } ?? 0) >= 3, "one save per chunk of about 3 records")
      let timeline = try await timelinePosts(sns, cluster: 2, server: 1, user: user(2))
      #expect(Set(timeline.map(\.id)).count == 15 && timeline.count == 15, "\(timeline.map(\.text.value))")
    }
  }
}
