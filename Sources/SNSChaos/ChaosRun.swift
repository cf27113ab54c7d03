import Foundation
import Logging
import SNSCore
import SNSTestSupport
import SNSTransport

/// Everything a run needs: the seed, how long faults go on, which kinds, the deployment's shape and timing.
public struct ChaosOptions: Sendable {
  public var seed: UInt64
  public var duration: Duration
  public var kinds: Set<ChaosFaultKind>
  public var clusters: Int
  public var usersPerCluster: Int
  /// The `sns` binary the children run.
  public var executable: String
  /// The run's scratch directory (data, logs); the caller removes it.
  public var directory: String
  public var coordinator: Endpoint
  public var secret: String?
  /// `miss-count × heartbeat`.
  public var failureWindow: Duration
  public var syncInterval: Duration
  /// Size of each server's tmpfs: room for what a 30-minute run writes (a few MiB per server) several times
  /// over, so that a server can still rewrite its files once a disk fault has freed its filler.
  public var diskMegabytes: Int = 64
  /// The command that replays this run, for the report.
  public var replay: String

  public init(
    seed: UInt64, duration: Duration, kinds: Set<ChaosFaultKind>, clusters: Int, usersPerCluster: Int,
    executable: String, directory: String, coordinator: Endpoint, secret: String?, failureWindow: Duration,
    syncInterval: Duration, replay: String
  ) {
    self.seed = seed
    self.duration = duration
    self.kinds = kinds
    self.clusters = clusters
    self.usersPerCluster = usersPerCluster
    self.executable = executable
    self.directory = directory
    self.coordinator = coordinator
    self.secret = secret
    self.failureWindow = failureWindow
    self.syncInterval = syncInterval
    self.replay = replay
  }
}

/// One chaos run: start the deployment, run the workload under the seed's faults, heal, let a few sync rounds
/// pass, read every server's files and check them against the history.
public struct ChaosRun: Sendable {
  let options: ChaosOptions
  let specs: [ChaosProcessSpec]
  let logger: Logger
  let progress: @Sendable (String) -> Void

  public init(
    options: ChaosOptions, specs: [ChaosProcessSpec], logger: Logger,
    progress: @escaping @Sendable (String) -> Void
  ) {
    self.options = options
    self.specs = specs
    self.logger = logger
    self.progress = progress
  }

  /// Refuses to run where the nftables rules could touch a real network: the namespace must have no interface
  /// but `lo` (a namespace made by `ip netns add`, as scripts/chaos does).
  public static func requirePrivateNetwork() throws {
    let devices = (try? String(contentsOfFile: "/proc/self/net/dev", encoding: .utf8)) ?? ""
    let interfaces = devices.split(separator: "\n").dropFirst(2).compactMap {
      $0.split(separator: ":").first?.trimmingCharacters(in: .whitespaces)
    }
    guard interfaces == ["lo"] else {
      throw ChaosError.setup(
        "sns chaos adds nftables rules: run it in a private network namespace with only lo (scripts/chaos makes one); here: \(interfaces.joined(separator: ", "))"
      )
    }
  }

  public func run() async throws -> ChaosReport {
    try Self.requirePrivateNetwork()
    let logs = "\(options.directory)/logs"
    try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
    let deployment = ChaosDeployment(
      specs: specs, executable: options.executable, directory: options.directory, logger: logger)
    let faults = ChaosFaults(deployment: deployment, specs: specs, logDirectory: logs, logger: logger)
    let dialer = GRPCDialer(options: CallOptions(timeout: .seconds(1), secret: options.secret))
    defer { dialer.close() }
    do {
      let report = try await run(deployment, faults, dialer)
      await faults.undoAll()
      await deployment.stopAll()
      await deployment.unmountDisks()
      await faults.removeTable()
      return report
    } catch {
      await faults.undoAll()
      await deployment.stopAll()
      await deployment.unmountDisks()
      await faults.removeTable()
      throw error
    }
  }

  var users: [Int] { Array(1...(options.clusters * options.usersPerCluster)) }

  func run(_ deployment: ChaosDeployment, _ faults: ChaosFaults, _ dialer: GRPCDialer) async throws
    -> ChaosReport
  {
    try await faults.prepare()
    try await deployment.mountDisks(megabytes: options.diskMegabytes)
    let coordinator = dialer.coordinator(at: options.coordinator)
    try await start(deployment, coordinator)
    let started = ContinuousClock.now
    let history = ChaosHistory()
    var quiet = logger
    quiet.logLevel = .warning  // each client's failovers are in the history, not the log
    let workload = ChaosWorkload(
      users: users, seed: options.seed, coordinator: options.coordinator, history: history, started: started,
      logger: quiet, progress: progress)
    let clientDialer = GRPCDialer(options: CallOptions(timeout: .seconds(1)))
    defer { clientDialer.close() }
    try await workload.prepare(dialer: clientDialer, within: .seconds(60))
    let schedule = ChaosSchedule(
      seed: options.seed, duration: options.duration, kinds: options.kinds, clusters: options.clusters,
      failureWindow: options.failureWindow)
    progress(
      "deployment up, \(users.count) clients; \(schedule.faults.count) faults planned over \(ChaosReport.seconds(options.duration))"
    )
    let clock = ContinuousClock.now
    let stop = ChaosFlag()
    try await withThrowingTaskGroup(of: Void.self) { group in
      group.addTask { await workload.run(dialer: clientDialer, stop: stop) }
      defer { stop.set() }
      try await withThrowingTaskGroup(of: Void.self) { lanes in
        for (index, fault) in schedule.faults.enumerated() {
          lanes.addTask {
            try await inject(
              fault, number: index + 1, of: schedule.faults.count, at: clock, logging: started, faults,
              coordinator)
          }
        }
        try await lanes.waitForAll()
      }
      try await Task.sleep(until: clock + options.duration)
      stop.set()
      try await group.waitForAll()
    }
    progress(
      "[\(ChaosReport.seconds(ContinuousClock.now - started))] faults over, \(history.count) requests; healing"
    )
    await faults.healAll()
    do {
      try await waitUntilHealthy(coordinator, within: .seconds(60))
    } catch {
      // What is left of the run is what an investigation needs.
      await recordStuckProcesses(deployment)
      writeHistory(history.all)
      await keepFiles(deployment)
      throw error
    }
    let final = try await settle(deployment, coordinator, history: history.all, clientDialer: clientDialer)
    await deployment.stopAll()
    // Read once more with every process stopped: nothing moves any more.
    var stopped = try await snapshot(deployment)
    stopped.masters = final.masters
    stopped.answering = final.answering
    stopped.masterships = masterships()
    let result = ChaosChecker.check(history.all, stopped)
    writeHistory(history.all)
    if !result.passed { await keepFiles(deployment) }
    return ChaosReport(
      seed: options.seed, duration: options.duration, kinds: options.kinds.sorted(), faults: schedule.faults,
      history: history.all, result: result, replay: options.replay)
  }

  /// `<dir>/history.log`: one line per request (sent, answered, client, action, outcome), for investigating.
  func writeHistory(_ history: [ChaosRequest]) {
    let lines = history.sorted { $0.invoked < $1.invoked }.map {
      "\(ChaosReport.seconds($0.invoked)) \(ChaosReport.seconds($0.completed)) user \($0.client) \($0.action) → \($0.outcome)"
    }
    _ = FileManager.default.createFile(
      atPath: "\(options.directory)/history.log", contents: Data((lines.joined(separator: "\n") + "\n").utf8))
  }

  /// For a deployment that did not heal: each process's state as the kernel has it, in the progress output,
  /// and, where gdb is installed, every thread's stack in `logs/stacks-<process>.log`.
  func recordStuckProcesses(_ deployment: ChaosDeployment) async {
    let gdb = FileManager.default.isExecutableFile(atPath: "/usr/bin/gdb")
    for spec in specs {
      guard let pid = await deployment.pid(spec.name) else {
        progress("\(spec.name): not running")
        continue
      }
      progress("\(spec.name): \(ProcessState.describe(pid))")
      guard gdb else { continue }
      _ = await ChaosTool.run(
        "/usr/bin/gdb", ["-batch", "-p", "\(pid)", "-ex", "thread apply all bt"],
        logDirectory: "\(options.directory)/logs", name: "stacks-\(spec.name)")
    }
  }

  /// Copies every server directory off its tmpfs (to `<dir>/kept/cluster_<c>/`) before the disks go away.
  func keepFiles(_ deployment: ChaosDeployment) async {
    for spec in specs {
      guard let cluster = spec.cluster, let id = spec.serverID else { continue }
      let kept = "\(options.directory)/kept/cluster_\(cluster)"
      try? FileManager.default.createDirectory(atPath: kept, withIntermediateDirectories: true)
      guard let source = try? await deployment.serverDirectory(cluster: cluster, id: id) else { continue }
      _ = await ChaosTool.run("/bin/cp", ["-a", source, kept], logDirectory: "\(options.directory)/logs")
    }
    progress("server directories copied to \(options.directory)/kept")
  }

  /// Waits for `fault`'s start, begins it, waits its length and ends it, logging both.
  func inject(
    _ fault: ChaosFault, number: Int, of count: Int, at start: ContinuousClock.Instant,
    logging origin: ContinuousClock.Instant, _ faults: ChaosFaults, _ coordinator: any CoordinatorPort
  ) async throws {
    try await Task.sleep(until: start + fault.start)
    let targets = await resolve(fault.targets, coordinator)
    let begun = try await faults.begin(number, fault, targets: targets)
    progress(
      "[\(ChaosReport.seconds(ContinuousClock.now - origin))] fault \(number)/\(count): \(fault) → \(begun)")
    try await Task.sleep(for: fault.length)
    let ended = try await faults.end(number, fault, targets: targets)
    progress(
      "[\(ChaosReport.seconds(ContinuousClock.now - origin))] fault \(number)/\(count) ended: \(ended)")
  }

  /// Every `role changed` to master in the servers' logs.
  func masterships() -> [ChaosMastership] {
    specs.flatMap { spec -> [ChaosMastership] in
      guard let cluster = spec.cluster, let server = spec.serverID,
        let log = try? String(contentsOfFile: "\(options.directory)/logs/\(spec.name).log", encoding: .utf8)
      else { return [] }
      return ChaosMastership.parse(log: log, cluster: cluster, server: server)
    }
  }

  /// Starts the coordinator, then per cluster server 1 (the first master), server 2 and the synchronizer.
  func start(_ deployment: ChaosDeployment, _ coordinator: any CoordinatorPort) async throws {
    try await deployment.start("coordinator")
    try await until("the coordinator answers", within: .seconds(30)) {
      (try? await coordinator.status()) != nil
    }
    for cluster in 1...options.clusters {
      try await deployment.start("server-\(cluster)-1")
      try await until("server 1 of cluster \(cluster) is master", within: .seconds(30)) {
        (try? await coordinator.status())?.clusters.first { $0.id.value == cluster }?.master?.value == 1
      }
      try await deployment.start("server-\(cluster)-2")
      try await deployment.start("synchronizer-\(cluster)")
    }
    try await waitUntilHealthy(coordinator, within: .seconds(60))
  }

  /// Every cluster: a master, both servers alive, a synchronizer registered.
  func waitUntilHealthy(_ coordinator: any CoordinatorPort, within timeout: Duration) async throws {
    var last = "no answer from the coordinator"
    do {
      try await until("every cluster has a master, 2 live servers and a synchronizer", within: timeout) {
        let status: CoordinatorStatus
        do {
          status = try await coordinator.status()
        } catch {
          last = "the coordinator did not answer: \(error)"
          return false
        }
        last = status.clusters.map { cluster in
          let servers = cluster.servers.map { "\($0.id)\($0.alive ? "" : " dead")" }.joined(separator: ", ")
          return
            "cluster \(cluster.id): master \(cluster.master.map { "\($0)" } ?? "none"), servers [\(servers)], synchronizer \(cluster.synchronizer == nil ? "none" : "registered")"
        }.joined(separator: "; ")
        return status.clusters.count == options.clusters
          && status.clusters.allSatisfy {
            $0.master != nil && $0.servers.filter(\.alive).count == 2 && $0.synchronizer != nil
          }
      }
    } catch ChaosError.setup(let what) {
      throw ChaosError.setup("\(what); last seen: \(last)")
    }
  }

  /// `master-<c>` and `slave-<c>` as the coordinator has them now; other names as they are.
  func resolve(_ targets: [String], _ coordinator: any CoordinatorPort) async -> [String] {
    let status = try? await coordinator.status()
    return targets.map { target in
      let parts = target.split(separator: "-")
      guard parts.count == 2, parts[0] == "master" || parts[0] == "slave", let cluster = Int(parts[1]) else {
        return target
      }
      let master = status?.clusters.first { $0.id.value == cluster }?.master?.value ?? 1
      return "server-\(cluster)-\(parts[0] == "master" ? master : 3 - master)"
    }
  }

  func until(_ what: String, within timeout: Duration, _ condition: () async -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while !(await condition()) {
      guard ContinuousClock.now < deadline else { throw ChaosError.setup("timed out waiting until \(what)") }
      try await Task.sleep(for: .milliseconds(50))
    }
  }
}
