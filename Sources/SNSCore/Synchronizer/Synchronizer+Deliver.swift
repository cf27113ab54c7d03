extension Synchronizer {
  /// Applies a batch from another synchronizer (or this one's own round) to every server directory of the
  /// cluster, then answers with the backfill for its follow events. Idempotent: records carry their keys.
  public func deliver(_ batch: SyncBatch) async throws -> SyncAck {
    let stores = try await directories.stores()
    let reference = try await referenceStore(stores)
    let (history, localUsers) = try await localFollows(in: reference)
    let records = state.records(applying: batch, localFollows: history, localUsers: localUsers)
    for id in stores.keys.sorted() {
      guard let store = stores[id] else { continue }
      try await store.append(records)
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
  func referenceStore(_ stores: [ServerID: any ContextStore]) async throws -> any ContextStore {
    let status: CoordinatorStatus
    do {
      status = try await coordinator.status()
    } catch {
      throw SNSError.unavailable(
        "cannot ask the coordinator for cluster \(configuration.cluster)'s master: \(error)")
    }
    guard let master = status.clusters.first(where: { $0.id == configuration.cluster })?.master,
      let store = stores[master]
    else {
      throw SNSError.unavailable("cluster \(configuration.cluster) has no master directory yet")
    }
    return store
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
