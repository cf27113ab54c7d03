import Foundation
import SNSCore
import SNSTestSupport
import SNSTransport

/// One cluster as real `sns` processes on 127.0.0.1: a coordinator, server 1 (master) and server 2 (slave),
/// sharing `<root>/cluster_1` as their data directory, as `sns cluster up` lays them out.
struct ProcessCluster {
  let coordinatorEndpoint: Endpoint
  let serverEndpoints: [Endpoint]
  var servers: [ChildProcess]
  let dataDirectory: String
  let dialer: GRPCDialer

  var coordinator: any CoordinatorPort { dialer.coordinator(at: coordinatorEndpoint) }

  /// Starts the processes and returns once server 1 is master and server 2 its live slave.
  static func start(
    in group: ProcessGroup, root: String, heartbeat: Duration, missCount: Int, dialer: GRPCDialer
  ) async throws -> ProcessCluster {
    let coordinatorPort = try freeLoopbackPort()
    let ports = [try freeLoopbackPort(), try freeLoopbackPort()]
    let dataDirectory = "\(root)/cluster_1"
    _ = try await group.startCoordinator(port: coordinatorPort, heartbeat: heartbeat, missCount: missCount)
    let coordinatorEndpoint = try Endpoint(host: "127.0.0.1", port: coordinatorPort)
    let coordinator = dialer.coordinator(at: coordinatorEndpoint)
    var servers: [ChildProcess] = []
    let first = try ServerID(1)
    for id in 1...2 {
      let server = try await group.startServer(
        id: id, port: ports[id - 1], coordinator: coordinatorPort, dataDirectory: dataDirectory,
        heartbeat: heartbeat, missCount: missCount)
      servers.append(server)
      do {
        try await poll(within: .seconds(30), every: .milliseconds(20)) {
          let cluster = try await coordinator.status().clusters.first
          return cluster?.servers.filter(\.alive).count == id && cluster?.master == first
        }
      } catch {
        throw BenchError.setup("server \(id) did not register: \(server.logTail)")
      }
    }
    return ProcessCluster(
      coordinatorEndpoint: coordinatorEndpoint,
      serverEndpoints: try ports.map { try Endpoint(host: "127.0.0.1", port: $0) }, servers: servers,
      dataDirectory: dataDirectory, dialer: dialer)
  }
}
