import Foundation
import SNSCore

/// One `sns` child of a local deployment: what it is, how it is started, where its output goes.
struct ClusterChild: Codable, Hashable, Sendable {
  enum Kind: String, Codable, Sendable {
    case coordinator
    case server
    case synchronizer
  }

  /// `coordinator`, `server-<cluster>-<id>` or `synchronizer-<cluster>`: the key of everything else.
  var name: String
  var kind: Kind
  var cluster: Int?
  var serverID: Int?
  var address: String
  var metricsAddress: String?
  var arguments: [String]
  var logPath: String
}

/// Where every process of a local deployment listens and keeps its files (DESIGN.md §7).
///
/// The coordinator is on `127.0.0.1:<base-port>`; cluster i's processes are on their own loopback address
/// `127.0.0.(i+1)` — master (server 1) on `<base-port>+1`, slave (server 2) on `+2`, synchronizer on `+3` —
/// so each cluster is identified by an IP address, as the seed says, on one machine. With metrics on, each
/// process also serves `/metrics` on its own address at its port `+100`.
struct ClusterLayout: Sendable {
  struct Intervals: Sendable {
    var heartbeat: String
    var missCount: Int
    var syncInterval: String
    var timelinePoll: String
  }

  var clusters: Int
  var basePort: Int
  /// Absolute: children run with it whatever their working directory.
  var dataDirectory: String
  var intervals: Intervals
  var metrics: Bool
  var logLevel: String
  var secretFile: String

  var coordinatorAddress: String { "127.0.0.1:\(basePort)" }
  /// The cluster secret, once ``prepareDirectories()`` made sure there is one.
  var secret: String? {
    FileManager.default.contents(atPath: secretFile).map {
      String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
  }
  var logDirectory: String { (dataDirectory as NSString).appendingPathComponent("logs") }
  var deploymentFile: String { Self.deploymentFile(in: dataDirectory) }

  static func deploymentFile(in dataDirectory: String) -> String {
    (dataDirectory as NSString).appendingPathComponent("deployment.json")
  }

  static func host(ofCluster cluster: Int) -> String { "127.0.0.\(cluster + 1)" }

  func machineDirectory(ofCluster cluster: Int) -> String {
    (dataDirectory as NSString).appendingPathComponent("cluster_\(cluster)")
  }

  /// The role command lines of this deployment's children.
  var commandLines: RoleCommandLines {
    RoleCommandLines(
      coordinatorAddress: coordinatorAddress, heartbeat: intervals.heartbeat, missCount: intervals.missCount,
      syncInterval: intervals.syncInterval, timelinePoll: intervals.timelinePoll, secret: .file(secretFile),
      logLevel: logLevel)
  }

  /// Every child, in start order: the coordinator, then per cluster the master, the slave, the synchronizer.
  var children: [ClusterChild] {
    let lines = commandLines
    var children = [
      child("coordinator", .coordinator, cluster: nil, id: nil, host: "127.0.0.1", offset: 0) { _, metrics in
        lines.coordinator(
          clusters: clusters,
          dataDirectory: (dataDirectory as NSString).appendingPathComponent("coordinator"),
          metricsListen: metrics)
      }
    ]
    for cluster in 1...clusters {
      let host = Self.host(ofCluster: cluster)
      let machine = machineDirectory(ofCluster: cluster)
      for id in 1...2 {
        children.append(
          child("server-\(cluster)-\(id)", .server, cluster: cluster, id: id, host: host, offset: id) {
            lines.server(cluster: cluster, id: id, listen: $0, machine: machine, metricsListen: $1)
          })
      }
      children.append(
        child("synchronizer-\(cluster)", .synchronizer, cluster: cluster, id: nil, host: host, offset: 3) {
          lines.synchronizer(cluster: cluster, listen: $0, machine: machine, metricsListen: $1)
        })
    }
    return children
  }

  /// A child listening on `host` at the base port plus `offset` (its metrics at `+100`); `arguments` gets
  /// those two addresses.
  private func child(
    _ name: String, _ kind: ClusterChild.Kind, cluster: Int?, id: Int?, host: String, offset: Int,
    arguments: (_ listen: String, _ metricsListen: String?) -> [String]
  ) -> ClusterChild {
    let address = "\(host):\(basePort + offset)"
    let metricsAddress = metrics ? "\(host):\(basePort + offset + 100)" : nil
    return ClusterChild(
      name: name, kind: kind, cluster: cluster, serverID: id, address: address,
      metricsAddress: metricsAddress, arguments: arguments(address, metricsAddress),
      logPath: (logDirectory as NSString).appendingPathComponent("\(name).log"))
  }

  /// Creates the data, log and machine directories and the cluster secret (0600), unless it exists.
  func prepareDirectories() throws {
    let files = FileManager.default
    for cluster in 1...clusters {
      try files.createDirectory(
        atPath: machineDirectory(ofCluster: cluster), withIntermediateDirectories: true)
    }
    try files.createDirectory(atPath: logDirectory, withIntermediateDirectories: true)
    if !files.fileExists(atPath: secretFile) {
      let secret = (0..<4).map { _ in String(UInt64.random(in: .min ... .max), radix: 16) }.joined()
      guard
        files.createFile(
          atPath: secretFile, contents: Data((secret + "\n").utf8), attributes: [.posixPermissions: 0o600])
      else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: secretFile]) }
    }
  }
}

/// What `sns cluster up` leaves in `<data-dir>/deployment.json` for `status` and `kill`: where the
/// coordinator is, the secret file, and every child with its pid while it runs.
struct DeploymentRecord: Codable, Sendable {
  var coordinator: String
  var secretFile: String
  var supervisorPID: Int32
  var children: [ClusterChild]
  /// Running children by name (a child that exited is removed).
  var pids: [String: Int32]

  static func load(dataDirectory: String) -> DeploymentRecord? {
    guard let data = FileManager.default.contents(atPath: ClusterLayout.deploymentFile(in: dataDirectory))
    else { return nil }
    return try? JSONDecoder().decode(DeploymentRecord.self, from: data)
  }

  func save(to path: String) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    guard let data = try? encoder.encode(self) else { return }
    // Written whole and renamed into place, so a concurrent `sns cluster kill` never reads half a file.
    let temporary = path + ".tmp"
    guard FileManager.default.createFile(atPath: temporary, contents: data) else { return }
    _ = rename(temporary, path)
  }

  /// The pid of `name`, if it still runs and is still the process that was started (its command line
  /// still names its address), so a stale file never makes `kill` hit an unrelated process.
  func livePID(of name: String) -> Int32? {
    guard let pid = pids[name], let child = children.first(where: { $0.name == name }),
      let commandLine = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline")
    else { return nil }
    let words = commandLine.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    return words.contains(child.address) ? pid : nil
  }
}
