import Foundation
import SNSCore
import SNSTestSupport
import SNSTransport

#if canImport(Glibc)
  import Glibc
#endif

/// Runs `body` with a scratch directory and a ``ProcessGroup`` in it, and stops every process it started,
/// whether `body` returns or throws.
func withProcessGroup<T>(
  _ settings: BenchSettings, _ name: String, _ body: (ProcessGroup, String) async throws -> T
) async throws -> T {
  try await withScratchDirectory(settings, name) { root in
    let group = try ProcessGroup(settings: settings, directory: root)
    do {
      let result = try await body(group, root)
      await group.stopAll()
      return result
    } catch {
      await group.stopAll()
      throw error
    }
  }
}

/// Processes of one scenario, stopped together (in reverse start order) at the end.
final class ProcessGroup {
  let executable: String
  let directory: String
  private(set) var children: [ChildProcess] = []

  init(settings: BenchSettings, directory: String) throws {
    guard let executable = settings.executable, FileManager.default.isExecutableFile(atPath: executable)
    else {
      throw BenchError.setup(
        "this scenario starts `sns` processes: no sns binary given (run it as `sns bench`)")
    }
    self.executable = executable
    self.directory = directory
  }

  @discardableResult
  func start(_ name: String, _ arguments: [String]) async throws -> ChildProcess {
    // The bench wires its deployments itself: no inherited SNS_* variable may reach them.
    let child = try await ChildProcess(
      name: name, executable: executable, arguments: arguments, directory: directory,
      options: .init(dropsInheritedSNSVariables: true))
    children.append(child)
    return child
  }

  func stopAll() async {
    for child in children.reversed() { await child.stop() }
  }

  /// The command lines of a one-cluster deployment on 127.0.0.1, private to one scenario (`--insecure`).
  static func commandLines(
    coordinator: Int, heartbeat: Duration, missCount: Int, syncInterval: Duration = .seconds(30)
  )
    -> RoleCommandLines
  {
    RoleCommandLines(
      coordinatorAddress: "127.0.0.1:\(coordinator)", heartbeat: RoleCommandLines.spelling(heartbeat),
      missCount: missCount, syncInterval: RoleCommandLines.spelling(syncInterval), secret: .insecure,
      logLevel: "warning")
  }

  /// `sns coordinator` with one cluster on 127.0.0.1.
  func startCoordinator(port: Int, heartbeat: Duration, missCount: Int) async throws -> ChildProcess {
    try await start(
      "coordinator",
      Self.commandLines(coordinator: port, heartbeat: heartbeat, missCount: missCount)
        .coordinator(clusters: 1, dataDirectory: nil))
  }

  /// `sns server` of cluster 1.
  func startServer(
    id: Int, port: Int, coordinator: Int, dataDirectory: String, heartbeat: Duration, missCount: Int,
    logLevel: String = "warning", name: String? = nil
  )
    async throws -> ChildProcess
  {
    try await start(
      name ?? "server-\(id)",
      Self.commandLines(coordinator: coordinator, heartbeat: heartbeat, missCount: missCount)
        .server(
          cluster: 1, id: id, listen: "127.0.0.1:\(port)", machine: dataDirectory, logLevel: logLevel))
  }

  /// `sns synchronizer` of cluster 1, logging each round (`sync round finished`).
  func startSynchronizer(port: Int, coordinator: Int, dataDirectory: String, syncInterval: Duration)
    async throws -> ChildProcess
  {
    try await start(
      "synchronizer-1",
      Self.commandLines(
        coordinator: coordinator, heartbeat: .seconds(10), missCount: 2, syncInterval: syncInterval
      )
      .synchronizer(cluster: 1, listen: "127.0.0.1:\(port)", machine: dataDirectory, logLevel: "info"))
  }
}

extension ChildProcess {
  /// How often `text` occurs in the log so far.
  func logCount(of text: String) -> Int { output.components(separatedBy: text).count - 1 }
}

/// A TCP port free on 127.0.0.1 right now.
func freeLoopbackPort() throws -> Int {
  let port = freePort()
  guard port > 0 else { throw BenchError.setup("no free TCP port on 127.0.0.1") }
  return port
}
