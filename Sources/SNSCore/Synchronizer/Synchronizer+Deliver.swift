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
    var backfill: [Post] = []
    for (followee, since) in state.backfillRequests(for: batch) {
      for case .post(let post) in try await reference.records(in: .timeline(followee))
      where post.author == followee && post.time >= since {
        backfill.append(post)
      }
    }
    if !records.isEmpty {
      logger.debug("applied batch", metadata: ["from": "\(batch.from)", "records": "\(records.count)"])
    }
    return SyncAck(backfill: backfill)
  }

  /// The directory whose files are authoritative for local users: the current master's, asked now. The master
  /// may have changed since the last round, and any other directory may lack its latest follow events, so
  /// without the coordinator's answer the delivery fails and the sender tries again next round.
  ///
  /// Found by the simulation (seeds 120 and 1081): falling back to the directory scanned last (when the status
  /// call was dropped) filtered a post with a replaced master's follow events, before an acknowledged
  /// unfollow, and delivered it to a user who no longer followed its author.
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
