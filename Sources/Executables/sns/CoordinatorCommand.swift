import ArgumentParser
import SNSCore
import SNSTransport

struct CoordinatorCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "coordinator", abstract: "Run the coordinator: roles, heartbeats, failover, lookups.")

  @Option(help: "Address to listen on, e.g. 127.0.0.1:9000.") var listen: Endpoint
  @Option(help: "Number of clusters.") var clusters: Int = 3
  @Option(help: "Heartbeat interval of the servers.") var heartbeat: Duration = .seconds(10)
  @Option(help: "Missed heartbeats before a master is declared dead.") var missCount: Int = 2
  @Option(
    help: ArgumentHelp(
      "Directory for the coordinator's roles (roles.json): epochs, masters, which slaves may be promoted.",
      discussion: """
        Without it the roles live in memory only: a restarted coordinator rebuilds them from heartbeats and \
        names no master for one failure timeout.
        """))
  var dataDir: String?
  @OptionGroup var process: ProcessOptions

  func validate() throws {
    guard (1...1000).contains(clusters) else {
      throw ValidationError("--clusters must be between 1 and 1000")
    }
    guard missCount >= 1 else { throw ValidationError("--miss-count must be at least 1") }
    guard heartbeat > .zero else { throw ValidationError("--heartbeat must be positive") }
  }

  func run() async throws {
    let logger = try process.logging.makeLogger(label: "sns.coordinator")
    let configuration = CoordinatorConfiguration(
      clusterCount: clusters, heartbeatInterval: heartbeat, missCount: missCount,
      firstEpoch: CoordinatorConfiguration.startingEpoch(at: SystemClock().now()))
    let coordinator: Coordinator
    if let dataDir {
      coordinator = try await Coordinator.resuming(
        configuration: configuration, clock: SystemClock(), logger: logger,
        roleStore: try FileCoordinatorRoleStore(directory: dataDir))
    } else {
      logger.warning("no --data-dir: the roles live in memory only")
      coordinator = Coordinator(configuration: configuration, clock: SystemClock(), logger: logger)
    }
    try await process.serve(
      role: "coordinator",
      handlers: CoordinatorService.handlers(coordinator, secret: SecretCheck(secret: try process.secret())),
      on: listen, logger: logger
    ) { try await coordinator.run() }
  }
}
