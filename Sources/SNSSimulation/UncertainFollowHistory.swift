import SNSCore

/// A user's follow events on the final master, some of them uncertain: an event no acknowledged request accounts
/// for may have reached the master only after a synchronizer routed a post (a slave kept a write its master
/// then failed to make, and handed it over in a later catch-up). Which of them a synchronizer saw is unknown,
/// so each may count or not.
///
/// Found by the simulation (seed 6051): the earlier checker tried "without each uncertain event" and "without
/// all", which missed the case of two retried unfollows that surfaced late together while an earlier follow
/// was visible all along.
struct UncertainFollowHistory {
  /// Events per followee, in the follower's sequence order (the order ``FollowHistory`` folds them in).
  private let byFollowee: [UserID: [FollowEvent]]
  private let uncertain: Set<FollowEvent>

  init(events: [FollowEvent], uncertain: Set<FollowEvent>) {
    self.byFollowee = Dictionary(grouping: events, by: \.followee).mapValues {
      $0.sorted { $0.sequence < $1.sequence }
    }
    self.uncertain = uncertain
  }

  /// Whether the follower followed `followee` at `time` for some choice of which uncertain events counted
  /// (`possibly`), and for every choice (`surely`).
  ///
  /// Events in the same millisecond as `time` cannot be ordered against the post: any prefix of them (in
  /// sequence order) may have been in force. Found by the simulation (seed 9624): a follow and an unfollow in
  /// the post's own millisecond, with the post routed between them.
  func judge(_ followee: UserID, at time: Timestamp) -> (possibly: Bool, surely: Bool) {
    let events = byFollowee[followee] ?? []
    let tied = events.filter { $0.time == time }
    var possibly = false
    var surely = true
    for inForce in 0...tied.count {
      let counted = Set(tied.prefix(inForce))
      let verdict = judge(events.filter { $0.time < time || counted.contains($0) })
      possibly = possibly || verdict.possibly
      surely = surely && verdict.surely
    }
    return (possibly, surely)
  }

  /// The verdict over `events` (sequence order), all counted unless uncertain. The state is the kind of the
  /// last counted event. Going back from the newest: uncertain events may be skipped; the first certain one
  /// stops the walk, since it always counts.
  private func judge(_ events: [FollowEvent]) -> (possibly: Bool, surely: Bool) {
    var possibly = false
    var surely = true
    for event in events.reversed() {
      let isFollow = event.kind == .follow
      possibly = possibly || isFollow
      surely = surely && isFollow
      if !uncertain.contains(event) {
        return (possibly, surely)
      }
    }
    // Every event may be skipped: then there is no follow at all.
    return (possibly, false)
  }
}
