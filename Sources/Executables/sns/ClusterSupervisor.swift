import Foundation
import SNSCore
import SNSTransport
import Subprocess

/// Runs the children of `sns cluster up` (swift-subprocess), keeps `deployment.json` current, reports a
/// child that dies unexpectedly, and stops them all in reverse start order.
///
/// A dead child is not restarted: a killed master must stay dead so the coordinator's failover is visible.
actor ClusterSupervisor {
  let binary: String
  let layout: ClusterLayout
  private var record: DeploymentRecord
  private var stopping = false
  /// Exit descriptions of children that ended, by name.
  private(set) var exits: [String: String] = [:]

  init(binary: String, layout: ClusterLayout) {
    self.binary = binary
    self.layout = layout
    record = DeploymentRecord(
      coordinator: layout.coordinatorAddress, secretFile: layout.secretFile, supervisorPID: getpid(),
      children: layout.children, pids: [:])
  }

  var pids: [String: Int32] { record.pids }
  var isStopping: Bool { stopping }

  /// Runs `child` until it exits; returns then. Meant to be a task of the caller's task group.
  nonisolated func run(_ child: ClusterChild) async {
    let descriptor = open(child.logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    guard descriptor >= 0 else {
      await ended(
        child, description: "cannot open its log \(child.logPath): \(String(cString: strerror(errno)))")
      return
    }
    var options = PlatformOptions()
    // Its own process group: a ^C at the terminal reaches only `cluster up`, which stops children in order.
    options.processGroupID = 0
    // If this task is cancelled, the child gets SIGTERM, then SIGKILL if it lingers.
    options.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: .seconds(3))]
    do {
      let result = try await Subprocess.run(
        .path(.init(binary)), arguments: Arguments(child.arguments),
        environment: .inherit.updating([.init(stringLiteral: ParentWatch.environmentKey): "\(getpid())"]),
        platformOptions: options, input: .none,
        output: .fileDescriptor(.init(rawValue: descriptor), closeAfterSpawningProcess: true),
        error: .combinedWithOutput
      ) { execution in
        await self.started(child, pid: execution.processIdentifier.value)
      }
      await ended(child, description: "\(result.terminationStatus)")
      if child.kind == .server { await reportFailover(after: child) }
    } catch {
      await ended(child, description: "could not start: \(error)")
    }
  }

  private func started(_ child: ClusterChild, pid: Int32) {
    record.pids[child.name] = pid
    record.save(to: layout.deploymentFile)
  }

  private func ended(_ child: ClusterChild, description: String) {
    let pid = record.pids.removeValue(forKey: child.name)
    exits[child.name] = description
    record.save(to: layout.deploymentFile)
    guard !stopping else { return }
    let who = Self.describe(child) + (pid.map { ", pid \($0)" } ?? "")
    let consequence =
      child.kind == .server
      ? "not restarted (if it was master, the coordinator promotes the slave after missed heartbeats)"
      : "not restarted"
    say("!! \(who) exited unexpectedly (\(description)); \(consequence). Its log: \(child.logPath)")
  }

  /// Epochs per cluster as last seen, so a failover is told apart from a lost slave.
  private var epochs: [Int: Int] = [:]

  /// Records the epochs of a status (when everything is up, and after each reported failover).
  func noteEpochs(_ status: CoordinatorStatus) {
    for cluster in status.clusters { epochs[cluster.id.value] = Int(cluster.epoch.value) }
  }

  /// After a server died unexpectedly: waits (bounded) until the coordinator has acted — a promotion (new
  /// epoch) or a slave marked dead — and says so, so the failover shows in `cluster up`'s own output.
  private func reportFailover(after child: ClusterChild) async {
    guard !stopping, let cluster = child.cluster, let serverID = child.serverID,
      let endpoint = try? Endpoint(parsing: layout.coordinatorAddress)
    else { return }
    let dialer = GRPCDialer(options: CallOptions(timeout: .seconds(2), secret: layout.secret))
    defer { dialer.close() }
    let coordinator = dialer.coordinator(at: endpoint)
    let deadline = ContinuousClock.now + .seconds(120)
    while !stopping, ContinuousClock.now < deadline {
      if let status = try? await coordinator.status(),
        let described = status.clusters.first(where: { $0.id.value == cluster })
      {
        if Int(described.epoch.value) > epochs[cluster] ?? Int.max, let master = described.master {
          noteEpochs(status)
          say("-> cluster \(cluster): server \(master) promoted to master (epoch \(described.epoch))")
          return
        }
        let dead = described.servers.contains { $0.id.value == serverID && !$0.alive }
        if dead && described.master?.value != serverID {
          say(
            "-> cluster \(cluster): server \(serverID) marked dead; master \(described.master.map { "\($0)" } ?? "none") keeps serving"
          )
          return
        }
      }
      try? await Task.sleep(for: .milliseconds(100))
    }
  }

  /// SIGTERM to each running child in reverse start order, waiting for each to go (SIGKILL after `grace`).
  func stopAll(grace: Duration = .seconds(5)) async {
    stopping = true
    for child in layout.children.reversed() {
      guard let pid = record.pids[child.name] else { continue }
      kill(pid, SIGTERM)
      if await waitUntilGone(child.name, within: grace) { continue }
      say("\(Self.describe(child)) did not stop within \(grace); killing it")
      if let pid = record.pids[child.name] { kill(pid, SIGKILL) }
      _ = await waitUntilGone(child.name, within: .seconds(5))
    }
    try? FileManager.default.removeItem(atPath: layout.deploymentFile)
  }

  private func waitUntilGone(_ name: String, within timeout: Duration) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while record.pids[name] != nil {
      guard ContinuousClock.now < deadline else { return false }
      try? await Task.sleep(for: .milliseconds(20))
    }
    return true
  }

  /// `cluster 1 server 2`, `cluster 3 synchronizer`, `coordinator`.
  static func describe(_ child: ClusterChild) -> String {
    switch child.kind {
    case .coordinator: "coordinator"
    case .server: "cluster \(child.cluster ?? 0) server \(child.serverID ?? 0)"
    case .synchronizer: "cluster \(child.cluster ?? 0) synchronizer"
    }
  }
}

/// One line to standard output, unbuffered: `cluster up` is watched through pipes and log files too.
/// A closed pipe (`cluster up | head`) loses the line, never the supervisor: SIGPIPE is ignored and the
/// write error dropped, so the supervisor still stops its children.
func say(_ line: String, terminator: String = "\n") {
  try? FileHandle.standardOutput.write(contentsOf: Data((line + terminator).utf8))
}
