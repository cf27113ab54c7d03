import Foundation
import SNSTestSupport

/// What the acceptance sheets need of a deployment: where its coordinator is, a master to kill, and stop.
protocol SheetDeployment: AnyObject {
  var root: String { get }
  var coordinatorHost: String { get }
  var coordinatorPort: Int { get }
  func start() async throws
  /// kill -9 of cluster `cluster`'s master; returns once the coordinator promoted its slave.
  func killMaster(ofCluster cluster: Int) async throws
  func stop() async
  /// Every process it started, by name.
  var processes: [String: SNSProcess] { get }
}

extension SheetDeployment {
  /// Every process is gone (so the test left nothing behind).
  var allStopped: Bool { processes.values.allSatisfy { !$0.isRunning } }
  /// The processes still running, with what the kernel says of each (empty when ``allStopped``).
  var stillRunning: String { SNSProcess.describeRunning(processes) }
  /// The end of every process's log, for a failure report.
  var logs: String {
    processes.sorted { $0.key < $1.key }.map { "---- \($0.key) ----\n\($0.value.output.suffix(3000))" }
      .joined(separator: "\n")
  }
}

/// The deployments the sheets run against.
enum SheetDeploymentKind: String, CaseIterable, Sendable {
  /// `sns coordinator`, `sns server`, `sns synchronizer` (LocalDeployment).
  case sns
  /// The sheet's literal command lines through the course-named links: `coordinator -p`, `tsd -c -s -h -k -p`,
  /// `synchronizer -h -k -p -i` (ids 1…2N).
  case courseLinks

  func make(root: String, clusters: Int) throws -> any SheetDeployment {
    switch self {
    case .sns: try LocalDeployment(root: root, clusters: clusters, syncInterval: "300ms")
    case .courseLinks: try CourseDeployment(root: root, clusters: clusters)
    }
  }
}

enum SheetDeploymentError: Error { case noPromotion(String) }

extension LocalDeployment: SheetDeployment {
  var coordinatorHost: String { "127.0.0.1" }
  var coordinatorPort: Int { Int(coordinatorAddress.split(separator: ":").last ?? "") ?? 0 }

  func killMaster(ofCluster cluster: Int) async throws {
    let master = try await status().cluster(cluster)?.master ?? 0
    processes["server-\(cluster)-\(master)"]?.signal(SIGKILL)
    try await waitForPromotion(cluster: cluster, from: master) { try await self.status() }
  }
}

/// Waits (bounded) until cluster `cluster` has a live master other than `old`.
func waitForPromotion(
  cluster: Int, from old: Int, status: @escaping () async throws -> LocalDeployment.Status
) async throws {
  let promoted = await eventually(within: .seconds(30)) {
    guard let described = try? await status().cluster(cluster) else { return false }
    return described.master != old && described.servers.contains { $0.id == described.master && $0.alive }
  }
  guard promoted else {
    throw SheetDeploymentError.noPromotion("\((try? await status()).map { "\($0)" } ?? "no status")")
  }
}

/// The sheet's own command lines, through links named `coordinator`, `tsd`, `synchronizer` (made by
/// `sns course install`), run in `<root>/work` as a teaching assistant would: data lands in
/// `work/cluster_<c>/<role>_<id>`. Ports are free ones instead of 9000/10000…, so tests can run side by side;
/// intervals come from the environment the course commands read.
final class CourseDeployment: SheetDeployment {
  let root: String
  let clusters: Int
  let coordinatorHost = "localhost"
  let coordinatorPort: Int
  var processes: [String: SNSProcess] = [:]
  var links: String { "\(root)/bin" }
  var work: String { "\(root)/work" }
  static let environment = [
    "SNS_HEARTBEAT": "100ms", "SNS_MISS_COUNT": "3", "SNS_SYNC_INTERVAL": "300ms",
    "SNS_TIMELINE_POLL": "50ms",
  ]

  init(root: String, clusters: Int) throws {
    self.root = root
    self.clusters = clusters
    coordinatorPort = freePort()
  }

  func launch(_ name: String, _ link: String, _ arguments: [String]) async throws {
    processes[name] = try await SNSProcess(
      name: name, arguments: arguments, directory: root, executable: "\(links)/\(link)",
      environment: Self.environment, workingDirectory: work)
  }

  func start() async throws {
    try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    let (code, output) = try await runSNS(["course", "install", links])
    guard code == 0 else { throw LocalDeployment.DeploymentError.notReady(output) }
    let k = "\(coordinatorPort)"
    try await launch("coordinator", "coordinator", ["-p", k])
    for server in 1...2 {
      for cluster in 1...clusters {
        let port = "\(freePort())"
        try await launch(
          "tsd-\(cluster)-\(server)", "tsd",
          ["-c", "\(cluster)", "-s", "\(server)", "-h", "localhost", "-k", k, "-p", port])
      }
      // The first servers register first, so they are the masters, as in the sheet's startup.sh.
      _ = await eventually(within: .seconds(10)) {
        guard let status = try? await self.status() else { return false }
        return status.clusters.count == self.clusters && status.clusters.allSatisfy { $0.master == 1 }
      }
    }
    for id in 1...(2 * clusters) {
      try await launch(
        "synchronizer-\(id)", "synchronizer",
        ["-h", "localhost", "-k", k, "-p", "\(freePort())", "-i", "\(id)"])
    }
    let ready = await eventually(within: .seconds(20)) {
      guard let status = try? await self.status() else { return false }
      return status.clusters.count == self.clusters
        && status.clusters.allSatisfy { $0.servers.filter(\.alive).count == 2 && !$0.synchronizer.isEmpty }
    }
    guard ready else {
      throw LocalDeployment.DeploymentError.notReady(
        "\((try? await status()).map { "\($0)" } ?? "no status")\n\(SNSProcess.describeExited(processes))")
    }
  }

  func status() async throws -> LocalDeployment.Status {
    let (code, output) = try await runSNS(
      ["cluster", "status", "--json", "--coordinator", "127.0.0.1:\(coordinatorPort)"], timeout: .seconds(5))
    guard code == 0 else { throw LocalDeployment.DeploymentError.notReady(output) }
    return try JSONDecoder().decode(LocalDeployment.Status.self, from: Data(output.utf8))
  }

  func killMaster(ofCluster cluster: Int) async throws {
    let master = try await status().cluster(cluster)?.master ?? 0
    processes["tsd-\(cluster)-\(master)"]?.signal(SIGKILL)
    try await waitForPromotion(cluster: cluster, from: master) { try await self.status() }
  }

  func stop() async {
    for name in processes.keys.sorted() { await processes[name]?.stop() }
  }

}
