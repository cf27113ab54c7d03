/// A server as the coordinator describes it (WIRE.md's `ServerInfo`, in core terms).
public struct ServerDescriptor: Hashable, Sendable {
  public let cluster: ClusterID
  public let id: ServerID
  public let endpoint: Endpoint
  public let role: Role
  public init(cluster: ClusterID, id: ServerID, endpoint: Endpoint, role: Role) {
    self.cluster = cluster
    self.id = id
    self.endpoint = endpoint
    self.role = role
  }
}

/// A synchronizer F_i as the coordinator describes it.
public struct SynchronizerDescriptor: Hashable, Sendable {
  public let cluster: ClusterID
  public let endpoint: Endpoint
  public init(cluster: ClusterID, endpoint: Endpoint) {
    self.cluster = cluster
    self.endpoint = endpoint
  }
}

/// What a master or slave sends the coordinator every heartbeat interval.
public struct ServerHeartbeat: Hashable, Sendable {
  public let cluster: ClusterID
  public let server: ServerID
  public let endpoint: Endpoint
  /// The epoch the server knows.
  public let epoch: Epoch
  /// For a slave: the sync generation (from ``RoleAssignment/syncGeneration``) of its last completed catch-up
  /// in `epoch`; 0 when it has none. The coordinator promotes only slaves caught up in the current generation.
  public let caughtUpGeneration: UInt64
  /// The role the server holds in `epoch` (`nil` while it registers): a coordinator that restarted, and so
  /// forgot its epochs, learns from it who is master instead of electing another one.
  public let role: Role?
  /// Whether the server's directory holds any records: it served before, so while a coordinator that just
  /// started has not heard from every server, another one may be master with writes this one lacks.
  public var holdsData: Bool
  public init(
    cluster: ClusterID, server: ServerID, endpoint: Endpoint, epoch: Epoch = .zero,
    caughtUpGeneration: UInt64 = 0, role: Role? = nil, holdsData: Bool = false
  ) {
    self.cluster = cluster
    self.server = server
    self.endpoint = endpoint
    self.epoch = epoch
    self.caughtUpGeneration = caughtUpGeneration
    self.role = role
    self.holdsData = holdsData
  }
}

/// A master's question before it writes without a known slave (``CoordinatorPort/slave(for:)``): who it is, so
/// that only the master of the cluster's current epoch is told it may go alone.
public struct SlaveQuery: Hashable, Sendable {
  public var cluster: ClusterID
  public var server: ServerID
  public var epoch: Epoch

  public init(cluster: ClusterID, server: ServerID, epoch: Epoch) {
    self.cluster = cluster
    self.server = server
    self.epoch = epoch
  }
}

/// The coordinator's answer to a ``SlaveQuery``.
public enum SlaveAnswer: Hashable, Sendable {
  /// Mirror to this live slave.
  case slave(ServerDescriptor)
  /// The definitive word that the cluster has no live slave: the master may acknowledge alone. Every slave has
  /// been moved to a new sync generation, so none is promoted before it catches up from this master.
  case noLiveSlave
}

/// The coordinator's answer to a heartbeat: the role the server must have now, in which epoch, and its peer.
public struct RoleAssignment: Hashable, Sendable {
  public let role: Role
  public let epoch: Epoch
  /// The cluster's master (the server itself when `role == .master`).
  public let master: ServerDescriptor?
  /// The cluster's live slave, if any: where a master mirrors its writes.
  public let slave: ServerDescriptor?
  /// For a slave: the generation it must be caught up in. It rises whenever the slave may have missed writes
  /// (it was considered dead, or the master changed); the slave then catches up again and reports it.
  public let syncGeneration: UInt64
  /// The coordinator's heartbeat interval and miss count: the server heartbeats at this interval and holds
  /// its lease for `heartbeatInterval × missCount`, so its lease never outlasts the coordinator's patience,
  /// whatever flags it was started with. `nil` from a coordinator that does not say.
  public let heartbeatInterval: Duration?
  public let missCount: Int?
  public init(
    role: Role, epoch: Epoch, master: ServerDescriptor?, slave: ServerDescriptor?, syncGeneration: UInt64 = 0,
    heartbeatInterval: Duration? = nil, missCount: Int? = nil
  ) {
    self.role = role
    self.epoch = epoch
    self.master = master
    self.slave = slave
    self.syncGeneration = syncGeneration
    self.heartbeatInterval = heartbeatInterval
    self.missCount = missCount
  }
}

/// A master's writes, sent to its slave before the client is acknowledged.
public struct MirrorRequest: Hashable, Sendable {
  public let cluster: ClusterID
  public let epoch: Epoch
  public let records: [PlacedRecord]
  public init(cluster: ClusterID, epoch: Epoch, records: [PlacedRecord]) {
    self.cluster = cluster
    self.epoch = epoch
    self.records = records
  }
}

/// Where a paged catch-up goes on: the `index`-th record of `file`, in the order the serving server lists its
/// files. Files only grow (a server serving a catch-up never has its files replaced), so a position stays
/// valid between pages; whatever is written meanwhile reaches the puller by mirroring, or moves it to a new
/// sync generation (a solo write) so that it catches up again.
public struct CatchUpPosition: Hashable, Sendable {
  public var file: ContextFile
  public var index: Int
  public init(file: ContextFile, index: Int) {
    self.file = file
    self.index = index
  }
}

/// One page of a catch-up (or of a master's reconcile pull from its slave): records after `after` (from the
/// start when `nil`), at most about `maxBytes` of them (always at least one record).
public struct CatchUpRequest: Hashable, Sendable {
  public var epoch: Epoch
  public var after: CatchUpPosition?
  public var maxBytes: Int
  /// The default page: far below gRPC's message limits (4 MiB by default, 16 MiB as we set it).
  public static let defaultPageBytes = 1 << 20

  public init(epoch: Epoch, after: CatchUpPosition? = nil, maxBytes: Int = CatchUpRequest.defaultPageBytes) {
    self.epoch = epoch
    self.after = after
    self.maxBytes = maxBytes
  }
}

/// A page of every record a server holds: users, follow events of both directions, own and delivered posts.
public struct CatchUpReply: Hashable, Sendable {
  public let epoch: Epoch
  public let records: [PlacedRecord]
  /// Where the next page starts; `nil` on the last page.
  public let next: CatchUpPosition?
  public init(epoch: Epoch, records: [PlacedRecord], next: CatchUpPosition? = nil) {
    self.epoch = epoch
    self.records = records
    self.next = next
  }
}

/// What one synchronizer sends another in a round. Idempotent: users, follow events and posts carry their ids.
public struct SyncBatch: Hashable, Sendable {
  public let from: ClusterID
  /// Users of the sender's cluster that the receiver should list.
  public var users: [UserID]
  /// Follow events of the sender's users whose followee lives in the receiver's cluster.
  public var follows: [FollowEvent]
  /// Posts of the sender's users that may belong on timelines in the receiver's cluster.
  public var posts: [Post]
  /// Backfills the sender asks the receiver to go on with (``SyncAck/more`` of an earlier reply).
  public var backfill: [BackfillCursor]
  public init(
    from: ClusterID, users: [UserID] = [], follows: [FollowEvent] = [], posts: [Post] = [],
    backfill: [BackfillCursor] = []
  ) {
    self.from = from
    self.users = users
    self.follows = follows
    self.posts = posts
    self.backfill = backfill
  }
  public var isEmpty: Bool { users.isEmpty && follows.isEmpty && posts.isEmpty && backfill.isEmpty }

  /// The batch cut into batches of about `maxBytes` each (as lines in a file; at least one item each), users
  /// first, then follows, then posts, so that no delivery outgrows the transport's message limit.
  public func pages(maxBytes: Int) -> [SyncBatch] {
    var pages: [SyncBatch] = []
    // Backfill cursors are a few bytes each: they go with the first page.
    var page = SyncBatch(from: from, backfill: backfill)
    var bytes = 0
    func add(_ size: Int, _ put: (inout SyncBatch) -> Void) {
      if !page.isEmpty && bytes + size > maxBytes {
        pages.append(page)
        page = SyncBatch(from: from)
        bytes = 0
      }
      put(&page)
      bytes += size
    }
    for user in users { add(RecordCodec.encodedSize(of: .user(user))) { $0.users.append(user) } }
    for event in follows { add(RecordCodec.encodedSize(of: .following(event))) { $0.follows.append(event) } }
    for post in posts { add(RecordCodec.encodedSize(of: .post(post))) { $0.posts.append(post) } }
    if !page.isEmpty || pages.isEmpty { pages.append(page) }
    return pages
  }
}

/// The receiver's acknowledgement. It carries the followees' posts made since each delivered follow event
/// (the backfill), so a follow that reaches the followee's synchronizer late still gets every post made after it.
///
/// A backfill can be any size (a follow that arrives long after the followee posted a lot), so a reply holds
/// about one transfer page of it; ``more`` says where the rest goes on, and the sender asks again with it.
public struct SyncAck: Hashable, Sendable {
  public var backfill: [Post]
  /// Backfills that did not fit this reply.
  public var more: [BackfillCursor]
  public init(backfill: [Post] = [], more: [BackfillCursor] = []) {
    self.backfill = backfill
    self.more = more
  }
}

/// Where a backfill goes on: `followee`'s own posts made at or after `since`, with a sequence above
/// `afterSequence`, in sequence order.
public struct BackfillCursor: Hashable, Sendable {
  public var followee: UserID
  public var since: Timestamp
  public var afterSequence: UInt64
  public init(followee: UserID, since: Timestamp, afterSequence: UInt64 = 0) {
    self.followee = followee
    self.since = since
    self.afterSequence = afterSequence
  }
}

/// What the coordinator knows, for operators and for synchronizers (which master directory to scan).
public struct CoordinatorStatus: Hashable, Sendable {
  public struct Server: Hashable, Sendable {
    public let id: ServerID
    public let endpoint: Endpoint
    public let role: Role
    public let alive: Bool
    public let lastHeartbeat: Timestamp
    public init(id: ServerID, endpoint: Endpoint, role: Role, alive: Bool, lastHeartbeat: Timestamp) {
      self.id = id
      self.endpoint = endpoint
      self.role = role
      self.alive = alive
      self.lastHeartbeat = lastHeartbeat
    }
  }
  public struct Cluster: Hashable, Sendable {
    public let id: ClusterID
    public let epoch: Epoch
    public let master: ServerID?
    public let servers: [Server]
    public let synchronizer: SynchronizerDescriptor?
    public init(
      id: ClusterID, epoch: Epoch, master: ServerID?, servers: [Server], synchronizer: SynchronizerDescriptor?
    ) {
      self.id = id
      self.epoch = epoch
      self.master = master
      self.servers = servers
      self.synchronizer = synchronizer
    }
  }
  public let now: Timestamp
  public let clusters: [Cluster]
  public init(now: Timestamp, clusters: [Cluster]) {
    self.now = now
    self.clusters = clusters
  }
}

/// A user's timeline as a client in timeline mode sees it: the latest posts first, then new ones as they arrive.
public struct TimelineSubscription: Sendable {
  /// The latest posts (20 by default), newest first.
  public let initial: [Post]
  /// Posts that reach the timeline afterwards, oldest first; no post is delivered twice.
  public let updates: AsyncThrowingStream<Post, Error>
  public init(initial: [Post], updates: AsyncThrowingStream<Post, Error>) {
    self.initial = initial
    self.updates = updates
  }
}
