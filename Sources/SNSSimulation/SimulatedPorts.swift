import SNSCore

/// The coordinator as process `from` reaches it: every call crosses ``SimulatedLinks``.
struct LinkedCoordinator: CoordinatorPort {
  let from: String
  let links: SimulatedLinks
  let target: any CoordinatorPort

  func via<T: Sendable>(_ kind: SimulatedLinks.CallKind, _ body: @escaping @Sendable () async throws -> T)
    async throws -> T
  {
    try await links.call(from: from, to: "coordinator", kind: kind, body)
  }

  func heartbeat(_ beat: ServerHeartbeat) async throws -> RoleAssignment {
    try await via(.heartbeat) { try await target.heartbeat(beat) }
  }
  func registerSynchronizer(_ synchronizer: SynchronizerDescriptor) async throws {
    try await via(.coordinatorQuery) { try await target.registerSynchronizer(synchronizer) }
  }
  func master(forUser user: UserID) async throws -> ServerDescriptor {
    try await via(.coordinatorQuery) { try await target.master(forUser: user) }
  }
  func slave(ofCluster cluster: ClusterID) async throws -> ServerDescriptor {
    try await via(.coordinatorQuery) { try await target.slave(ofCluster: cluster) }
  }
  func slave(for query: SlaveQuery) async throws -> SlaveAnswer {
    try await via(.coordinatorQuery) { try await target.slave(for: query) }
  }
  func synchronizer(forUser user: UserID) async throws -> SynchronizerDescriptor {
    try await via(.coordinatorQuery) { try await target.synchronizer(forUser: user) }
  }
  func synchronizers() async throws -> [SynchronizerDescriptor] {
    try await via(.coordinatorQuery) { try await target.synchronizers() }
  }
  func status() async throws -> CoordinatorStatus {
    try await via(.coordinatorQuery) { try await target.status() }
  }
}

/// The ``Dialer`` of process `from`: connections to servers and synchronizers that cross ``SimulatedLinks``.
struct LinkedDialer: Dialer {
  let from: String
  let links: SimulatedLinks

  func client(at endpoint: Endpoint) -> any ClientPort {
    LinkedServer(from: from, endpoint: endpoint, links: links)
  }
  func serverPeer(at endpoint: Endpoint) -> any ServerPeerPort {
    LinkedServer(from: from, endpoint: endpoint, links: links)
  }
  func synchronizer(at endpoint: Endpoint) -> any SynchronizerPort {
    LinkedSynchronizer(from: from, endpoint: endpoint, links: links)
  }
}

struct LinkedServer: ClientPort, ServerPeerPort {
  let from: String
  let endpoint: Endpoint
  let links: SimulatedLinks

  func via<T: Sendable>(_ kind: SimulatedLinks.CallKind, _ body: @escaping @Sendable () async throws -> T)
    async throws -> T
  {
    try await links.call(from: from, to: links.process(at: endpoint), kind: kind, body)
  }

  func execute(_ command: Command, for user: UserID) async throws -> Reply {
    let port = links.network.client(at: endpoint)
    return try await via(.command) { try await port.execute(command, for: user) }
  }
  func timeline(for user: UserID) async throws -> TimelineSubscription {
    let port = links.network.client(at: endpoint)
    return try await via(.timeline) { try await port.timeline(for: user) }
  }
  func mirror(_ request: MirrorRequest) async throws {
    try links.checkSize(MessageSize.of(request.records), of: "mirror \(from)→\(links.process(at: endpoint))")
    let port = links.network.serverPeer(at: endpoint)
    try await via(.mirror) { try await port.mirror(request) }
  }
  func catchUp(_ request: CatchUpRequest) async throws -> CatchUpReply {
    let port = links.network.serverPeer(at: endpoint)
    let reply = try await via(.catchUp) { try await port.catchUp(request) }
    try links.checkSize(
      MessageSize.of(reply.records), of: "catch-up reply \(links.process(at: endpoint))→\(from)")
    return reply
  }
}

struct LinkedSynchronizer: SynchronizerPort {
  let from: String
  let endpoint: Endpoint
  let links: SimulatedLinks

  func deliver(_ batch: SyncBatch) async throws -> SyncAck {
    let to = links.process(at: endpoint)
    try links.checkSize(MessageSize.of(batch), of: "sync batch \(from)→\(to)")
    let port = links.network.synchronizer(at: endpoint)
    let ack = try await links.call(from: from, to: to, kind: .sync) { try await port.deliver(batch) }
    try links.checkSize(MessageSize.of(posts: ack.backfill), of: "sync backfill \(to)→\(from)")
    return ack
  }
}
