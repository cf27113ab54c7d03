/// A synchronizer's bookkeeping as a value: what it has read from its master's files, what each round sends
/// where, and which items of each user's streams have been delivered everywhere (the cursors). No I/O.
public struct SynchronizerState: Sendable {
  public let configuration: SynchronizerConfiguration

  struct StreamKey: Hashable, Comparable, Sendable {
    let stream: SyncCursor.Stream
    let user: UserID
    static func < (lhs: StreamKey, rhs: StreamKey) -> Bool {
      (lhs.stream.rawValue, lhs.user) < (rhs.stream.rawValue, rhs.user)
    }
  }

  /// The sequences of each stream delivered to every destination that needed them. A set, not a high-water
  /// mark: an item can reach the master's files after later ones (a write refused to its client but kept by
  /// the slave comes back with the next catch-up), and it must still be delivered.
  var delivered: [StreamKey: Set<UInt64>] = [:]
  /// Read from the files, not yet delivered everywhere.
  var pendingUsers: Set<UserID> = []
  var pendingFollows: [UserID: [FollowEvent]] = [:]
  var pendingPosts: [UserID: [Post]] = [:]

  public init(configuration: SynchronizerConfiguration) {
    self.configuration = configuration
  }

  var allClusters: [ClusterID] { (1...configuration.clusterCount).map { ClusterID(unchecked: $0) } }

  func cluster(of user: UserID) -> ClusterID { ClusterID.of(user, clusterCount: configuration.clusterCount) }

  /// Restores what was delivered from the synchronizer's `cursors` file (one record per delivered item).
  public mutating func onCursorsLoaded(_ loaded: [SyncCursor]) {
    for cursor in loaded {
      delivered[StreamKey(stream: cursor.stream, user: cursor.user), default: []].insert(cursor.sequence)
    }
  }

  func wasDelivered(_ stream: SyncCursor.Stream, _ user: UserID, _ sequence: UInt64) -> Bool {
    delivered[StreamKey(stream: stream, user: user)]?.contains(sequence) ?? false
  }

  /// Takes what a scan of the master's files found; what was delivered already is dropped.
  public mutating func onScanned(users: [UserID], follows: [FollowEvent], posts: [Post]) {
    for user in users where cluster(of: user) == configuration.cluster && !wasDelivered(.user, user, 1) {
      pendingUsers.insert(user)
    }
    for event in follows where cluster(of: event.follower) == configuration.cluster {
      if !wasDelivered(.follows, event.follower, event.sequence),
        !(pendingFollows[event.follower]?.contains(event) ?? false)
      {
        pendingFollows[event.follower, default: []].append(event)
      }
    }
    for post in posts where cluster(of: post.author) == configuration.cluster {
      if !wasDelivered(.posts, post.author, post.id.sequence),
        !(pendingPosts[post.author]?.contains(post) ?? false)
      {
        pendingPosts[post.author, default: []].append(post)
      }
    }
  }

  /// Authors with undelivered posts: the actor reads their follower records for ``planRound(followerEvents:)``.
  public var authorsWithPendingPosts: [UserID] { pendingPosts.keys.sorted() }
}
