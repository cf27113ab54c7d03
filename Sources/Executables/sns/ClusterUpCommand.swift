import ArgumentParser
import Foundation
import Logging
import SNSCore
import SNSTransport
import ServiceLifecycle
import Synchronization

struct ClusterUpCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "up",
    abstract:
      "Start a whole deployment on this machine: the coordinator and, per cluster, two servers and a synchronizer.",
    discussion: """
      Cluster i listens on its own loopback address 127.0.0.(i+1): servers on <base-port>+1 and +2, the
      synchronizer on +3; the coordinator on 127.0.0.1:<base-port>. Waits until every process is healthy, prints
      a status table, and runs until ^C or SIGTERM, which stop every child. A child that dies is reported and
      not restarted (so a killed master's failover shows). Logs: <data-dir>/logs/<name>.log.

      Examples:
        sns cluster up
        sns cluster up --clusters 2 --base-port 9100 --heartbeat 1s --sync-interval 5s --metrics
      """)

  @Option(help: "Number of clusters.") var clusters: Int = 3
  @Option(help: "Data directory: cluster i keeps its files in <data-dir>/cluster_<i>.") var dataDir =
    "sns-data"
  @Option(help: "The coordinator's port; cluster processes use the next three on their own address.")
  var basePort: Int = 9000
  @Option(help: "Heartbeat interval of the servers.") var heartbeat = "10s"
  @Option(help: "Missed heartbeats before the slave is promoted.") var missCount: Int = 2
  @Option(help: "Time between synchronization rounds.") var syncInterval = "30s"
  @Option(help: "How often timeline mode checks for new posts.") var timelinePoll = "500ms"
  @Flag(help: "Serve /metrics from every process, on its address at its port + 100.") var metrics = false
  @Option(help: "Log level of the children.") var childLogLevel = "info"
  @Option(help: "How long to wait for every process to be healthy.") var startupTimeout: Duration = .seconds(
    60)
  @OptionGroup var logging: LoggingOptions

  func validate() throws {
    guard (1...250).contains(clusters) else { throw ValidationError("--clusters must be between 1 and 250") }
    guard (1...(65535 - 104)).contains(basePort) else { throw ValidationError("--base-port is out of range") }
    for (flag, value) in [
      ("--heartbeat", heartbeat), ("--sync-interval", syncInterval), ("--timeline-poll", timelinePoll),
    ]
    where (try? Duration(parsing: value)) == nil {
      throw ValidationError("\(flag): '\(value)' is not a duration (e.g. 250ms, 10s, 2m)")
    }
    guard missCount >= 1 else { throw ValidationError("--miss-count must be at least 1") }
  }

  func run() async throws {
    signal(SIGPIPE, SIG_IGN)  // see `say`
    let logger = try logging.makeLogger(label: "sns.cluster")
    let directory = URL(fileURLWithPath: dataDir).standardizedFileURL.path
    if let running = DeploymentRecord.load(dataDirectory: directory), kill(running.supervisorPID, 0) == 0 {
      fail("\(directory) is in use by `sns cluster up` (pid \(running.supervisorPID)); stop it first")
    }
    let layout = ClusterLayout(
      clusters: clusters, basePort: basePort, dataDirectory: directory,
      intervals: .init(
        heartbeat: heartbeat, missCount: missCount, syncInterval: syncInterval, timelinePoll: timelinePoll),
      metrics: metrics, logLevel: childLogLevel,
      secretFile: (directory as NSString).appendingPathComponent("secret"))
    do { try layout.prepareDirectories() } catch { fail("cannot prepare \(directory): \(error)") }
    let coordinatorEndpoint: Endpoint
    do { coordinatorEndpoint = try Endpoint(parsing: layout.coordinatorAddress) } catch { fail("\(error)") }
    let service = ClusterUpService(
      supervisor: ClusterSupervisor(binary: Self.executablePath, layout: layout), layout: layout,
      coordinatorEndpoint: coordinatorEndpoint, startupTimeout: startupTimeout,
      invokedAs: CommandLine.arguments.first ?? "sns")
    let group = ServiceGroup(
      configuration: ServiceGroupConfiguration(
        services: [.init(service: service, successTerminationBehavior: .gracefullyShutdownGroup)],
        gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    try await group.run()
    if service.failed.load(ordering: .acquiring) { throw ExitCode(1) }
  }

  /// This very binary, so children are the same build as their supervisor.
  static var executablePath: String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
      ?? URL(fileURLWithPath: CommandLine.arguments.first ?? "sns").standardizedFileURL.path
  }
}

/// Starts the children, waits for health, prints the table, and on SIGINT/SIGTERM stops them all.
final class ClusterUpService: Service, Sendable {
  let supervisor: ClusterSupervisor
  let layout: ClusterLayout
  let coordinatorEndpoint: Endpoint
  let startupTimeout: Duration
  let invokedAs: String
  let stopRequested = Atomic<Bool>(false)
  let failed = Atomic<Bool>(false)
  let (stops, stopContinuation) = AsyncStream<Void>.makeStream()

  init(
    supervisor: ClusterSupervisor, layout: ClusterLayout, coordinatorEndpoint: Endpoint,
    startupTimeout: Duration,
    invokedAs: String
  ) {
    self.supervisor = supervisor
    self.layout = layout
    self.coordinatorEndpoint = coordinatorEndpoint
    self.startupTimeout = startupTimeout
    self.invokedAs = invokedAs
  }

  func run() async throws {
    await withGracefulShutdownHandler {
      await withTaskGroup(of: Void.self) { group in
        if await bringUp(group: &group) {
          await printReady()
          for await _ in stops {}  // until SIGINT/SIGTERM
          say("stopping every process…")
        } else if !stopRequested.load(ordering: .acquiring) {
          failed.store(true, ordering: .releasing)  // a ^C during start-up is a stop, not a failure
        }
        await supervisor.stopAll()
        await group.waitForAll()
        say(failed.load(ordering: .acquiring) ? "stopped after a failed start" : "stopped")
      }
    } onGracefulShutdown: {
      self.stopRequested.store(true, ordering: .releasing)
      self.stopContinuation.finish()
    }
  }

  /// Starts children in order, each cluster's first server alone first so it becomes master (epoch 1).
  private func bringUp(group: inout TaskGroup<Void>) async -> Bool {
    let children = layout.children
    let deadline = ContinuousClock.now + startupTimeout
    let dialer = GRPCDialer(options: CallOptions(timeout: .seconds(2), secret: layout.secret))
    defer { dialer.close() }
    let coordinator = dialer.coordinator(at: coordinatorEndpoint)
    say("starting Tiny SNS: \(layout.clusters) clusters, data and logs in \(layout.dataDirectory)")
    for child in children {
      group.addTask { await self.supervisor.run(child) }
      let ready: @Sendable (CoordinatorStatus) -> Bool
      switch child.kind {
      case .coordinator: ready = { _ in true }
      case .server where child.serverID == 1:
        ready = { status in status.clusters.first { $0.id.value == child.cluster }?.master?.value == 1 }
      case .server, .synchronizer: continue
      }
      guard await waitFor(child, ready, coordinator: coordinator, deadline: deadline) else { return false }
    }
    let healthy: @Sendable (CoordinatorStatus) -> Bool = { status in
      status.clusters.allSatisfy { cluster in
        cluster.master != nil && cluster.servers.filter(\.alive).count == 2 && cluster.synchronizer != nil
      }
    }
    return await waitFor(nil, healthy, coordinator: coordinator, deadline: deadline)
  }

  /// Polls the coordinator until `ready` holds; gives up at the deadline, on a stop request, or when a child
  /// already exited (a port in use, a bad flag: its log says why).
  private func waitFor(
    _ child: ClusterChild?, _ ready: @Sendable (CoordinatorStatus) -> Bool, coordinator: any CoordinatorPort,
    deadline: ContinuousClock.Instant
  ) async -> Bool {
    while !stopRequested.load(ordering: .acquiring) {
      if let exited = await supervisor.exits.first {
        let log = "\(layout.logDirectory)/\(exited.key).log"
        let lastLines = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n")
        say("!! \(exited.key) exited during start-up (\(exited.value)); the end of \(log):")
        for line in lastLines.suffix(3) { say("   \(line)") }
        return false
      }
      if let status = try? await coordinator.status(), ready(status) { return true }
      guard ContinuousClock.now < deadline else {
        say(
          "!! not healthy after \(startupTimeout)\(child.map { " (waiting for \($0.name))" } ?? ""); see \(layout.logDirectory)"
        )
        return false
      }
      try? await Task.sleep(for: .milliseconds(100))
    }
    return false
  }

  private func printReady() async {
    let dialer = GRPCDialer(options: CallOptions(timeout: .seconds(2), secret: layout.secret))
    defer { dialer.close() }
    let endpoint = coordinatorEndpoint
    guard let status = try? await dialer.coordinator(at: endpoint).status() else { return }
    await supervisor.noteEpochs(status)
    let pids = await supervisor.pids
    say("")
    say(StatusTable.text(status, coordinator: endpoint, pids: pids), terminator: "")
    let dataOption =
      layout.dataDirectory == URL(fileURLWithPath: "sns-data").standardizedFileURL.path
      ? "" : " --data-dir \(layout.dataDirectory)"
    say(
      """

      Tiny SNS is up. In another terminal:
        \(invokedAs) client --coordinator \(layout.coordinatorAddress) --user 1     # FOLLOW 2, LIST, TIMELINE
        \(invokedAs) cluster status\(dataOption)
        \(invokedAs) cluster kill --cluster 1 --role master\(dataOption)
      \(layout.metrics ? "Metrics: http://127.0.0.1:\(layout.basePort + 100)/metrics and each process's address at port + 100.\n" : "")\
      ^C stops everything.
      """)
  }
}
