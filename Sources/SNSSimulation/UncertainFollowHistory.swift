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
  /// The state at `time` is the kind of the last counted event at or before it. Going back from the newest such
  /// event: uncertain events may be skipped; the first certain one stops the walk, since it always counts.
  func judge(_ followee: UserID, at time: Timestamp) -> (possibly: Bool, surely: Bool) {
    let events = (byFollowee[followee] ?? []).filter { $0.time <= time }
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
