import Foundation
import SNSCore
import SNSTestSupport
import Testing

@Suite("The whole topology in one process")
struct TopologyScenarioTests {
  static let heartbeat = Duration.seconds(10)

  /// Builds 3 clusters on a manual clock with every server registered (server 1 of each cluster is master).
  func makeTopology(_ root: String) async throws -> (TinySNS, ManualClock) {
    let clock = ManualClock()
    let sns = try TinySNS(
      root: root, clusterCount: 3, clock: clock, heartbeatInterval: Self.heartbeat, logger: quietLogger)
    await sns.heartbeatAll()
    return (sns, clock)
  }

  @Test("posts reach followers on other clusters only after a sync round, in order; LIST shows everyone")
  func crossClusterTimeline() async throws {
    try await withTemporaryDirectory { root in
      let (sns, clock) = try await makeTopology(root)
      let clients = (1...6).map { sns.client(for: user($0)) }
      for client in clients { #expect(try await client.execute(.login) == .success) }
      try await sns.syncAll()  // users propagate
      #expect(try await clients[0].execute(.follow(user(2))) == .success)
      #expect(try await clients[0].execute(.follow(user(5))) == .success)
      try await sns.syncAll()  // follows propagate
      clock.advance(by: .seconds(1))
      #expect(try await clients[1].execute(.post(text("hello from 2"))) == .success)
      clock.advance(by: .seconds(1))
      #expect(try await clients[4].execute(.post(text("hello from 5"))) == .success)

      let before = try await clients[0].timeline()
      #expect(before.initial.isEmpty, "user 1 must see nothing before a sync round")

      try await sns.syncAll()
      let after = try await clients[0].timeline()
      #expect(after.initial.map(\.text.value) == ["hello from 5", "hello from 2"])  // newest first
      // Both servers of cluster 1 got the delivery (F writes every server directory of its cluster).
      for server in [1, 2] {
        let posts = try await timelinePosts(sns, cluster: 1, server: server, user: user(1))
        #expect(posts.map(\.text.value) == ["hello from 2", "hello from 5"])
      }

      let list = try await clients[0].execute(.list)
      #expect(list.allUsers == (1...6).map(user))
      let listOf2 = try await clients[1].execute(.list)
      #expect(listOf2.followers == [user(1)])
    }
  }

  @Test("within one cluster a follower also waits for the synchronizer")
  func sameClusterWaitsForSync() async throws {
    try await withTemporaryDirectory { root in
      let (sns, clock) = try await makeTopology(root)
      let one = sns.client(for: user(1))
      let four = sns.client(for: user(4))  // cluster 1 too
      _ = try await one.execute(.login)
      _ = try await four.execute(.login)
      #expect(try await one.execute(.follow(user(4))) == .success)
      clock.advance(by: .seconds(1))
      _ = try await four.execute(.post(text("same cluster")))
      #expect(try await one.timeline().initial.isEmpty)
      try await sns.syncAll()
      #expect(try await one.timeline().initial.map(\.text.value) == ["same cluster"])
    }
  }

  @Test("a post made before the follow is not delivered; one made after is, even when the follow syncs late")
  func followTimeMatters() async throws {
    try await withTemporaryDirectory { root in
      let (sns, clock) = try await makeTopology(root)
      let one = sns.client(for: user(1))
      let two = sns.client(for: user(2))
      _ = try await one.execute(.login)
      _ = try await two.execute(.login)
      try await sns.syncAll()
      _ = try await two.execute(.post(text("before")))
      clock.advance(by: .seconds(1))
      _ = try await one.execute(.follow(user(2)))
      clock.advance(by: .seconds(1))
      _ = try await two.execute(.post(text("after")))
      // Cluster 2's synchronizer routes 2's posts before it learns of the follow: the backfill must catch up.
      try await sns.synchronizers[1].round()
      try await sns.syncAll()
      try await sns.syncAll()
      #expect(try await one.timeline().initial.map(\.text.value) == ["after"])
      clock.advance(by: .seconds(1))
      _ = try await one.execute(.unfollow(user(2)))
      clock.advance(by: .seconds(1))
      _ = try await two.execute(.post(text("after unfollow")))
      try await sns.syncAll()
      try await sns.syncAll()
      #expect(try await one.timeline().initial.map(\.text.value) == ["after"])
    }
  }
}
