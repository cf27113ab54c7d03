import ArgumentParser
import Foundation
import SNSChaos
import SNSCore

/// `sns chaos`: a real 3-cluster deployment under seeded faults, checked at the end (docs/RELIABILITY.md).
/// Run it through `scripts/chaos`, which makes the private network namespace it needs.
struct ChaosCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "chaos",
    abstract:
      "Run a real deployment under seeded faults and check every acknowledged write (use scripts/chaos).",
    discussion: """
      Refuses to run outside a private network namespace: it adds nftables rules. Faults: \
      \(ChaosFaultKind.allCases.map(\.rawValue).joined(separator: ", ")). The seed decides every fault; \
      progress and the fault log go to stderr, the report to stdout; exit status 1 when a check failed.
      """)

  @Option(help: "The seed that decides every fault (default: the current time).") var seed: UInt64?
  @Option(help: "How long faults go on, in minutes (fractions allowed).") var minutes: Double = 1
  @Option(help: "Fault kinds, comma-separated, or all.") var faults = "all"
  @Option(help: "Clusters.") var clusters = 3
  @Option(help: "Clients (users) per cluster.") var usersPerCluster = 3
  @Option(
    help: "Scratch directory for data and logs (default: a new one under /tmp, removed when the run passes).")
  var dataDir: String?
  @Option(help: "Heartbeat interval of the deployment.") var heartbeat = "150ms"
  @Option(help: "Missed heartbeats before a failover.") var missCount = 2
  @Option(help: "Synchronization interval.") var syncInterval = "300ms"
  @OptionGroup var logging: LoggingOptions

  func validate() throws {
    guard minutes > 0, minutes <= 24 * 60 else { throw ValidationError("--minutes must be in (0, 1440]") }
    guard (1...8).contains(clusters), (1...20).contains(usersPerCluster) else {
      throw ValidationError("--clusters must be 1–8 and --users-per-cluster 1–20")
    }
    do { _ = try ChaosFaultKind.parse(faults) } catch { throw ValidationError("\(error)") }
    for value in [heartbeat, syncInterval] where (try? Duration(parsing: value)) == nil {
      throw ValidationError("'\(value)' is not a duration (e.g. 150ms)")
    }
  }

  func run() async throws {
    let logger = try logging.makeLogger(label: "sns.chaos")
    let seed = seed ?? UInt64(Date().timeIntervalSince1970)
    let directory = dataDir ?? NSTemporaryDirectory() + "sns-chaos-\(seed)-\(UUID().uuidString.prefix(8))"
    let layout = ClusterLayout(
      clusters: clusters, basePort: 9000,
      dataDirectory: URL(fileURLWithPath: directory).standardizedFileURL.path,
      intervals: .init(
        heartbeat: heartbeat, missCount: missCount, syncInterval: syncInterval, timelinePoll: "100ms"),
      metrics: false, logLevel: "info", secretFile: "\(directory)/secret")
    let kinds = try ChaosFaultKind.parse(faults)
    let beat = try Duration(parsing: heartbeat)
    let options = ChaosOptions(
      seed: seed, duration: .milliseconds(Int64(minutes * 60_000)), kinds: kinds, clusters: clusters,
      usersPerCluster: usersPerCluster, executable: ClusterUpCommand.executablePath,
      directory: layout.dataDirectory,
      coordinator: try Endpoint(parsing: layout.coordinatorAddress), secret: nil,
      failureWindow: beat * missCount,
      syncInterval: try Duration(parsing: syncInterval),
      replay: "scripts/chaos --seed \(seed) --minutes \(minutes) --faults \(faults)")
    do {
      try ChaosRun.requirePrivateNetwork()
      try layout.prepareDirectories()
    } catch { fail("\(error)") }
    var withSecret = options
    withSecret.secret = layout.secret
    let specs = layout.children.map {
      ChaosProcessSpec(
        name: $0.name, cluster: $0.cluster, serverID: $0.serverID, address: $0.address,
        arguments: $0.arguments)
    }
    chaosProgress(
      "chaos: seed \(seed), \(minutes) min, faults \(kinds.sorted().map(\.rawValue).joined(separator: ",")), data in \(directory)"
    )
    let report: ChaosReport
    do {
      report = try await ChaosRun(options: withSecret, specs: specs, logger: logger, progress: chaosProgress)
        .run()
    } catch {
      print("chaos: the run could not complete: \(error) (seed \(seed), files kept in \(directory))")
      throw ExitCode(2)
    }
    print(report.text)
    if report.result.passed, dataDir == nil {
      try? FileManager.default.removeItem(atPath: directory)
    } else {
      print("files kept in \(directory)")
    }
    if !report.result.passed { throw ExitCode(1) }
  }
}

/// A progress line on stderr.
@Sendable private func chaosProgress(_ line: String) {
  FileHandle.standardError.write(Data((line + "\n").utf8))
}
