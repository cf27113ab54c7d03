import Foundation
import Logging
import SNSBench
import SNSCore
import SNSTestSupport

#if canImport(Glibc)
  import Glibc
#endif

/// One process of the deployment, as `sns cluster up` would start it.
public struct ChaosProcessSpec: Hashable, Sendable {
  /// `coordinator`, `server-<c>-<id>` or `synchronizer-<c>`.
  public var name: String
  public var cluster: Int?
  public var serverID: Int?
  /// `127.0.0.x:port`, where it listens.
  public var address: String
  /// The `sns` arguments.
  public var arguments: [String]

  public init(name: String, cluster: Int?, serverID: Int?, address: String, arguments: [String]) {
    self.name = name
    self.cluster = cluster
    self.serverID = serverID
    self.address = address
    self.arguments = arguments
  }

  /// Each process runs under its own user id, so nftables can tell its packets apart (`meta skuid`):
  /// 61000 for the coordinator, 61000 + 10·c + id for server id of cluster c, + 3 for its synchronizer.
  public var uid: Int { 61000 + 10 * (cluster ?? 0) + (serverID ?? (cluster == nil ? 0 : 3)) }
  public var host: String { String(address.split(separator: ":").first ?? "") }
  public var port: Int { Int(address.split(separator: ":").last ?? "") ?? 0 }
}

/// The running deployment: every `sns` child (each under its own uid, with the capability to use every file
/// as root would, so the cluster's processes still share their directories), each server directory on its
/// own small tmpfs. Owns the children; stopping it stops them all and unmounts the disks.
actor ChaosDeployment {
  let specs: [ChaosProcessSpec]
  let executable: String
  let directory: String
  let logger: Logger
  private var children: [String: ChildProcess] = [:]
  private var mounts: [String] = []

  init(specs: [ChaosProcessSpec], executable: String, directory: String, logger: Logger) {
    self.specs = specs
    self.executable = executable
    self.directory = directory
    self.logger = logger
  }

  var logDirectory: String { "\(directory)/logs" }

  /// Where server `id` of `cluster` keeps its files, by the rule every deployment uses.
  func serverDirectory(cluster: Int, id: Int) throws -> String {
    let server = try ServerID(id)
    return ServerDirectoryLayout.serverDirectory(
      in: ServerDirectoryLayout.machineDirectory(in: directory, cluster: try ClusterID(cluster)), id: server,
      roleIfNew: ServerDirectoryLayout.firstRole(of: server))
  }

  /// Mounts a tmpfs of `megabytes` on every server directory.
  func mountDisks(megabytes: Int) async throws {
    for spec in specs {
      guard let cluster = spec.cluster, let id = spec.serverID else { continue }
      let path = try serverDirectory(cluster: cluster, id: id)
      try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
      let status = await ChaosTool.run(
        "/bin/mount", ["-t", "tmpfs", "-o", "size=\(megabytes)m,mode=0777", "tmpfs", path],
        logDirectory: logDirectory)
      guard status == 0 else {
        throw ChaosError.setup("cannot mount a tmpfs at \(path) (mount exited \(status))")
      }
      mounts.append(path)
    }
  }

  func start(_ name: String) async throws {
    if let child = children[name] {
      if !child.isRunning { try await child.start() }
      return
    }
    guard let spec = specs.first(where: { $0.name == name }) else {
      throw ChaosError.setup("no process \(name)")
    }
    let capabilities = "+dac_override,+fowner"
    children[name] = try await ChildProcess(
      name: name, executable: "/usr/bin/setpriv",
      arguments: [
        "--reuid=\(spec.uid)", "--regid=\(spec.uid)", "--clear-groups", "--inh-caps=\(capabilities)",
        "--ambient-caps=\(capabilities)", "--", executable,
      ] + spec.arguments, directory: logDirectory, options: .init(dropsInheritedSNSVariables: true))
  }

  func pid(_ name: String) -> Int32? {
    guard let child = children[name], child.isRunning else { return nil }
    return child.pid
  }

  func isRunning(_ name: String) -> Bool { children[name]?.isRunning ?? false }

  func kill9(_ name: String) async {
    guard let child = children[name] else { return }
    await Self.stop(child, signal: SIGKILL)
  }

  /// Sends `signal` (SIGKILL after `grace` if it is still there) and waits until `child` is gone. Runs on the
  /// caller's actor: a ``ChildProcess`` never leaves the actor that owns it.
  static func stop(
    _ child: ChildProcess, signal: Int32, grace: Duration = .seconds(3),
    isolation: isolated (any Actor)? = #isolation
  ) async {
    if child.isRunning { kill(child.pid, signal) }
    let deadline = ContinuousClock.now + grace
    while child.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(5)) }
    guard child.isRunning else { return }
    kill(child.pid, SIGKILL)
    let last = ContinuousClock.now + .seconds(10)
    while child.isRunning, ContinuousClock.now < last { try? await Task.sleep(for: .milliseconds(5)) }
  }

  func signal(_ name: String, _ signal: Int32) {
    guard let child = children[name], child.isRunning else { return }
    kill(child.pid, signal)
  }

  /// SIGCONT to everyone and a start for everyone that is not running.
  func reviveAll() async throws {
    for spec in specs {
      signal(spec.name, SIGCONT)
      try await start(spec.name)
    }
  }

  /// The children that exited without being asked to (a crash, not a kill of ours), for the report.
  func logTail(_ name: String) -> String { children[name]?.logTail ?? "" }

  /// Stops every child (SIGCONT first, so a paused one can hear SIGTERM).
  func stopAll() async {
    for spec in specs.reversed() {
      signal(spec.name, SIGCONT)
      if let child = children[spec.name] { await Self.stop(child, signal: SIGTERM) }
    }
  }

  /// Unmounts the servers' disks (lazily: a child that did not die yet may hold a file open).
  func unmountDisks() async {
    for path in mounts.reversed() {
      _ = await ChaosTool.run("/bin/umount", ["-l", path], logDirectory: logDirectory)
    }
    mounts = []
  }
}

/// Short helper commands (mount, nft, dd), each bounded in time; output goes to `logs/<name>.log` (`tools`).
enum ChaosTool {
  /// Runs `path` with `arguments`; its exit status, or -1 if it could not start or was killed after `timeout`.
  static func run(
    _ path: String, _ arguments: [String], logDirectory: String, name: String = "tools",
    timeout: Duration = .seconds(60)
  )
    async -> Int32
  {
    guard
      let child = try? await ChildProcess(
        name: name, executable: path, arguments: arguments, directory: logDirectory,
        options: .init(dropsInheritedSNSVariables: true))
    else { return -1 }
    guard await child.waitForExit(within: timeout) else {
      await child.kill9()
      return -1
    }
    return child.exitStatus ?? -1
  }
}
