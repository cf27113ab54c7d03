import Foundation
import SNSCore
import SNSTestSupport
import Testing

/// A real Tiny SNS on loopback: a coordinator and, per cluster i, a master (id 1), a slave (id 2) and a
/// synchronizer listening on 127.0.0.(i+1), each a child `sns` process. Every process is stopped by ``stop()``.
final class LocalDeployment {
  let root: String
  let clusters: Int
  let coordinatorAddress: String
  var processes: [String: SNSProcess] = [:]
  let heartbeat: String
  let missCount: Int
  let syncInterval: String
  var ports: [String: Int] = [:]

  init(
    root: String, clusters: Int = 3, heartbeat: String = "100ms", missCount: Int = 3,
    syncInterval: String = "500ms"
  )
    throws
  {
    self.root = root
    self.clusters = clusters
    self.heartbeat = heartbeat
    self.missCount = missCount
    self.syncInterval = syncInterval
    coordinatorAddress = "127.0.0.1:\(freePort())"
  }

  func host(ofCluster cluster: Int) -> String { "127.0.0.\(cluster + 1)" }

  func address(_ name: String, cluster: Int) -> String {
    let host = host(ofCluster: cluster)
    let port = ports[name] ?? freePort()
    ports[name] = port
    return "\(host):\(port)"
  }

  func dataDirectory(ofCluster cluster: Int) -> String { "\(root)/cluster_\(cluster)" }

  /// Starts everything and waits until every cluster has a master, a live slave and a synchronizer.
  func start() async throws {
    try await startCoordinator()
    for cluster in 1...clusters {
      try await startServer(cluster: cluster, id: 1)
      // Server 1 registers first, so it is the cluster's first master.
      _ = await eventually(within: .seconds(10)) { (try? await self.status())?.cluster(cluster)?.master == 1 }
      try await startServer(cluster: cluster, id: 2)
      try await startSynchronizer(cluster: cluster)
    }
    let ready = await eventually(within: .seconds(20)) {
      guard let status = try? await self.status() else { return false }
      return status.clusters.allSatisfy { cluster in
        cluster.servers.filter(\.alive).count == 2 && !cluster.synchronizer.isEmpty
      }
    }
    guard ready else {
      throw DeploymentError.notReady(
        "\((try? await status()).map { "\($0)" } ?? "no status")\n\(SNSProcess.describeExited(processes))")
    }
  }

  enum DeploymentError: Error { case notReady(String) }

  /// The command lines of this deployment's children.
  func commandLines() throws -> RoleCommandLines {
    RoleCommandLines(
      coordinatorAddress: coordinatorAddress, heartbeat: heartbeat, missCount: missCount,
      syncInterval: syncInterval, timelinePoll: "50ms", secret: .file(try secretFile()))
  }

  func startCoordinator() async throws {
    processes["coordinator"] = try await SNSProcess(
      name: "coordinator",
      arguments: try commandLines().coordinator(clusters: clusters, dataDirectory: coordinatorDirectory),
      directory: root)
  }

  /// Where the coordinator keeps its roles.
  var coordinatorDirectory: String { "\(root)/coordinator" }

  func startServer(cluster: Int, id: Int) async throws {
    let name = "server-\(cluster)-\(id)"
    processes[name] = try await SNSProcess(
      name: name,
      arguments: try commandLines().server(
        cluster: cluster, id: id, listen: address(name, cluster: cluster),
        machine: dataDirectory(ofCluster: cluster)),
      directory: root)
  }

  func startSynchronizer(cluster: Int) async throws {
    let name = "synchronizer-\(cluster)"
    processes[name] = try await SNSProcess(
      name: name,
      arguments: try commandLines().synchronizer(
        cluster: cluster, listen: address(name, cluster: cluster), machine: dataDirectory(ofCluster: cluster)),
      directory: root)
  }

  /// The deployment's cluster secret (made on first use), as `sns cluster up` makes one.
  func secretFile() throws -> String {
    let path = "\(root)/secret"
    if !FileManager.default.fileExists(atPath: path) {
      try "\(UUID().uuidString)\n".write(toFile: path, atomically: true, encoding: .utf8)
    }
    return path
  }

  /// `sns cluster status --json`, decoded.
  func status() async throws -> Status {
    let (code, output) = try await runSNS(
      [
        "cluster", "status", "--json", "--coordinator", coordinatorAddress, "--secret-file", try secretFile(),
      ],
      timeout: .seconds(5))
    guard code == 0 else { throw DeploymentError.notReady(output) }
    return try JSONDecoder().decode(Status.self, from: Data(output.utf8))
  }

  struct Status: Decodable, CustomStringConvertible {
    struct Server: Decodable {
      let id: Int
      let role: String
      let address: String
      let alive: Bool
    }
    struct Cluster: Decodable {
      let cluster: Int
      let epoch: Int
      let master: Int
      let synchronizer: String
      let servers: [Server]
    }
    let clusters: [Cluster]
    func cluster(_ id: Int) -> Cluster? { clusters.first { $0.cluster == id } }
    var description: String {
      clusters.map { c in
        "cluster \(c.cluster) epoch \(c.epoch) master \(c.master) servers \(c.servers.map { "\($0.id):\($0.role):\($0.alive)" })"
      }
      .joined(separator: "; ")
    }
  }

  /// A one-shot client command for `user`.
  func client(_ user: Int, _ words: [String]) async throws -> (status: Int32, output: String) {
    try await runSNS(["client", "--coordinator", coordinatorAddress, "--user", "\(user)"] + words)
  }

  /// An interactive client session (stdin pipe), as a person at the course client would have.
  func interactiveClient(_ user: Int) async throws -> SNSProcess {
    let name = "client-\(user)-\(processes.count)"
    let process = try await SNSProcess(
      name: name, arguments: ["client", "--coordinator", coordinatorAddress, "--user", "\(user)"],
      directory: root,
      interactive: true)
    processes[name] = process
    return process
  }

  func stop() async {
    for process in processes.values { process.closeInput() }
    for name in processes.keys.sorted() { await processes[name]?.stop() }
  }
}

/// Runs `body` against a ``LocalDeployment`` in a fresh temporary directory (started first unless `start` is
/// false), then stops every process, prints their logs if `body` threw, and removes the directory.
func withLocalDeployment(
  clusters: Int = 3, heartbeat: String = "100ms", missCount: Int = 3, syncInterval: String = "500ms",
  start: Bool = true, _ body: (LocalDeployment) async throws -> Void
) async throws {
  try await withTemporaryDirectory(prefix: "tinysns-it") { root in
    let deployment = try LocalDeployment(
      root: root, clusters: clusters, heartbeat: heartbeat, missCount: missCount, syncInterval: syncInterval)
    do {
      if start { try await deployment.start() }
      try await body(deployment)
    } catch {
      await deployment.stop()
      print(deployment.logs)
      throw error
    }
    await deployment.stop()
    #expect(deployment.allStopped, "still running: \(deployment.stillRunning)")
  }
}
