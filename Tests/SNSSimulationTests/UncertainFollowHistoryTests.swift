import SNSCore
import Testing

@testable import SNSSimulation

/// The checker's judgement of "did the user follow the author at that time?" when some follow events may have
/// surfaced only after the synchronizer routed a post.
@Suite("UncertainFollowHistory")
struct UncertainFollowHistoryTests {
  let follower: UserID
  let author: UserID

  init() throws {
    follower = try UserID(2)
    author = try UserID(1)
  }

  func event(_ kind: FollowEvent.Kind, _ sequence: UInt64, at milliseconds: Int64) -> FollowEvent {
    FollowEvent(
      kind: kind, follower: follower, followee: author, sequence: sequence,
      time: Timestamp(milliseconds: milliseconds))
  }

  @Test("certain events decide alone, as FollowHistory does")
  func certainOnly() {
    let events = [event(.follow, 1, at: 10), event(.unfollow, 2, at: 20)]
    let history = UncertainFollowHistory(events: events, uncertain: [])
    #expect(history.judge(author, at: Timestamp(milliseconds: 5)) == (false, false))
    #expect(history.judge(author, at: Timestamp(milliseconds: 15)) == (true, true))
    #expect(history.judge(author, at: Timestamp(milliseconds: 25)) == (false, false))
  }

  @Test("two uncertain unfollows after a certain follow may both be unseen (seed 6051)")
  func uncertainTail() {
    let follow = event(.follow, 1, at: 10)
    let unfollows = [event(.unfollow, 2, at: 20), event(.unfollow, 3, at: 20)]
    let history = UncertainFollowHistory(events: [follow] + unfollows, uncertain: Set(unfollows))
    #expect(history.judge(author, at: Timestamp(milliseconds: 30)) == (true, false))
  }

  @Test("a follow and an unfollow in the post's own millisecond: the post may have been routed between them")
  func sameMillisecond() {
    let events = [event(.follow, 1, at: 10), event(.unfollow, 2, at: 10)]
    let history = UncertainFollowHistory(events: events, uncertain: [])
    #expect(history.judge(author, at: Timestamp(milliseconds: 10)) == (true, false))
    #expect(history.judge(author, at: Timestamp(milliseconds: 11)) == (false, false))
  }

  @Test("an uncertain follow alone may not have counted; a certain unfollow after it always does")
  func uncertainFollow() {
    let follow = event(.follow, 1, at: 10)
    #expect(
      UncertainFollowHistory(events: [follow], uncertain: [follow]).judge(
        author, at: Timestamp(milliseconds: 30))
        == (true, false))
    let history = UncertainFollowHistory(events: [follow, event(.unfollow, 2, at: 20)], uncertain: [follow])
    #expect(history.judge(author, at: Timestamp(milliseconds: 30)) == (false, false))
  }
}
