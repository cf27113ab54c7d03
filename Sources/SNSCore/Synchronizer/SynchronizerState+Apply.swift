extension SynchronizerState {
  /// The records a received batch adds to every server directory of this cluster (DESIGN.md §5 step 4):
  /// users for `users`, follower records in the followee's follow file, and each post on the timeline of every
  /// local user who followed its author at the post's time according to their own follow events (`local`).
  public func records(applying batch: SyncBatch, localFollows local: FollowHistory, localUsers: [UserID])
    -> [PlacedRecord]
  {
    var records: [PlacedRecord] = []
    for user in batch.users {
      records.append(PlacedRecord(.user(user), in: .users))
    }
    for event in batch.follows where cluster(of: event.followee) == configuration.cluster {
      records.append(PlacedRecord(.follower(event), in: .follows(event.followee)))
    }
    for post in batch.posts {
      for follower in localUsers where local.follows(follower, post.author, at: post.time) {
        records.append(PlacedRecord(.post(post), in: .timeline(follower)))
      }
    }
    return records
  }

  /// The followees (local users) whose posts must be backfilled for the follow events of a batch,
  /// with the time from which on: a follow that arrives after the followee's posts were routed still gets them.
  public func backfillRequests(for batch: SyncBatch) -> [BackfillCursor] {
    batch.follows.filter { $0.kind == .follow && cluster(of: $0.followee) == configuration.cluster }
      .map { BackfillCursor(followee: $0.followee, since: $0.time) }
  }
}
