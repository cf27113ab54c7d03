/// The coordinator's surface (WIRE.md's `CoordService` plus our status), as servers, synchronizers and
/// clients call it. ``InMemoryNetwork`` and the gRPC transport both implement it.
public protocol CoordinatorPort: Sendable {
  /// A master's or slave's heartbeat; the reply says what role it must have now.
  func heartbeat(_ beat: ServerHeartbeat) async throws -> RoleAssignment
  /// A synchronizer announces itself (and keeps doing so, as its heartbeat).
  func registerSynchronizer(_ synchronizer: SynchronizerDescriptor) async throws
  /// `GetServer`: the active master of the user's cluster. Throws ``SNSError/unavailable(_:)`` if there is none.
  func master(forUser user: UserID) async throws -> ServerDescriptor
  /// `GetSlave`: the live slave of a cluster. Throws ``SNSError/unavailable(_:)`` if there is none. A plain
  /// lookup for course tools; masters ask ``slave(for:)``.
  func slave(ofCluster cluster: ClusterID) async throws -> ServerDescriptor
  /// A master's lookup before it writes without a known slave. Throws ``SNSError/staleEpoch(current:)`` when the
  /// asker is not the master of the cluster's current epoch (it was replaced and must not write at all).
  func slave(for query: SlaveQuery) async throws -> SlaveAnswer
  /// `GetFollowerServer`: the synchronizer of the user's cluster.
  func synchronizer(forUser user: UserID) async throws -> SynchronizerDescriptor
  /// `GetFollowerServers`: every registered synchronizer.
  func synchronizers() async throws -> [SynchronizerDescriptor]
  /// Roles, epochs and heartbeats of every cluster.
  func status() async throws -> CoordinatorStatus
}

/// What a master offers clients (WIRE.md's `SNSService`, in core terms).
public protocol ClientPort: Sendable {
  /// Runs one command for `user`. Refusals the course defines come back as a ``Reply``; a server that cannot
  /// take the command at all (not master, storage failure) throws an ``SNSError``.
  func execute(_ command: Command, for user: UserID) async throws -> Reply
  /// Enters timeline mode for `user`.
  func timeline(for user: UserID) async throws -> TimelineSubscription
}

/// What servers offer each other: a master mirrors to its slave; a (re)joining slave catches up from its master.
public protocol ServerPeerPort: Sendable {
  /// Persists a master's writes on the slave. Throws ``SNSError/staleEpoch(current:)`` for an older epoch.
  func mirror(_ request: MirrorRequest) async throws
  /// One page of everything the server holds (users, follow events of both directions, own and delivered
  /// posts), for a slave catching up (or a freshly started master) to apply idempotently.
  func catchUp(_ request: CatchUpRequest) async throws -> CatchUpReply
}

/// What synchronizers offer each other.
public protocol SynchronizerPort: Sendable {
  /// Applies a batch to the receiver's cluster files and answers with the backfill for its follow events.
  func deliver(_ batch: SyncBatch) async throws -> SyncAck
}

/// Opens connections to other processes by address. One per process; implementations cache connections.
public protocol Dialer: Sendable {
  func client(at endpoint: Endpoint) -> any ClientPort
  func serverPeer(at endpoint: Endpoint) -> any ServerPeerPort
  func synchronizer(at endpoint: Endpoint) -> any SynchronizerPort
}
