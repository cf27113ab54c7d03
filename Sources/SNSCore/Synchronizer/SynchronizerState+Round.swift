extension SynchronizerState {
  /// One round's sends: a batch per destination cluster, and which destinations each item needs.
  public struct RoundPlan: Hashable, Sendable {
    public var batches: [ClusterID: SyncBatch]
    /// For each stream, its items in sequence order with the clusters that must acknowledge them.
    var needs: [SyncStream: [(sequence: UInt64, destinations: Set<ClusterID>)]]

    public static func == (lhs: RoundPlan, rhs: RoundPlan) -> Bool {
      lhs.batches == rhs.batches && lhs.needs.keys == rhs.needs.keys
        && lhs.needs.keys.allSatisfy { key in
          lhs.needs[key].map { $0.map { "\($0.sequence):\($0.destinations.sorted())" } }
            == rhs.needs[key].map { $0.map { "\($0.sequence):\($0.destinations.sorted())" } }
        }
    }
    public func hash(into hasher: inout Hasher) { hasher.combine(batches) }
  }

  /// Plans the sends of a round (DESIGN.md §5 step 3). `followerEvents[v]` are the follower records in
  /// author v's follow file: a post goes to every cluster holding someone who followed v before the post and
  /// had not unfollowed by then as far as this synchronizer knows. The receiver filters exactly.
  public func planRound(followerEvents: [UserID: [FollowEvent]]) -> RoundPlan {
    var batches: [ClusterID: SyncBatch] = [:]
    var needs: [SyncStream: [(sequence: UInt64, destinations: Set<ClusterID>)]] = [:]
    func add(_ destinations: Set<ClusterID>, _ change: (inout SyncBatch) -> Void) {
      for destination in destinations {
        change(&batches[destination, default: SyncBatch(from: configuration.cluster)])
      }
    }
    let others = Set(allClusters).subtracting([configuration.cluster])
    for user in pendingUsers.sorted() {
      add(others) { $0.users.append(user) }
      needs[SyncStream(.user, of: user)] = [(1, others)]
    }
    for (follower, events) in pendingFollows.sorted(by: { $0.key < $1.key }) {
      var items: [(sequence: UInt64, destinations: Set<ClusterID>)] = []
      for event in events.sorted(by: { $0.sequence < $1.sequence }) {
        let destination: Set<ClusterID> = [cluster(of: event.followee)]
        add(destination) { $0.follows.append(event) }
        items.append((event.sequence, destination))
      }
      needs[SyncStream(.follows, of: follower)] = items
    }
    for (author, posts) in pendingPosts.sorted(by: { $0.key < $1.key }) {
      let history = FollowHistory(events: followerEvents[author] ?? [])
      var items: [(sequence: UInt64, destinations: Set<ClusterID>)] = []
      for post in posts.values.sorted(by: { $0.id.sequence < $1.id.sequence }) {
        let destinations = Set(history.followers(of: author, at: post.time).map { cluster(of: $0) })
        add(destinations) { $0.posts.append(post) }
        items.append((post.id.sequence, destinations))
      }
      needs[SyncStream(.posts, of: author)] = items
    }
    return RoundPlan(batches: batches, needs: needs)
  }

  /// The destinations in `acknowledged` took their batches. Every item whose destinations all acknowledged is
  /// delivered (receivers apply idempotently and order follow events by sequence, so items need not arrive in
  /// order); returns the streams whose cursors moved (``progressToSave()`` has them).
  @discardableResult
  public mutating func onRoundDelivered(_ plan: RoundPlan, acknowledged: Set<ClusterID>) -> Set<SyncStream> {
    var advanced: Set<SyncStream> = []
    for (key, items) in plan.needs.sorted(by: { $0.key < $1.key }) {
      let done = Set(items.filter { $0.destinations.isSubset(of: acknowledged) }.map(\.sequence))
      guard !done.isEmpty else { continue }
      for sequence in done.sorted() where delivered[key, default: DeliveredSequences()].insert(sequence) {
        advanced.insert(key)
      }
      switch key.kind {
      case .user: pendingUsers.remove(key.user)
      case .follows: pendingFollows[key.user]?.removeAll { done.contains($0.sequence) }
      case .posts: for sequence in done { pendingPosts[key.user]?[sequence] = nil }
      }
      if pendingFollows[key.user]?.isEmpty == true { pendingFollows[key.user] = nil }
      if pendingPosts[key.user]?.isEmpty == true { pendingPosts[key.user] = nil }
    }
    unsavedStreams.formUnion(advanced)
    return advanced
  }
}
