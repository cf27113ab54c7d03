import ArgumentParser
import Foundation
import SNSCore
import SNSTransport

struct SynchronizerCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "synchronizer", abstract: "Run the follower synchronizer of a cluster.")

  @Option(help: "The coordinator's address.") var coordinator: Endpoint
  @Option(help: "This synchronizer's cluster.") var cluster: Int?
  @Option(
    help:
      "Instead of --cluster, the course's synchronizer id: id i serves cluster ((i-1) mod N)+1 of the coordinator's N."
  )
  var id: Int?
  @Option(help: "Address to listen on (for other synchronizers).") var listen: Endpoint
  @Option(help: "Address other synchronizers are given, when it is not --listen (e.g. 0.0.0.0).")
  var advertise: Endpoint?
  @Option(help: "This machine's data directory (shared with the cluster's servers).") var dataDir: String?
  @Option(
    help: "Instead of --data-dir: a directory holding cluster_<c>/ for each cluster (the course's layout).")
  var dataRoot: String?
  @Option(help: "Time between synchronization rounds.") var syncInterval: Duration = .seconds(30)
  @Option(help: "How long to wait for the coordinator at start-up.") var startupTimeout: Duration = .seconds(
    15)
  @OptionGroup var process: ProcessOptions

  func validate() throws {
    guard (cluster == nil) != (id == nil) else { throw ValidationError("give --cluster or --id, not both") }
    guard (dataDir == nil) != (dataRoot == nil) else {
      throw ValidationError("give --data-dir or --data-root, not both")
    }
    if let id, id < 1 { throw ValidationError("--id must be positive") }
  }

  func run() async throws {
    limitAllocatorArenas()
    let member = try await process.joinCluster(
      label: "sns.synchronizer", coordinator: coordinator, timeout: startupTimeout)
    defer { member.dialer.close() }
    let (logger, status) = (member.logger, member.status)
    let clusterID: ClusterID
    do {
      clusterID = try ClusterID(cluster ?? ((id ?? 1) - 1) % max(1, status.clusters.count) + 1)
    } catch { fail("\(error)") }
    guard clusterID.value <= status.clusters.count else {
      fail("cluster \(clusterID) does not exist: the coordinator runs \(status.clusters.count) clusters")
    }
    let dataDir =
      dataDir ?? ServerDirectoryLayout.machineDirectory(in: dataRoot ?? ".", cluster: clusterID)
    let synchronizer: Synchronizer
    do {
      synchronizer = try Assembly.synchronizer(
        SynchronizerConfiguration(
          cluster: clusterID, endpoint: advertise ?? listen, clusterCount: status.clusters.count,
          syncInterval: syncInterval),
        machine: dataDir, coordinator: member.coordinator, dialer: member.dialer, clock: SystemClock(),
        logger: logger,
        lease: FileLease(path: (dataDir as NSString).appendingPathComponent("synchronizer.lock")))
    } catch { fail("cannot use the data directory \(dataDir): \(error)") }
    try await process.serve(
      role: "synchronizer",
      handlers: SynchronizerService.handlers(synchronizer, secret: SecretCheck(secret: member.secret)),
      on: listen, logger: logger
    ) { try await synchronizer.run(afterEachRound: returnFreedMemory) }
  }
}
