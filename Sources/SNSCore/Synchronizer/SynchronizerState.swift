/// A synchronizer's bookkeeping as a value: what it has read from its master's files, what each round sends
/// where, and how far each user's streams have been delivered everywhere (the cursors). No I/O.
public struct SynchronizerState: Sendable {
  public let configuration: SynchronizerConfiguration

  struct StreamKey: Hashable, Comparable, Sendable {
    let stream: SyncCursor.Stream
    let user: UserID
    static func < (lhs: StreamKey, rhs: StreamKey) -> Bool {
      (lhs.stream.rawValue, lhs.user) < (rhs.stream.rawValue, rhs.user)
    }
  }

  /// Highest sequence of each stream delivered to every destination that needed it.
  var cursors: [StreamKey: UInt64] = [:]
  /// Read from the files, not yet delivered everywhere.
  var pendingUsers: Set<UserID> = []
  var pendingFollows: [UserID: [FollowEvent]] = [:]
  var pendingPosts: [UserID: [Post]] = [:]

  public init(configuration: SynchronizerConfiguration) {
    self.configuration = configuration
  }

  var allClusters: [ClusterID] { (1...configuration.clusterCount).map { ClusterID(unchecked: $0) } }

  func cluster(of user: UserID) -> ClusterID { ClusterID.of(user, clusterCount: configuration.clusterCount) }

  /// Restores the cursors from the synchronizer's `cursors` file (later records win).
  public mutating func onCursorsLoaded(_ loaded: [SyncCursor]) {
    for cursor in loaded {
      let key = StreamKey(stream: cursor.stream, user: cursor.user)
      cursors[key] = max(cursors[key] ?? 0, cursor.sequence)
    }
  }

  /// Takes what a scan of the master's files found; anything at or below a cursor was delivered already.
  public mutating func onScanned(users: [UserID], follows: [FollowEvent], posts: [Post]) {
    for user in users where cluster(of: user) == configuration.cluster {
      if (cursors[StreamKey(stream: .user, user: user)] ?? 0) < 1 { pendingUsers.insert(user) }
    }
    for event in follows where cluster(of: event.follower) == configuration.cluster {
      let delivered = cursors[StreamKey(stream: .follows, user: event.follower)] ?? 0
      if event.sequence > delivered, !(pendingFollows[event.follower]?.contains(event) ?? false) {
        pendingFollows[event.follower, default: []].append(event)
      }
    }
    for post in posts where cluster(of: post.author) == configuration.cluster {
      let delivered = cursors[StreamKey(stream: .posts, user: post.author)] ?? 0
      if post.id.sequence > delivered, !(pendingPosts[post.author]?.contains(post) ?? false) {
        pendingPosts[post.author, default: []].append(post)
      }
    }
  }

  /// Authors with undelivered posts: the actor reads their follower records for ``planRound(followerEvents:)``.
  public var authorsWithPendingPosts: [UserID] { pendingPosts.keys.sorted() }
}
