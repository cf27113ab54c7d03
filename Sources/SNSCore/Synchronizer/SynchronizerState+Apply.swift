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

  /// The followees (local users) whose posts must be backfilled for the follow events of a batch, with the
  /// time from which on: a follow that arrives after the followee's posts were routed still gets them. One
  /// cursor per followee, from its earliest follow in the batch: the sender routes each post by its own
  /// follow history at the post's time, so one pass over a followee's posts serves every follow of them, and
  /// a batch of many follows of one user (a resend after a restart) costs one read of their timeline.
  public func backfillRequests(for batch: SyncBatch) -> [BackfillCursor] {
    var since: [UserID: Timestamp] = [:]
    for event in batch.follows
    where event.kind == .follow && cluster(of: event.followee) == configuration.cluster {
      since[event.followee] = min(since[event.followee] ?? event.time, event.time)
    }
    return since.keys.sorted().compactMap { followee in
      since[followee].map { BackfillCursor(followee: followee, since: $0) }
    }
  }
}
