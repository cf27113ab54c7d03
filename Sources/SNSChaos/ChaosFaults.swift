import Foundation
import Logging
import SNSBench
import SNSCore
import SNSTestSupport

#if canImport(Glibc)
  import Glibc
#endif

/// Performs the faults of a ``ChaosSchedule`` on a ``ChaosDeployment``: signals, nftables rules in the
/// run's network namespace (table `inet sns_chaos`), a filled tmpfs, strace attached to a server. Everything a
/// fault changes is undone when it ends, and ``healAll()`` undoes whatever is left on any exit path.
actor ChaosFaults {
  let deployment: ChaosDeployment
  let specs: [ChaosProcessSpec]
  let logDirectory: String
  let logger: Logger
  /// strace attached for fault n, and the filler file of fault n, until the fault ends.
  private var tracers: [Int: ChildProcess] = [:]
  private var fillers: [Int: String] = [:]
  /// Faults whose rules are in place: each has a base chain `f<n>` on the output hook of its own.
  private var chains: Set<Int> = []
  static let table = "sns_chaos"

  init(deployment: ChaosDeployment, specs: [ChaosProcessSpec], logDirectory: String, logger: Logger) {
    self.deployment = deployment
    self.specs = specs
    self.logDirectory = logDirectory
    self.logger = logger
  }

  func nft(_ arguments: [String]) async throws {
    let status = await ChaosTool.run("/usr/sbin/nft", arguments, logDirectory: logDirectory)
    guard status == 0 else {
      throw ChaosError.setup("nft \(arguments.joined(separator: " ")) exited \(status) (see logs/tools.log)")
    }
  }

  /// Creates the table (every packet of the namespace passes its output hook: all traffic is local).
  func prepare() async throws {
    try await nft(["add", "table", "inet", Self.table])
  }

  func spec(_ name: String) throws -> ChaosProcessSpec {
    guard let spec = specs.first(where: { $0.name == name }) else {
      throw ChaosError.setup("no process \(name)")
    }
    return spec
  }

  /// Adds a rule to fault `index`'s chain, making the chain first.
  func rule(_ index: Int, _ words: String) async throws {
    if !chains.contains(index) {
      try await nft([
        "add", "chain", "inet", Self.table, "f\(index)",
        "{ type filter hook output priority 0; policy accept; }",
      ])
      chains.insert(index)
    }
    try await nft(
      ["add", "rule", "inet", Self.table, "f\(index)"] + words.split(separator: " ").map(String.init))
  }

  func removeChain(_ index: Int) async {
    guard chains.remove(index) != nil else { return }
    _ = await ChaosTool.run(
      "/usr/sbin/nft",
      [
        "flush", "chain", "inet", Self.table, "f\(index)", ";", "delete", "chain", "inet", Self.table,
        "f\(index)",
      ],
      logDirectory: logDirectory)
  }

  /// Starts `fault` against the resolved process names; returns what it did, for the log.
  func begin(_ index: Int, _ fault: ChaosFault, targets: [String]) async throws -> String {
    switch fault.kind {
    case .kill:
      await deployment.kill9(targets[0])
      return "kill -9 \(targets[0])"
    case .pause:
      await deployment.signal(targets[0], SIGSTOP)
      return "SIGSTOP \(targets[0])"
    case .partition:
      let (a, b) = (try spec(targets[0]), try spec(targets[1]))
      for (from, to) in [(a, b), (b, a)] {
        try await rule(index, "meta skuid \(from.uid) ip daddr \(to.host) tcp dport \(to.port) drop")
      }
      return "partition \(a.name) (\(a.address)) <-> \(b.name) (\(b.address))"
    case .loss:
      let target = try spec(targets[0])
      guard case .percent(let percent) = fault.detail else { return "no loss" }
      try await rule(index, "meta skuid \(target.uid) numgen random mod 100 < \(percent) drop")
      try await rule(
        index, "ip daddr \(target.host) tcp dport \(target.port) numgen random mod 100 < \(percent) drop")
      return "drop \(percent)% of \(target.name)'s packets"
    case .disk:
      let target = try spec(targets[0])
      guard let cluster = target.cluster, let id = target.serverID else { return "not a server" }
      let filler = "\(try await deployment.serverDirectory(cluster: cluster, id: id))/chaos-filler-\(index)"
      fillers[index] = filler
      // dd stops at ENOSPC: the disk is full when it exits.
      _ = await ChaosTool.run(
        "/bin/dd", ["if=/dev/zero", "of=\(filler)", "bs=64k"], logDirectory: logDirectory)
      return "disk of \(target.name) full"
    case .fsync:
      guard let pid = await deployment.pid(targets[0]) else { return "\(targets[0]) not running" }
      guard case .fsyncDelay(let milliseconds) = fault.detail else { return "no fsync fault" }
      let inject = milliseconds == 0 ? "error=EIO" : "delay_exit=\(milliseconds * 1000)"
      tracers[index] =
        (try await ChildProcess(
          name: "strace", executable: "/usr/bin/strace",
          arguments: [
            "-f", "-qq", "-o", "/dev/null", "-p", "\(pid)", "-e", "trace=fsync,fdatasync", "-e",
            "inject=fsync,fdatasync:\(inject)",
          ], directory: logDirectory, options: .init(dropsInheritedSNSVariables: true)))
      return
        "fsync of \(targets[0]) (pid \(pid)) \(milliseconds == 0 ? "failing with EIO" : "delayed \(milliseconds) ms")"
    }
  }

  /// Ends `fault`: restarts, SIGCONT, rules flushed, filler removed, strace detached.
  func end(_ index: Int, _ fault: ChaosFault, targets: [String]) async throws -> String {
    switch fault.kind {
    case .kill:
      try await deployment.start(targets[0])
      return "restarted \(targets[0])"
    case .pause:
      await deployment.signal(targets[0], SIGCONT)
      return "SIGCONT \(targets[0])"
    case .partition, .loss:
      await removeChain(index)
      return "rules removed"
    case .disk:
      freeDisk(index)
      return "disk freed"
    case .fsync:
      await detachTracer(index)
      return "strace detached"
    }
  }

  func freeDisk(_ index: Int) {
    if let filler = fillers.removeValue(forKey: index) { try? FileManager.default.removeItem(atPath: filler) }
  }

  func detachTracer(_ index: Int) async {
    if let tracer = tracers.removeValue(forKey: index) { await ChaosDeployment.stop(tracer, signal: SIGINT) }
  }

  /// Undoes every fault: no rule, no tracer, no filler, every process running and not stopped.
  func healAll() async {
    await undoAll()
    do { try await deployment.reviveAll() } catch { logger.error("cannot restart a process: \(error)") }
  }

  /// Removes every rule, tracer and filler still in place, restarting nothing (on the way out).
  func undoAll() async {
    for index in chains.sorted() { await removeChain(index) }
    for index in tracers.keys.sorted() { await detachTracer(index) }
    for index in fillers.keys.sorted() { freeDisk(index) }
  }

  /// Removes the table (the namespace's deletion would too).
  func removeTable() async {
    _ = await ChaosTool.run(
      "/usr/sbin/nft", ["delete", "table", "inet", Self.table], logDirectory: logDirectory)
  }
}
