import Foundation
import Logging

/// The whole Tiny SNS in one process, for embedding and tests: a coordinator and, per cluster, a master, a
/// slave and a synchronizer, wired through an ``InMemoryNetwork``, with real context files under one directory
/// (`<root>/cluster_<i>/master_1`, `slave_2`, `synchronizer_<i>`).
///
/// Time is whatever `clock` says. With a ``ManualClock`` nothing runs by itself: call ``heartbeatAll()``,
/// ``syncAll()`` and advance the clock. With ``SystemClock``, ``run()`` drives every timer.
public final class TinySNS: Sendable {
  public let network: InMemoryNetwork
  public let coordinator: Coordinator
  public let coordinatorEndpoint: Endpoint
  /// Per cluster (index 0 is cluster 1): its two servers, first the initial master.
  public let servers: [[Server]]
  public let synchronizers: [Synchronizer]
  public let clock: any SNSClock
  public let root: String
  let logger: Logger

  /// Builds the topology. Servers register (and so take roles) at the first ``heartbeatAll()`` or ``run()``.
  public init(
    root: String, clusterCount: Int = 3, clock: any SNSClock, heartbeatInterval: Duration = .seconds(10),
    missCount: Int = 2, syncInterval: Duration = .seconds(30),
    timelinePollInterval: Duration = .milliseconds(500),
    logger: Logger = Logger(label: "tinysns")
  ) throws {
    self.root = root
    self.clock = clock
    self.logger = logger
    let network = InMemoryNetwork()
    self.network = network
    coordinatorEndpoint = try Endpoint(host: "coordinator", port: 9000)
    coordinator = Coordinator(
      configuration: CoordinatorConfiguration(
        clusterCount: clusterCount, heartbeatInterval: heartbeatInterval, missCount: missCount),
      clock: clock, logger: logger)
    network.bind(coordinator, at: coordinatorEndpoint)
    let coordinatorPort = network.coordinator(at: coordinatorEndpoint)
    var servers: [[Server]] = []
    var synchronizers: [Synchronizer] = []
    for number in 1...clusterCount {
      let cluster = try ClusterID(number)
      let machine = ServerDirectoryLayout.machineDirectory(in: root, cluster: cluster)
      var pair: [Server] = []
      for id in 1...2 {
        let serverID = try ServerID(id)
        let endpoint = try Endpoint(host: "cluster\(number)-server\(id)", port: 10000 + id)
        let (server, _) = try Assembly.server(
          ServerConfiguration(
            cluster: cluster, id: serverID, endpoint: endpoint, clusterCount: clusterCount,
            heartbeatInterval: heartbeatInterval, missCount: missCount,
            timelinePollInterval: timelinePollInterval),
          machine: machine, roleIfNew: ServerDirectoryLayout.firstRole(of: serverID),
          coordinator: coordinatorPort, dialer: network, clock: clock, logger: logger)
        network.bind(server, at: endpoint)
        pair.append(server)
      }
      servers.append(pair)
      let endpoint = try Endpoint(host: "cluster\(number)-synchronizer", port: 11000)
      let synchronizer = try Assembly.synchronizer(
        SynchronizerConfiguration(
          cluster: cluster, endpoint: endpoint, clusterCount: clusterCount, syncInterval: syncInterval),
        machine: machine, coordinator: coordinatorPort, dialer: network, clock: clock, logger: logger)
      network.bind(synchronizer, at: endpoint)
      synchronizers.append(synchronizer)
    }
    self.servers = servers
    self.synchronizers = synchronizers
  }

  /// Every server heartbeats once (masters first, so the initial masters take the master role).
  public func heartbeatAll() async {
    for pair in servers {
      for server in pair { await server.heartbeat() }
    }
  }

  /// One synchronization round on every synchronizer, in cluster order.
  public func syncAll() async throws {
    for synchronizer in synchronizers { try await synchronizer.round() }
  }

  /// A session for `user`, failing over like the course client.
  public func client(
    for user: UserID, failoverTimeout: Duration = .seconds(30),
    onReconnect: @escaping @Sendable (Endpoint) -> Void = { _ in }
  ) -> SNSClient {
    SNSClient(
      user: user, coordinator: network.coordinator(at: coordinatorEndpoint), dialer: network, clock: clock,
      logger: logger, failoverTimeout: failoverTimeout, onReconnect: onReconnect)
  }

  /// Runs every process's timers until cancelled (use with ``SystemClock``).
  public func run() async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
      group.addTask { try await self.coordinator.run() }
      for pair in servers {
        for server in pair { group.addTask { try await server.run() } }
      }
      for synchronizer in synchronizers { group.addTask { try await synchronizer.run() } }
      try await group.waitForAll()
    }
  }
}
