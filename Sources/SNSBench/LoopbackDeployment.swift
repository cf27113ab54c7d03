import Foundation
import Logging
import SNSCore
import SNSTestSupport
import SNSTransport

/// The core actors behind real gRPC listeners on 127.0.0.1, in this process: a coordinator and, per cluster,
/// a master, optionally a slave, and a synchronizer, with real context files under `root`
/// (`cluster_<i>/master_1`, `slave_2`, `synchronizer_<i>`), laid out like `sns cluster up`.
final class LoopbackDeployment: Sendable {
  struct Options: Sendable {
    var clusterCount = 1
    var withSlave = true
    var heartbeat: Duration = .seconds(1)
    var missCount = 3
    var syncInterval: Duration = .seconds(30)
    var timelinePoll: Duration = .milliseconds(20)
  }

  let options: Options
  let root: String
  let coordinator: Coordinator
  let coordinatorEndpoint: Endpoint
  /// Per cluster (index 0 is cluster 1): master first, then the slave if any.
  let servers: [[Server]]
  let serverEndpoints: [[Endpoint]]
  let synchronizers: [Synchronizer]
  /// What each synchronizer's listener calls (``restartSynchronizer(of:)`` points it at a new one).
  let syncBoxes: [LateBoundSynchronizer]
  let synchronizerEndpoints: [Endpoint]
  let listeners: GRPCServerGroup
  /// The dialer the servers and synchronizers use between themselves.
  let dialer: GRPCDialer
  static let logger = Logger.quiet("sns-bench")

  init(root: String, options: Options) throws {
    self.root = root
    self.options = options
    let logger = Self.logger
    let clock = SystemClock()
    let dialer = GRPCDialer(options: CallOptions(timeout: .seconds(10)))
    self.dialer = dialer
    let check = SecretCheck(secret: nil)
    coordinator = Coordinator(
      configuration: CoordinatorConfiguration(
        clusterCount: options.clusterCount, heartbeatInterval: options.heartbeat, missCount: options.missCount
      ),
      clock: clock, logger: logger)
    let coordinatorListener = try GRPCServer(
      listen: "127.0.0.1:0", handlers: CoordinatorService.handlers(coordinator, secret: check),
      logger: logger,
      gracePeriod: .milliseconds(200))
    coordinatorEndpoint = try Endpoint(host: "127.0.0.1", port: coordinatorListener.boundPort)
    let coordinatorPort = dialer.coordinator(at: coordinatorEndpoint)
    var listeners = [coordinatorListener]
    var servers: [[Server]] = []
    var endpoints: [[Endpoint]] = []
    var synchronizers: [Synchronizer] = []
    var syncBoxes: [LateBoundSynchronizer] = []
    var synchronizerEndpoints: [Endpoint] = []
    for number in 1...options.clusterCount {
      let cluster = try ClusterID(number)
      let machine = ServerDirectoryLayout.machineDirectory(in: root, cluster: cluster)
      var pair: [Server] = []
      var pairEndpoints: [Endpoint] = []
      for id in 1...2 where id == 1 || options.withSlave {
        // Bind first (port 0), then tell the server the port it got: the handlers reach it through a box.
        let box = LateBoundServer()
        let listener = try GRPCServer(
          listen: "127.0.0.1:0", handlers: ServerService.handlers(box, secret: check), logger: logger,
          gracePeriod: .milliseconds(200))
        let endpoint = try Endpoint(host: "127.0.0.1", port: listener.boundPort)
        let serverID = try ServerID(id)
        let (server, _) = try Assembly.server(
          ServerConfiguration(
            cluster: cluster, id: serverID, endpoint: endpoint, clusterCount: options.clusterCount,
            heartbeatInterval: options.heartbeat, missCount: options.missCount,
            timelinePollInterval: options.timelinePoll),
          machine: machine, roleIfNew: ServerDirectoryLayout.firstRole(of: serverID),
          coordinator: coordinatorPort, dialer: dialer, clock: clock, logger: logger)
        box.set(server)
        listeners.append(listener)
        pair.append(server)
        pairEndpoints.append(endpoint)
      }
      servers.append(pair)
      endpoints.append(pairEndpoints)
      let syncBox = LateBoundSynchronizer()
      let syncListener = try GRPCServer(
        listen: "127.0.0.1:0", handlers: SynchronizerService.handlers(syncBox, secret: check), logger: logger,
        gracePeriod: .milliseconds(200))
      let synchronizerEndpoint = try Endpoint(host: "127.0.0.1", port: syncListener.boundPort)
      synchronizerEndpoints.append(synchronizerEndpoint)
      let synchronizer = try Self.synchronizer(
        of: cluster, machine: machine, endpoint: synchronizerEndpoint, options: options,
        coordinator: coordinatorPort, dialer: dialer)
      syncBox.set(synchronizer)
      syncBoxes.append(syncBox)
      listeners.append(syncListener)
      synchronizers.append(synchronizer)
    }
    self.servers = servers
    self.serverEndpoints = endpoints
    self.synchronizers = synchronizers
    self.syncBoxes = syncBoxes
    self.synchronizerEndpoints = synchronizerEndpoints
    self.listeners = GRPCServerGroup(listeners)
    self.listeners.start()
  }

  static func synchronizer(
    of cluster: ClusterID, machine: String, endpoint: Endpoint, options: Options,
    coordinator: any CoordinatorPort, dialer: GRPCDialer
  ) throws -> Synchronizer {
    try Assembly.synchronizer(
      SynchronizerConfiguration(
        cluster: cluster, endpoint: endpoint, clusterCount: options.clusterCount,
        syncInterval: options.syncInterval),
      machine: machine, coordinator: coordinator, dialer: dialer, clock: SystemClock(), logger: logger)
  }

  /// A new synchronizer for cluster `number`, as a restarted process would be: it knows only what its
  /// directory holds, and its listener now reaches it.
  func restartSynchronizer(of number: Int) throws -> Synchronizer {
    let synchronizer = try Self.synchronizer(
      of: try ClusterID(number), machine: machine(number), endpoint: synchronizerEndpoints[number - 1],
      options: options, coordinator: dialer.coordinator(at: coordinatorEndpoint), dialer: dialer)
    syncBoxes[number - 1].set(synchronizer)
    return synchronizer
  }

  /// The data directory of cluster `number` (1-based), what `sns cluster up` calls `<dir>/cluster_<i>`.
  func machine(_ number: Int) -> String { "\(root)/cluster_\(number)" }

  /// The master's context directory of cluster `number` (server 1, which registers first).
  func masterDirectory(_ number: Int) -> String { "\(machine(number))/master_1" }

  /// The slave's context directory of cluster `number`.
  func slaveDirectory(_ number: Int) -> String { "\(machine(number))/slave_2" }

  /// The master endpoint of cluster `number` (server 1, which registers first).
  func masterEndpoint(_ number: Int) -> Endpoint { serverEndpoints[number - 1][0] }

  /// Registers every server in order: server 1 of each cluster first, until it is master, then the slave.
  /// Over seeded files the coordinator elects no one for a failure timeout (the deployment served before, as
  /// far as it can tell), so server 1 heartbeats alone until then.
  func registerAll() async {
    let deadline = ContinuousClock.now + options.heartbeat * (options.missCount + 2)
    for pair in servers {
      guard let first = pair.first else { continue }
      repeat {
        await first.heartbeat()
        if case .master = await first.phase { break }
        try? await Task.sleep(for: .milliseconds(20))
      } while ContinuousClock.now < deadline
      for server in pair.dropFirst() { await server.heartbeat() }
    }
  }

  /// Registers every server, then runs `body` while heartbeats (and, if `synchronizing`, sync rounds) run
  /// on their timers; stops them all when `body` returns or throws.
  func running<T: Sendable>(synchronizing: Bool, _ body: @Sendable () async throws -> T) async throws -> T {
    await registerAll()
    return try await withThrowingTaskGroup(of: Void.self) { group in
      group.addTask { try await self.coordinator.run() }
      for pair in servers {
        for server in pair { group.addTask { try await server.run() } }
      }
      if synchronizing {
        for synchronizer in synchronizers { group.addTask { try await synchronizer.run() } }
      }
      defer { group.cancelAll() }
      return try await body()
    }
  }

  /// Stops every listener (in-flight calls get a short grace) and closes the dialer's channels.
  func stop() async {
    await listeners.stop()
    dialer.close()
  }
}
