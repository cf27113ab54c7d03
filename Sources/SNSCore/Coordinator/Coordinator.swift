import Logging

/// The coordinator process: owns a ``CoordinatorState`` and answers ``CoordinatorPort`` calls with it.
/// Its own timer checks liveness, so a dead master's slave is promoted even when nobody asks.
///
/// With a ``CoordinatorRoleStore`` every answer that depends on a change of the roles is given only once the
/// change is stored: a restart loses nothing anyone was told. Without one the roles live in memory, and a
/// restarted coordinator rebuilds them from heartbeats, with a grace of one failure timeout (ARCHITECTURE.md).
public actor Coordinator: CoordinatorPort {
  var state: CoordinatorState
  let clock: any SNSClock
  let logger: Logger
  let roleStore: (any CoordinatorRoleStore)?
  var persistence = RolePersistence()

  /// A coordinator with nothing saved before (or no store at all).
  public init(
    configuration: CoordinatorConfiguration, clock: any SNSClock, logger: Logger,
    roleStore: (any CoordinatorRoleStore)? = nil
  ) {
    self.state = CoordinatorState(configuration: configuration)
    self.clock = clock
    self.logger = logger
    self.roleStore = roleStore
  }

  /// A coordinator that goes on from `restoring`, the roles its store held at start.
  public init(
    configuration: CoordinatorConfiguration, clock: any SNSClock, logger: Logger,
    roleStore: any CoordinatorRoleStore, restoring roles: CoordinatorRoles
  ) {
    self.state = CoordinatorState(configuration: configuration, restoring: roles, now: clock.now())
    self.clock = clock
    self.logger = logger
    self.roleStore = roleStore
    self.persistence.saved = roles
    logger.notice(
      "roles restored",
      metadata: [
        "clusters": "\(roles.clusters.keys.sorted().map { "\($0):e\(roles.clusters[$0]?.epoch.value ?? 0)" })"
      ])
  }

  /// Opens `roleStore` and starts from what it holds (or from nothing).
  public static func resuming(
    configuration: CoordinatorConfiguration, clock: any SNSClock, logger: Logger,
    roleStore: any CoordinatorRoleStore
  ) async throws -> Coordinator {
    guard let roles = try await roleStore.load() else {
      return Coordinator(configuration: configuration, clock: clock, logger: logger, roleStore: roleStore)
    }
    return Coordinator(
      configuration: configuration, clock: clock, logger: logger, roleStore: roleStore, restoring: roles)
  }

  /// Checks liveness every quarter heartbeat interval until cancelled.
  public func run() async throws {
    let period = max(state.configuration.heartbeatInterval / 4, .milliseconds(5))
    while !Task.isCancelled {
      try await clock.sleep(for: period)
      await checkLiveness()
    }
  }

  /// One liveness check now (tests drive time with this). A promotion it makes is stored before anyone can
  /// be told of it; a failure to store is logged, and every answer waits until a later save succeeds.
  public func checkLiveness() async {
    log(state.checkLiveness(now: clock.now()))
    do { try await persistRoles() } catch {
      logger.error("cannot store the roles", metadata: ["error": "\(error)"])
    }
  }

  public func heartbeat(_ beat: ServerHeartbeat) async throws -> RoleAssignment {
    SNSMetrics.coordinator(.heartbeat)
    let (assignment, events) = try state.onHeartbeat(beat, now: clock.now()).get()
    log(events)
    try await persistRoles()
    return assignment
  }

  public func registerSynchronizer(_ synchronizer: SynchronizerDescriptor) async throws {
    try state.onSynchronizerRegistration(synchronizer).get()
  }

  public func master(forUser user: UserID) async throws -> ServerDescriptor {
    let answer = state.master(forUser: user, now: clock.now())
    log(state.takeEvents())
    try await persistRoles()
    return try answer.get()
  }

  public func slave(ofCluster cluster: ClusterID) async throws -> ServerDescriptor {
    let answer = state.slave(ofCluster: cluster, now: clock.now())
    log(state.takeEvents())
    try await persistRoles()
    return try answer.get()
  }

  public func slave(for query: SlaveQuery) async throws -> SlaveAnswer {
    let answer = state.slave(for: query, now: clock.now())
    log(state.takeEvents())
    try await persistRoles()
    return try answer.get()
  }

  public func synchronizer(forUser user: UserID) async throws -> SynchronizerDescriptor {
    try state.synchronizer(forUser: user).get()
  }

  public func synchronizers() async throws -> [SynchronizerDescriptor] {
    state.synchronizers()
  }

  public func status() async throws -> CoordinatorStatus {
    let answer = state.status(now: clock.now())
    log(state.takeEvents())
    try await persistRoles()
    return answer
  }

  func log(_ events: [CoordinatorState.Event]) {
    for event in events {
      switch event {
      case .serverRegistered(let cluster, let server, let endpoint):
        logger.info(
          "server registered",
          metadata: ["cluster": "\(cluster)", "server": "\(server)", "endpoint": "\(endpoint)"])
      case .becameMaster(let cluster, let server, let epoch):
        logger.notice(
          "master assigned", metadata: ["cluster": "\(cluster)", "server": "\(server)", "epoch": "\(epoch)"])
      case .promoted(let cluster, let from, let to, let epoch):
        SNSMetrics.coordinator(.promotion)
        logger.notice(
          "slave promoted",
          metadata: ["cluster": "\(cluster)", "from": "\(from)", "to": "\(to)", "epoch": "\(epoch)"])
      case .masterAdopted(let cluster, let server, let epoch):
        logger.notice(
          "master of an epoch this coordinator had not seen keeps its role",
          metadata: ["cluster": "\(cluster)", "server": "\(server)", "epoch": "\(epoch)"])
      case .serverLost(let cluster, let server):
        SNSMetrics.coordinator(.serverLost)
        logger.warning(
          "master missed its heartbeats", metadata: ["cluster": "\(cluster)", "server": "\(server)"])
      }
    }
  }
}
