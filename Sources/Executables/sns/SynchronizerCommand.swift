import ArgumentParser
import Foundation
import SNSCore
import SNSTransport

struct SynchronizerCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "synchronizer", abstract: "Run the follower synchronizer of a cluster.")

  @Option(help: "The coordinator's address.") var coordinator: Endpoint
  @Option(help: "This synchronizer's cluster.") var cluster: Int
  @Option(help: "Address to listen on (for other synchronizers).") var listen: Endpoint
  @Option(help: "This machine's data directory (shared with the cluster's servers).") var dataDir: String
  @Option(help: "Time between synchronization rounds.") var syncInterval: Duration = .seconds(30)
  @Option(help: "How long to wait for the coordinator at start-up.") var startupTimeout: Duration = .seconds(
    15)
  @OptionGroup var secretOptions: SecretOptions
  @OptionGroup var logging: LoggingOptions
  @OptionGroup var metrics: MetricsOptions
  @OptionGroup var tls: TLSOptions

  func run() async throws {
    let logger = try logging.makeLogger(label: "sns.synchronizer")
    let clusterID: ClusterID
    do { clusterID = try ClusterID(cluster) } catch { fail("\(error)") }
    let secret = try secretOptions.secret()
    let dialer = GRPCDialer(options: CallOptions(secret: secret, tls: tls.client()))
    defer { dialer.close() }
    let coordinatorPort = dialer.coordinator(at: coordinator)
    let status = await waitForCoordinator(
      coordinatorPort, at: coordinator, timeout: startupTimeout, logger: logger)
    guard clusterID.value <= status.clusters.count else {
      fail("cluster \(cluster) does not exist: the coordinator runs \(status.clusters.count) clusters")
    }
    let cursorDirectory = (dataDir as NSString).appendingPathComponent(
      ServerDirectoryLayout.synchronizerDirectoryName(cluster: clusterID))
    let cursorStore: FileContextStore
    do {
      cursorStore = try FileContextStore(directory: cursorDirectory, logger: logger)
    } catch { fail("cannot use the data directory \(dataDir): \(error)") }
    let synchronizer = Synchronizer(
      configuration: SynchronizerConfiguration(
        cluster: clusterID, endpoint: listen, clusterCount: status.clusters.count, syncInterval: syncInterval),
      directories: FileServerDirectories(dataDirectory: dataDir, logger: logger), cursorStore: cursorStore,
      coordinator: coordinatorPort, dialer: dialer, clock: SystemClock(), logger: logger)
    let listener = openListener(
      on: listen, handlers: SynchronizerService.handlers(synchronizer, secret: SecretCheck(secret: secret)),
      logger: logger, tls: tls.server())
    let metricsListener = metrics.start(role: "synchronizer", logger: logger)
    defer { metricsListener?.stop() }
    try await ProcessService.runUntilSignalled(
      ProcessService(listener: listener, loop: { try await synchronizer.run() }, logger: logger),
      logger: logger)
  }
}
