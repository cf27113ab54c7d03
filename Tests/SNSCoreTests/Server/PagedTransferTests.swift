import Foundation
import SNSTestSupport
import Testing

@testable import SNSCore

/// Catch-ups, mirror backlogs and sync batches move in pages of bounded size, whatever the data size.
@Suite("Paged transfers")
struct PagedTransferTests {
  func posts(_ count: Int, by author: Int, text words: String = "a post of some length") -> [PlacedRecord] {
    (1...count).map { index in
      PlacedRecord(
        .post(
          Post(
            id: PostID(author: user(author), sequence: UInt64(index)),
            time: Timestamp(milliseconds: Int64(index)), text: text("\(words) \(index)"))),
        in: .timeline(user(author)))
    }
  }

  @Test("pages keep order, cover every record once, and stay under the limit (one record at least)")
  func recordPages() {
    let records = posts(500, by: 1)
    let pages = PlacedRecord.pages(of: records, maxBytes: 1_000)
    #expect(pages.count > 10)
    #expect(pages.flatMap { $0 } == records)
    for page in pages {
      let bytes = page.map { RecordCodec.encodedSize(of: $0.record) }.reduce(0, +)
      #expect(bytes <= 1_000 || page.count == 1)
    }
    #expect(PlacedRecord.pages(of: records, maxBytes: 1).count == records.count)
    #expect(PlacedRecord.pages(of: [], maxBytes: 1_000).isEmpty)
  }

  @Test("a sync batch splits into batches of users, then follows, then posts, nothing lost")
  func syncBatchPages() {
    let follow = FollowEvent(
      kind: .follow, follower: user(1), followee: user(2), sequence: 1, time: Timestamp(milliseconds: 1))
    let batch = SyncBatch(
      from: cluster(1), users: (1...50).map { user($0) }, follows: [follow],
      posts: posts(300, by: 1).compactMap { if case .post(let post) = $0.record { post } else { nil } })
    let pages = batch.pages(maxBytes: 2_000)
    #expect(pages.count > 5)
    #expect(pages.flatMap(\.users) == batch.users)
    #expect(pages.flatMap(\.follows) == batch.follows)
    #expect(pages.flatMap(\.posts) == batch.posts)
    #expect(pages.allSatisfy { !$0.isEmpty && $0.from == batch.from })
    #expect(SyncBatch(from: cluster(1)).pages(maxBytes: 10).count == 1, "an empty batch is still delivered")
  }

  @Test("a catch-up in small pages brings every record of every file: users, both follow sides, all posts")
  func catchUpPages() async throws {
    try await withTemporaryDirectory { root in
      let clock = ManualClock()
      guard let started = try await tinySNSWithRoles(root: root, clock: clock) else { return }
      let (_, master, _, epoch) = started
      let directory = ServerDirectoryLayout.serverDirectory(
        in: (root as NSString).appendingPathComponent("cluster_1"), id: server(1), roleIfNew: .master)
      let store = try FileContextStore(directory: directory, logger: quietLogger)
      let follow = FollowEvent(
        kind: .follow, follower: user(4), followee: user(1), sequence: 1, time: Timestamp(milliseconds: 1))
      var written =
        [PlacedRecord(.user(user(1)), in: .users), PlacedRecord(.user(user(4)), in: .users)]
        + [
          PlacedRecord(.following(follow), in: .follows(user(4))),
          PlacedRecord(.follower(follow), in: .follows(user(1))),
        ]
        + posts(200, by: 1) + posts(100, by: 4)
      // A post delivered to 4's timeline by a synchronizer: not 4's own, and needed after a failover too.
      written += [PlacedRecord(posts(1, by: 1)[0].record, in: .timeline(user(4)))]
      _ = try await store.append(written)
      var received: [PlacedRecord] = []
      var position: CatchUpPosition?
      var pages = 0
      repeat {
        let reply = try await master.catchUp(CatchUpRequest(epoch: epoch, after: position, maxBytes: 700))
        received += reply.records
        position = reply.next
        pages += 1
      } while position != nil && pages < 10_000
      #expect(pages > 20)
      #expect(Set(received) == Set(written))
      #expect(received.count == Set(received).count, "a record came twice")
    }
  }
}
