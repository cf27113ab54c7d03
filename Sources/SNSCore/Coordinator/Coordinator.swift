import Logging

/// The coordinator process: owns a ``CoordinatorState`` and answers ``CoordinatorPort`` calls with it.
/// Its own timer checks liveness, so a dead master's slave is promoted even when nobody asks.
public actor Coordinator: CoordinatorPort {
  var state: CoordinatorState
  let clock: any SNSClock
  let logger: Logger

  public init(configuration: CoordinatorConfiguration, clock: any SNSClock, logger: Logger) {
    self.state = CoordinatorState(configuration: configuration)
    self.clock = clock
    self.logger = logger
  }

  /// Checks liveness every quarter heartbeat interval until cancelled.
  public func run() async throws {
    let period = max(state.configuration.heartbeatInterval / 4, .milliseconds(5))
    while !Task.isCancelled {
      try await clock.sleep(for: period)
      checkLiveness()
    }
  }

  /// One liveness check now (tests drive time with this).
  public func checkLiveness() {
    log(state.checkLiveness(now: clock.now()))
  }

  public func heartbeat(_ beat: ServerHeartbeat) async throws -> RoleAssignment {
    SNSMetrics.coordinator(.heartbeat)
    let (assignment, events) = try state.onHeartbeat(beat, now: clock.now()).get()
    log(events)
    return assignment
  }

  public func registerSynchronizer(_ synchronizer: SynchronizerDescriptor) async throws {
    try state.onSynchronizerRegistration(synchronizer).get()
  }

  public func master(forUser user: UserID) async throws -> ServerDescriptor {
    defer { log(state.takeEvents()) }
    return try state.master(forUser: user, now: clock.now()).get()
  }

  public func slave(ofCluster cluster: ClusterID) async throws -> ServerDescriptor {
    defer { log(state.takeEvents()) }
    return try state.slave(ofCluster: cluster, now: clock.now()).get()
  }

  public func slave(for query: SlaveQuery) async throws -> SlaveAnswer {
    defer { log(state.takeEvents()) }
    return try state.slave(for: query, now: clock.now()).get()
  }

  public func synchronizer(forUser user: UserID) async throws -> SynchronizerDescriptor {
    try state.synchronizer(forUser: user).get()
  }

  public func synchronizers() async throws -> [SynchronizerDescriptor] {
    state.synchronizers()
  }

  public func status() async throws -> CoordinatorStatus {
    defer { log(state.takeEvents()) }
    return state.status(now: clock.now())
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
