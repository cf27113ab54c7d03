import Foundation
import SNSTestSupport
import Testing

@testable import SNSCore

/// One client write under two sequences: its first attempt is an orphan on the slave (mirrored, then refused
/// by the master), and a master lacking it gave the retry, with the same request key, a new sequence. Every
/// way records move between master and slave keeps one copy.
@Suite("A retried write stored under two sequences")
struct RetryCopyTests {
  static let key = RequestKey(0x8ed4_2ec6_7eb5_4549)

  func post(_ sequence: UInt64, _ words: String, key: RequestKey? = Self.key, time: Timestamp) -> PlacedRecord
  {
    PlacedRecord(
      .post(Post(id: PostID(author: user(1), sequence: sequence), time: time, text: text(words), key: key)),
      in: .timeline(user(1)))
  }

  func follow(_ sequence: UInt64, time: Timestamp) -> PlacedRecord {
    PlacedRecord(
      .following(
        FollowEvent(
          kind: .follow, follower: user(1), followee: user(4), sequence: sequence, time: time, key: Self.key)),
      in: .follows(user(1)))
  }

  /// How many of user 1's posts (in server `id`'s files) carry the request key, and the sequences of all.
  func keyedPosts(_ sns: TinySNS, server id: Int) async throws -> (copies: Int, sequences: [UInt64]) {
    let posts = try await timelinePosts(sns, cluster: 1, server: id, user: user(1))
    return (posts.count { $0.key == Self.key }, posts.map(\.id.sequence))
  }

  /// Sends `records` to `slave` as its master's mirror of `epoch`.
  func mirror(_ records: [PlacedRecord], to slave: Server, epoch: Epoch) async throws {
    try await slave.mirror(MirrorRequest(cluster: cluster(1), epoch: epoch, records: records))
  }

  /// Runs `body` on a façade whose cluster 1 has server 1 as master and server 2 as its slave.
  func withRoles(
    _ body: (
      _ sns: TinySNS, _ master: Server, _ slave: Server, _ epoch: Epoch, _ clock: ManualClock, _ root: String
    )
      async throws -> Void
  ) async throws {
    try await withTemporaryDirectory { root in
      let clock = ManualClock()
      guard let (sns, master, slave, epoch) = try await tinySNSWithRoles(root: root, clock: clock) else {
        return
      }
      try await body(sns, master, slave, epoch, clock, root)
    }
  }

  @Test("the catch-up from the master removes the slave's copy under the other sequence")
  func catchUpRemovesTheSlavesCopy() async throws {
    try await withRoles { sns, master, slave, epoch, clock, root in
      // Orphans on the slave: sequence 1 (another write) and 2 (the first attempt of the keyed one).
      let first = clock.now()
      try await mirror(
        [
          post(1, "other", key: nil, time: first), post(2, "the post", time: first), follow(2, time: first),
        ], to: slave, epoch: epoch)
      // The master's files: the retry, given sequence 1.
      clock.advance(by: .seconds(39))
      try await FileContextStore(directory: clusterOneDirectory(root, server: 1), logger: quietLogger).append(
        [
          post(1, "the post", time: clock.now()), follow(1, time: clock.now()),
        ])
      let reply = try await master.catchUp(CatchUpRequest(epoch: epoch))
      try await slave.applyFromMaster(reply.records)

      let slaveHolds = try await keyedPosts(sns, server: 2)
      #expect(slaveHolds.copies == 1)
      #expect(slaveHolds.sequences == [1])
      let slaveStore = try FileContextStore(
        directory: clusterOneDirectory(root, server: 2), logger: quietLogger)
      let events = try await slaveStore.records(in: .follows(user(1)))
      #expect(events == [follow(1, time: clock.now()).record])
    }
  }

  @Test("the master's mirror of the retry removes the slave's copy of the first attempt")
  func mirrorRemovesTheSlavesCopy() async throws {
    try await withRoles { sns, _, slave, epoch, clock, _ in
      try await mirror([post(2, "the post", time: clock.now())], to: slave, epoch: epoch)
      clock.advance(by: .seconds(39))
      try await mirror([post(1, "the post", time: clock.now())], to: slave, epoch: epoch)
      let slaveHolds = try await keyedPosts(sns, server: 2)
      #expect(slaveHolds.copies == 1)
      #expect(slaveHolds.sequences == [1])
    }
  }

  @Test("a master pulling its slave's records keeps its own copy and leaves the slave's")
  func reconcileKeepsTheMastersCopy() async throws {
    try await withRoles { sns, master, slave, epoch, clock, root in
      try await mirror([post(2, "the post", time: clock.now())], to: slave, epoch: epoch)
      clock.advance(by: .seconds(39))
      try await FileContextStore(directory: clusterOneDirectory(root, server: 1), logger: quietLogger).append(
        [
          post(1, "the post", time: clock.now())
        ])
      let slaveDescriptor = ServerDescriptor(
        cluster: cluster(1), id: server(2), endpoint: endpoint("cluster1-server2:10002"), role: .slave)
      let pulled = await master.pull(
        from: slaveDescriptor, epoch: epoch, authoritative: false, what: "pull from the slave")
      #expect(pulled)
      let masterHolds = try await keyedPosts(sns, server: 1)
      #expect(masterHolds.copies == 1)
      #expect(masterHolds.sequences == [1])
    }
  }

  @Test("a mirror whose removal of the other copy fails (a full disk) is still acknowledged: it is stored")
  func failedRemovalDoesNotRefuseTheMirror() async throws {
    try await withRoles { sns, _, slave, epoch, clock, root in
      try await mirror([post(2, "the post", time: clock.now())], to: slave, epoch: epoch)
      // The rewrite's temporary file cannot be created (a directory stands at its path), as on a full disk.
      let timeline = (clusterOneDirectory(root, server: 2) as NSString).appendingPathComponent("1.timeline")
      try FileManager.default.createDirectory(
        atPath: timeline + ".replacing", withIntermediateDirectories: true)
      clock.advance(by: .seconds(39))
      // A storage refusal would tell the master that none of it is here: the master would refuse the write
      // for good while this server holds it.
      try await mirror([post(1, "the post", time: clock.now())], to: slave, epoch: epoch)
      #expect(try await keyedPosts(sns, server: 2).sequences.sorted() == [1, 2])
    }
  }

  @Test("the retry of a write under the sequence of its first attempt, with a later time, replaces it")
  func retryUnderTheSameSequenceReplacesTheFirstAttempt() async throws {
    try await withRoles { sns, _, slave, epoch, clock, _ in
      // The first attempt reached only the slave; the master, whose files lacked it, gave the retry the same
      // sequence at a later time. Refusing it would refuse every write until a catch-up replaced the first.
      let first = clock.now()
      try await mirror([post(1, "the post", time: first), follow(1, time: first)], to: slave, epoch: epoch)
      clock.advance(by: .seconds(48))
      let retry = [post(1, "the post", time: clock.now()), follow(1, time: clock.now())]
      try await mirror(retry, to: slave, epoch: epoch)
      let posts = try await timelinePosts(sns, cluster: 1, server: 2, user: user(1))
      #expect(posts.map(\.time) == [clock.now()])
      // A late copy of the first attempt changes nothing, and is not refused: it is the same write.
      try await mirror([post(1, "the post", time: first)], to: slave, epoch: epoch)
      #expect(try await timelinePosts(sns, cluster: 1, server: 2, user: user(1)).map(\.time) == [clock.now()])
    }
  }

  @Test("a different write under the same sequence is still refused")
  func differentWriteUnderTheSameSequenceIsRefused() async throws {
    try await withRoles { _, _, slave, epoch, clock, _ in
      try await mirror([post(1, "the post", time: clock.now())], to: slave, epoch: epoch)
      clock.advance(by: .seconds(48))
      let other = post(1, "another post", key: RequestKey(0x1234), time: clock.now())
      await #expect(throws: SNSError.self) {
        try await mirror([other], to: slave, epoch: epoch)
      }
    }
  }
}
