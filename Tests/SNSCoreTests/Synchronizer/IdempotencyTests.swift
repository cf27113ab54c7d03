import Foundation
import SNSCore
import SNSTestSupport
import Testing

@Suite("Idempotent sync")
struct IdempotencyTests {
  func snapshot(_ root: String) throws -> [String: Data] {
    var files: [String: Data] = [:]
    let enumerator = FileManager.default.enumerator(atPath: root)
    while let relative = enumerator?.nextObject() as? String {
      let path = (root as NSString).appendingPathComponent(relative)
      var isDirectory: ObjCBool = false
      if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
        files[relative] = FileManager.default.contents(atPath: path)
      }
    }
    return files
  }

  @Test("the same batch applied twice leaves every file byte-identical to applying it once")
  func batchTwice() async throws {
    try await withTemporaryDirectory { root in
      let clock = ManualClock()
      let sns = try TinySNS(root: root, clock: clock, logger: quietLogger)
      await sns.heartbeatAll()
      for number in [1, 4] { _ = try await sns.client(for: user(number)).execute(.login) }
      _ = try await sns.client(for: user(1)).execute(.follow(user(4)))
      try await sns.syncAll()
      let post = Post(id: PostID(author: user(2), sequence: 1), time: clock.now(), text: text("from afar"))
      let batch = SyncBatch(
        from: cluster(2), users: [user(2), user(5)],
        follows: [
          FollowEvent(kind: .follow, follower: user(2), followee: user(4), sequence: 1, time: clock.now())
        ],
        posts: [post])
      // User 1 must follow 2 for the post to land: 2 is known after the batch, so follow it first.
      _ = try await sns.synchronizers[0].deliver(SyncBatch(from: cluster(2), users: [user(2)]))
      clock.advance(by: .milliseconds(1))
      _ = try await sns.client(for: user(1)).execute(.follow(user(2)))
      let laterPost = Post(
        id: PostID(author: user(2), sequence: 2), time: clock.now() + .seconds(1), text: text("later"))
      var twice = batch
      twice.posts.append(laterPost)
      _ = try await sns.synchronizers[0].deliver(twice)
      let once = try snapshot(root)
      _ = try await sns.synchronizers[0].deliver(twice)
      #expect(try snapshot(root) == once)
      #expect(
        try await timelinePosts(sns, cluster: 1, server: 2, user: user(1)).map(\.text.value) == ["later"])
    }
  }

  @Test("a synchronizer restarted mid-round neither duplicates nor drops posts")
  func restartMidRound() async throws {
    try await withTemporaryDirectory { root in
      let clock = ManualClock()
      let sns = try TinySNS(root: root, clock: clock, logger: quietLogger)
      await sns.heartbeatAll()
      let one = sns.client(for: user(1))
      let two = sns.client(for: user(2))
      _ = try await one.execute(.login)
      _ = try await two.execute(.login)
      try await sns.syncAll()
      _ = try await one.execute(.follow(user(2)))
      try await sns.syncAll()
      clock.advance(by: .seconds(1))
      for index in 1...3 { _ = try await two.execute(.post(text("p\(index)"))) }
      // Cluster 2's synchronizer delivers to cluster 1 but "crashes" before persisting its cursors:
      // a fresh instance over the same files (no in-memory state) runs the round again.
      let peer = endpoint("cluster1-synchronizer:11000")
      _ = try await sns.synchronizers[1].round()
      let restarted = try extraSynchronizer(
        ofCluster: 2, in: sns, clock: clock, cursors: "synchronizer_2_restarted")
      let report = try await restarted.round()
      #expect(report.posts == 3, "without cursors everything is sent again")
      _ = peer
      clock.advance(by: .seconds(1))
      _ = try await two.execute(.post(text("p4")))
      try await restarted.round()
      for server in [1, 2] {
        let posts = try await timelinePosts(sns, cluster: 1, server: server, user: user(1))
        #expect(posts.map(\.text.value) == ["p1", "p2", "p3", "p4"])
      }
    }
  }
}
