import Synchronization

/// All ports between actors of one process: each process binds its services at an endpoint, and calls to an
/// endpoint reach them directly. Crashes and partitions are injected here; the simulation builds on it.
public final class InMemoryNetwork: Dialer {
  /// What happens to one call.
  public enum Fault: Hashable, Sendable {
    case deliver
    /// The call fails with `UNAVAILABLE` before reaching the receiver.
    case drop
  }

  struct State {
    var coordinators: [Endpoint: any CoordinatorPort] = [:]
    var servers: [Endpoint: any ClientPort & ServerPeerPort] = [:]
    var synchronizers: [Endpoint: any SynchronizerPort] = [:]
    var down: Set<Endpoint> = []
    var faults: (@Sendable (Endpoint) -> Fault)?
  }
  let state = Mutex(State())

  public init() {}

  public func bind(_ coordinator: any CoordinatorPort, at endpoint: Endpoint) {
    state.withLock { $0.coordinators[endpoint] = coordinator }
  }
  public func bind(_ server: any ClientPort & ServerPeerPort, at endpoint: Endpoint) {
    state.withLock { $0.servers[endpoint] = server }
  }
  public func bind(_ synchronizer: any SynchronizerPort, at endpoint: Endpoint) {
    state.withLock { $0.synchronizers[endpoint] = synchronizer }
  }

  /// Every call to `endpoint` fails with `UNAVAILABLE` until ``restore(_:)``: a crashed or cut-off process.
  public func takeDown(_ endpoint: Endpoint) { _ = state.withLock { $0.down.insert(endpoint) } }
  public func restore(_ endpoint: Endpoint) { _ = state.withLock { $0.down.remove(endpoint) } }

  /// Decides the fate of each call by its destination (drops for fault injection); `nil` delivers all.
  public func setFaults(_ faults: (@Sendable (Endpoint) -> Fault)?) { state.withLock { $0.faults = faults } }

  func reach<Service>(_ endpoint: Endpoint, _ pick: (State) -> Service?) throws -> Service {
    try state.withLock { state in
      if state.down.contains(endpoint) { throw SNSError.unavailable("\(endpoint) is down") }
      if let faults = state.faults, faults(endpoint) == .drop {
        throw SNSError.unavailable("call to \(endpoint) dropped")
      }
      guard let service = pick(state) else { throw SNSError.unavailable("nothing listens at \(endpoint)") }
      return service
    }
  }

  public func coordinator(at endpoint: Endpoint) -> any CoordinatorPort {
    RemoteCoordinator(network: self, endpoint: endpoint)
  }
  public func client(at endpoint: Endpoint) -> any ClientPort {
    RemoteServer(network: self, endpoint: endpoint)
  }
  public func serverPeer(at endpoint: Endpoint) -> any ServerPeerPort {
    RemoteServer(network: self, endpoint: endpoint)
  }
  public func synchronizer(at endpoint: Endpoint) -> any SynchronizerPort {
    RemoteSynchronizer(network: self, endpoint: endpoint)
  }
}

struct RemoteServer: ClientPort, ServerPeerPort {
  let network: InMemoryNetwork
  let endpoint: Endpoint
  func service() throws -> any ClientPort & ServerPeerPort {
    try network.reach(endpoint) { $0.servers[endpoint] }
  }
  func execute(_ command: Command, for user: UserID) async throws -> Reply {
    try await service().execute(command, for: user)
  }
  func timeline(for user: UserID) async throws -> TimelineSubscription {
    try await service().timeline(for: user)
  }
  func mirror(_ request: MirrorRequest) async throws { try await service().mirror(request) }
  func catchUp(_ request: CatchUpRequest) async throws -> CatchUpReply {
    try await service().catchUp(request)
  }
}

struct RemoteSynchronizer: SynchronizerPort {
  let network: InMemoryNetwork
  let endpoint: Endpoint
  func deliver(_ batch: SyncBatch) async throws -> SyncAck {
    try await network.reach(endpoint) { $0.synchronizers[endpoint] }.deliver(batch)
  }
}

struct RemoteCoordinator: CoordinatorPort {
  let network: InMemoryNetwork
  let endpoint: Endpoint
  func service() throws -> any CoordinatorPort { try network.reach(endpoint) { $0.coordinators[endpoint] } }
  func heartbeat(_ beat: ServerHeartbeat) async throws -> RoleAssignment {
    try await service().heartbeat(beat)
  }
  func registerSynchronizer(_ synchronizer: SynchronizerDescriptor) async throws {
    try await service().registerSynchronizer(synchronizer)
  }
  func master(forUser user: UserID) async throws -> ServerDescriptor {
    try await service().master(forUser: user)
  }
  func slave(ofCluster cluster: ClusterID) async throws -> ServerDescriptor {
    try await service().slave(ofCluster: cluster)
  }
  func slave(for query: SlaveQuery) async throws -> SlaveAnswer {
    try await service().slave(for: query)
  }
  func synchronizer(forUser user: UserID) async throws -> SynchronizerDescriptor {
    try await service().synchronizer(forUser: user)
  }
  func synchronizers() async throws -> [SynchronizerDescriptor] { try await service().synchronizers() }
  func status() async throws -> CoordinatorStatus { try await service().status() }
}
