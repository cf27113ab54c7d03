import Foundation
import SNSCore
import SNSTestSupport
import Testing

/// A follow that reaches the followee's synchronizer after the followee posted a lot is answered with those
/// posts, a transfer page at a time: one reply with all of them could outgrow the transport's message limit
/// and wedge the delivery for good.
@Suite("Backfill in pages")
struct BackfillPagingTests {
  /// A three-cluster deployment in which user 2 (cluster 2) posted `count` posts, a millisecond apart; the
  /// deployment and each post's time.
  static func userTwoPosts(
    _ count: Int, root: String, clock: ManualClock, _ text: (Int) -> String
  ) async throws -> (TinySNS, [Timestamp]) {
    let sns = try TinySNS(root: root, clock: clock, logger: quietLogger)
    await sns.heartbeatAll()
    let two = sns.client(for: user(2))
    _ = try await two.execute(.login)
    var times: [Timestamp] = []
    for index in 1...count {
      clock.advance(by: .milliseconds(1))
      times.append(clock.now())
      _ = try await two.execute(.post(SNSCoreTests.text(text(index))))
    }
    return (sns, times)
  }

  @Test("a late follow of a user with 200 posts gets them all, each once, in replies of about one page")
  func pagedBackfill() async throws {
    try await withTemporaryDirectory { root in
      let clock = ManualClock()
      let followTime = clock.now()
      let (sns, _) = try await Self.userTwoPosts(200, root: root, clock: clock) { "post \($0)" }
      let pageBytes = 1_000
      let synchronizer = try extraSynchronizer(
        ofCluster: 2, in: sns, clock: clock, cursors: "synchronizer_paging", pageBytes: pageBytes)

      let follow = FollowEvent(
        kind: .follow, follower: user(1), followee: user(2), sequence: 1, time: followTime)
      var ack = try await synchronizer.deliver(
        SyncBatch(from: cluster(1), users: [user(1)], follows: [follow]))
      var received: [Post] = []
      var replies = 0
      while true {
        replies += 1
        received += ack.backfill
        let bytes = ack.backfill.reduce(0) { $0 + RecordCodec.encodedSize(of: .post($1)) }
        let largest = ack.backfill.map { RecordCodec.encodedSize(of: .post($0)) }.max() ?? 0
        #expect(bytes <= pageBytes + largest, "reply \(replies): \(bytes) bytes")
        guard !ack.more.isEmpty else { break }
        #expect(replies < 1_000, "no progress")
        guard replies < 1_000 else { break }
        ack = try await synchronizer.deliver(SyncBatch(from: cluster(1), backfill: ack.more))
      }
      #expect(received.map(\.text.value) == (1...200).map { "post \($0)" })
      #expect(replies > 10)
    }
  }

  @Test("two followers' backfills of one followee: a page cut at the second one's first post skips nothing")
  func twoCursorsOfOneFollowee() async throws {
    try await withTemporaryDirectory { root in
      let clock = ManualClock()
      let (sns, times) = try await Self.userTwoPosts(10, root: root, clock: clock) {
        "post \($0 < 10 ? "0" : "")\($0)"
      }
      let posts = try await timelinePosts(sns, cluster: 2, server: 1, user: user(2))
      try #require(posts.count == 10)
      // Room for the later follower's two posts and half of a third: the page ends at the earlier follower's
      // first post.
      let size = RecordCodec.encodedSize(of: .post(posts[0]))
      let synchronizer = try extraSynchronizer(
        ofCluster: 2, in: sns, clock: clock, cursors: "synchronizer_paging", pageBytes: 2 * size + size / 2)
      let late = FollowEvent(kind: .follow, follower: user(1), followee: user(2), sequence: 1, time: times[8])
      let early = FollowEvent(
        kind: .follow, follower: user(4), followee: user(2), sequence: 1, time: times[0])
      var ack = try await synchronizer.deliver(
        SyncBatch(from: cluster(1), users: [user(1), user(4)], follows: [late, early]))
      var received: Set<PostID> = []
      for _ in 0..<100 {
        received.formUnion(ack.backfill.map(\.id))
        guard !ack.more.isEmpty else { break }
        ack = try await synchronizer.deliver(SyncBatch(from: cluster(1), backfill: ack.more))
      }
      #expect(ack.more.isEmpty)
      #expect(received == Set(posts.map(\.id)))
    }
  }
}
