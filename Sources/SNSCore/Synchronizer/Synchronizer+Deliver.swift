extension Synchronizer {
  /// Applies a batch from another synchronizer (or this one's own round) to every server directory of the
  /// cluster, then answers with the backfill for its follow events. Idempotent: records carry their keys.
  public func deliver(_ batch: SyncBatch) async throws -> SyncAck {
    let stores = try await directories.stores()
    guard let reference = try await referenceStore(stores) else {
      throw SNSError.unavailable("cluster \(configuration.cluster) has no server directory yet")
    }
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

  /// The directory whose files are authoritative for local users: the current master's (asked now — the master
  /// may have changed since the last round, and a stale directory lacks its latest follow events), else the
  /// master last scanned, else any.
  func referenceStore(_ stores: [ServerID: any ContextStore]) async throws -> (any ContextStore)? {
    if let master = try? await coordinator.status().clusters.first(where: { $0.id == configuration.cluster })?
      .master,
      let store = stores[master]
    {
      return store
    }
    if let scannedMaster, let store = stores[scannedMaster] { return store }
    return stores.keys.sorted().first.flatMap { stores[$0] }
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
