import ArgumentParser
import Foundation
import SNSCore
import SNSTransport

struct ServerCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "server", abstract: "Run a master/slave server (the coordinator decides the role).")

  @Option(help: "The coordinator's address.") var coordinator: Endpoint
  @Option(help: "This server's cluster.") var cluster: Int
  @Option(help: "This server's id within its cluster.") var id: Int
  @Option(help: "Address to listen on (what the coordinator hands to clients, unless --advertise).")
  var listen: Endpoint
  @Option(help: "Address the coordinator hands to clients, when it is not --listen (e.g. 0.0.0.0).")
  var advertise: Endpoint?
  @Option(help: "This machine's data directory; the server uses <data-dir>/<role>_<id>.") var dataDir: String
  @Option(help: "Heartbeat interval.") var heartbeat: Duration = .seconds(10)
  @Option(help: "Missed heartbeats after which the coordinator promotes the slave (until its answer says).")
  var missCount: Int = 2
  @Option(help: "How often timeline mode checks the timeline file.") var timelinePoll: Duration =
    .milliseconds(500)
  @Option(help: "Largest post in bytes.") var maxPostBytes: Int = 1024
  @Option(help: "Mebibytes of records kept in memory, of the users served last (the files stay the truth).")
  var storeCacheMib: Int = FileContextStore.defaultCacheBudget >> 20
  @Option(help: "How long to wait for the coordinator at start-up.") var startupTimeout: Duration = .seconds(
    15)
  @OptionGroup var process: ProcessOptions

  func run() async throws {
    let (clusterID, serverID): (ClusterID, ServerID)
    do {
      (clusterID, serverID) = (try ClusterID(cluster), try ServerID(id))
    } catch { fail("\(error)") }
    guard (0...(1 << 30)).contains(storeCacheMib) else {
      fail("--store-cache-mib must be between 0 and \(1 << 30), not \(storeCacheMib)")
    }
    let member = try await process.joinCluster(
      label: "sns.server", coordinator: coordinator, timeout: startupTimeout)
    defer { member.dialer.close() }
    let (logger, status) = (member.logger, member.status)
    guard clusterID.value <= status.clusters.count else {
      fail("cluster \(cluster) does not exist: the coordinator runs \(status.clusters.count) clusters")
    }
    // The directory is named after the role the server is likely to get; a restarted server reuses its own.
    let hasMaster =
      status.clusters.first { $0.id == clusterID }?.servers.contains { $0.alive && $0.role == .master }
      ?? false
    var configuration = ServerConfiguration(
      cluster: clusterID, id: serverID, endpoint: advertise ?? listen, clusterCount: status.clusters.count,
      heartbeatInterval: heartbeat, missCount: missCount, timelinePollInterval: timelinePoll)
    configuration.postLimits = PostLimits(maximumBytes: maxPostBytes)
    let server: Server
    let directory: String
    do {
      (server, directory) = try Assembly.server(
        configuration, machine: dataDir, roleIfNew: hasMaster ? .slave : .master,
        coordinator: member.coordinator, dialer: member.dialer, clock: SystemClock(), logger: logger,
        cacheBudget: storeCacheMib << 20)
    } catch { fail("cannot use the data directory \(dataDir): \(error)") }
    logger.notice("server starting", metadata: ["directory": "\(directory)"])
    try await process.serve(
      role: "server",
      handlers: ServerService.handlers(
        server, secret: SecretCheck(secret: member.secret), postLimits: configuration.postLimits,
        logger: logger),
      on: listen, logger: logger
    ) { try await server.run() }
  }
}
