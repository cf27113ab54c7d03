extension Synchronizer {
  /// Applies a batch from another synchronizer (or this one's own round) to every server directory of the
  /// cluster, then answers with the backfill for its follow events. Idempotent: records carry their keys.
  public func deliver(_ batch: SyncBatch) async throws -> SyncAck {
    let stores = try await directories.stores()
    let (reference, live) = try await referenceStore(stores)
    let (history, localUsers) = try await localFollows(in: reference)
    let records = state.records(applying: batch, localFollows: history, localUsers: localUsers)
    for id in stores.keys.sorted() {
      guard let store = stores[id] else { continue }
      do {
        try await store.append(records)
      } catch  where !live.contains(id) {
        // A server the coordinator holds dead (killed, or paused with its files locked) must not stop the
        // cluster's delivery: when it returns, its catch-up from the master brings delivered posts too.
        logger.warning(
          "skipped the directory of a server that is not alive",
          metadata: ["server": "\(id)", "error": "\(error)"])
      }
    }
    if !records.isEmpty {
      logger.debug("applied batch", metadata: ["from": "\(batch.from)", "records": "\(records.count)"])
    }
    return try await backfill(state.backfillRequests(for: batch) + batch.backfill, from: reference)
  }

  /// Sends `batch` (to another synchronizer, or to this one's own `deliver`) and stores the backfill of each
  /// answer in this cluster's directories, asking again while an answer says there is more.
  func send(
    _ batch: SyncBatch, from destination: ClusterID, with deliver: (SyncBatch) async throws -> SyncAck
  ) async throws {
    var ack = try await deliver(batch)
    while true {
      if !ack.backfill.isEmpty {
        _ = try await self.deliver(SyncBatch(from: destination, posts: ack.backfill))
      }
      guard !ack.more.isEmpty else { return }
      // A receiver that says "more" sends at least one post with it; without, asking again would loop.
      guard !ack.backfill.isEmpty else {
        throw SNSError.unavailable("cluster \(destination) answered a backfill without posts")
      }
      ack = try await deliver(SyncBatch(from: configuration.cluster, backfill: ack.more))
    }
  }

  /// The followees' posts the cursors ask for, about one transfer page of them (at least one post), and
  /// where the rest goes on. In sequence order per followee, so that a cursor's `afterSequence` skips exactly
  /// what was sent; a post appended after a cursor was handed out with a lower sequence is not lost: it is
  /// appended after its follower record was, so this synchronizer's rounds route it as a new post.
  func backfill(_ cursors: [BackfillCursor], from reference: any ContextStore) async throws -> SyncAck {
    var ack = SyncAck()
    var bytes = 0
    for cursor in cursors {
      guard ack.backfill.isEmpty || bytes < configuration.transferPageBytes else {
        ack.more.append(cursor)
        continue
      }
      var posts: [Post] = []
      for case .post(let post) in try await reference.records(in: .timeline(cursor.followee))
      where post.author == cursor.followee && post.time >= cursor.since
        && post.id.sequence > cursor.afterSequence
      {
        posts.append(post)
      }
      // What this cursor sent: another cursor for the same followee (a second follower, another `since`) may
      // have sent higher sequences into this reply, and going on after those would skip this one's posts.
      var sent = cursor.afterSequence
      for post in posts.sorted(by: { $0.id < $1.id }) {
        let size = RecordCodec.encodedSize(of: .post(post))
        if !ack.backfill.isEmpty && bytes + size > configuration.transferPageBytes {
          ack.more.append(BackfillCursor(followee: cursor.followee, since: cursor.since, afterSequence: sent))
          break
        }
        ack.backfill.append(post)
        bytes += size
        sent = post.id.sequence
      }
    }
    return ack
  }

  /// The directory whose files are authoritative for local users: the current master's, asked now. The master
  /// may have changed since the last round, and any other directory may lack its latest follow events, so
  /// without the coordinator's answer the delivery fails and the sender tries again next round.
  ///
  /// Falling back to the directory scanned last (when the status call fails) could filter a post with a
  /// replaced master's follow events, which may lack an acknowledged unfollow, and deliver it to a user who
  /// no longer follows its author.
  ///
  /// Also returns the servers whose directories must take every delivery: the master and the live slaves.
  func referenceStore(_ stores: [ServerID: any ContextStore]) async throws -> (
    any ContextStore, live: Set<ServerID>
  ) {
    let status: CoordinatorStatus
    do {
      status = try await coordinator.status()
    } catch {
      throw SNSError.unavailable(
        "cannot ask the coordinator for cluster \(configuration.cluster)'s master: \(error)")
    }
    let cluster = status.clusters.first(where: { $0.id == configuration.cluster })
    guard let master = cluster?.master, let store = stores[master] else {
      throw SNSError.unavailable("cluster \(configuration.cluster) has no master directory yet")
    }
    let live = Set(cluster?.servers.filter(\.alive).map(\.id) ?? []).union([master])
    return (store, live)
  }

  /// Every local user, and their own follow events: who follows whom, from the follower's side.
  func localFollows(in store: any ContextStore) async throws -> (FollowHistory, [UserID]) {
    var users: Set<UserID> = []
    for case .user(let user) in try await store.records(in: .users)
    where state.cluster(of: user) == configuration.cluster {
      users.insert(user)
    }
    var events: [FollowEvent] = []
    for file in try await store.files() {
      guard case .follows(let user) = file, users.contains(user) else { continue }
      for case .following(let event) in try await store.records(in: file) where event.follower == user {
        events.append(event)
      }
    }
    return (FollowHistory(events: events), users.sorted())
  }
}
