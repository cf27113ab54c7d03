import SNSCore
import Testing

@Suite("SynchronizerState")
struct SynchronizerStateTests {
  let configuration = SynchronizerConfiguration(
    cluster: cluster(1), endpoint: endpoint("s1:1"), clusterCount: 3)
  func at(_ ms: Int64) -> Timestamp { Timestamp(milliseconds: ms) }

  @Test("a round sends users everywhere, follows to the followee's cluster, posts to followers' clusters")
  func plan() {
    var state = SynchronizerState(configuration: configuration)
    let follow = FollowEvent(kind: .follow, follower: user(1), followee: user(2), sequence: 1, time: at(10))
    let post = Post(id: PostID(author: user(4), sequence: 1), time: at(20), text: text("p"))
    state.onScanned(users: [user(1), user(4), user(2)], follows: [follow], posts: [post])
    // 3 (cluster 3) followed 4 at time 5.
    let followerOf4 = FollowEvent(
      kind: .follow, follower: user(3), followee: user(4), sequence: 1, time: at(5))
    let plan = state.planRound(followerEvents: [user(4): [followerOf4]])
    #expect(
      plan.batches[cluster(2)] == SyncBatch(from: cluster(1), users: [user(1), user(4)], follows: [follow]))
    #expect(
      plan.batches[cluster(3)] == SyncBatch(from: cluster(1), users: [user(1), user(4)], posts: [post]))
    #expect(plan.batches[cluster(1)] == nil)
  }

  @Test("an item is delivered once every destination it needs acknowledged; others are sent again")
  func cursors() {
    var state = SynchronizerState(configuration: configuration)
    let toTwo = FollowEvent(kind: .follow, follower: user(1), followee: user(2), sequence: 1, time: at(1))
    let toThree = FollowEvent(kind: .follow, follower: user(1), followee: user(3), sequence: 2, time: at(2))
    state.onScanned(users: [], follows: [toTwo, toThree], posts: [])
    let plan = state.planRound(followerEvents: [:])
    let advanced = state.onRoundDelivered(plan, acknowledged: [cluster(1), cluster(3)])
    #expect(advanced == [SyncStream(.follows, of: user(1))])
    #expect(state.progressToSave().delivered[SyncStream(.follows, of: user(1))]?.contains(1) == false)
    let retry = state.planRound(followerEvents: [:])
    #expect(retry.batches[cluster(2)]?.follows == [toTwo])
    #expect(retry.batches[cluster(3)] == nil)
    #expect(state.onRoundDelivered(retry, acknowledged: [cluster(2)]) == [SyncStream(.follows, of: user(1))])
    #expect(state.planRound(followerEvents: [:]).batches.isEmpty)
    // A rescan after a restart with the saved cursors sends nothing again.
    let saved = state.progressToSave()
    #expect(saved.delivered == [SyncStream(.follows, of: user(1)): DeliveredSequences(through: 2)])
    var restarted = SynchronizerState(configuration: configuration)
    restarted.onProgressLoaded(SyncProgress(delivered: saved.delivered))
    restarted.onScanned(users: [], follows: [toTwo, toThree], posts: [])
    #expect(restarted.planRound(followerEvents: [:]).batches.isEmpty)
  }

  @Test("an item that reaches the files after later ones is still delivered")
  func lateItem() {
    var state = SynchronizerState(configuration: configuration)
    let followerOf4 = FollowEvent(
      kind: .follow, follower: user(3), followee: user(4), sequence: 1, time: at(1))
    func post(_ sequence: UInt64) -> Post {
      Post(id: PostID(author: user(4), sequence: sequence), time: at(10), text: text("p\(sequence)"))
    }
    state.onScanned(users: [], follows: [], posts: [post(1), post(3)])
    let first = state.planRound(followerEvents: [user(4): [followerOf4]])
    _ = state.onRoundDelivered(first, acknowledged: Set((1...3).map(cluster)))
    // Post 2 shows up only now (it came back with a slave's catch-up): it must not be skipped.
    state.onScanned(users: [], follows: [], posts: [post(1), post(2), post(3)])
    let second = state.planRound(followerEvents: [user(4): [followerOf4]])
    #expect(second.batches[cluster(3)]?.posts == [post(2)])
  }

  @Test("the receiver puts a post only on timelines of users who followed its author at the post's time")
  func receiverFilter() {
    let state = SynchronizerState(configuration: configuration)
    let history = FollowHistory(events: [
      FollowEvent(kind: .follow, follower: user(1), followee: user(2), sequence: 1, time: at(10)),
      FollowEvent(kind: .unfollow, follower: user(1), followee: user(2), sequence: 2, time: at(30)),
      FollowEvent(kind: .follow, follower: user(4), followee: user(2), sequence: 1, time: at(25)),
    ])
    let early = Post(id: PostID(author: user(2), sequence: 1), time: at(5), text: text("early"))
    let middle = Post(id: PostID(author: user(2), sequence: 2), time: at(20), text: text("middle"))
    let late = Post(id: PostID(author: user(2), sequence: 3), time: at(40), text: text("late"))
    let records = state.records(
      applying: SyncBatch(from: cluster(2), posts: [early, middle, late]), localFollows: history,
      localUsers: [user(1), user(4)])
    #expect(
      records == [
        PlacedRecord(.post(middle), in: .timeline(user(1))),
        PlacedRecord(.post(late), in: .timeline(user(4))),
      ])
  }
}

@Suite("Backfill requests")
struct BackfillRequestTests {
  @Test("many follows of one followee in a batch ask for its posts once, from the earliest follow")
  func oneCursorPerFollowee() {
    let state = SynchronizerState(
      configuration: SynchronizerConfiguration(
        cluster: cluster(1), endpoint: endpoint("s1:1"), clusterCount: 3))
    // Users 2 and 3 (other clusters) follow and unfollow user 1 (here) again and again; user 5 follows 4.
    var follows: [FollowEvent] = []
    for round in 0..<50 {
      for follower in [2, 3] {
        follows.append(
          FollowEvent(
            kind: round % 2 == 0 ? .follow : .unfollow, follower: user(follower), followee: user(1),
            sequence: UInt64(round + 1), time: Timestamp(milliseconds: Int64(1_000 + 10 * round + follower))))
      }
    }
    follows.append(
      FollowEvent(
        kind: .follow, follower: user(5), followee: user(4), sequence: 1, time: Timestamp(milliseconds: 7)))
    let cursors = state.backfillRequests(for: SyncBatch(from: cluster(2), follows: follows))
    #expect(
      cursors == [
        BackfillCursor(followee: user(1), since: Timestamp(milliseconds: 1_002)),
        BackfillCursor(followee: user(4), since: Timestamp(milliseconds: 7)),
      ])
  }
}
