import ArgumentParser
import Foundation
import SNSCore
import SNSTransport

struct ClusterCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cluster", abstract: "Run a local deployment, see its state, fail a process on purpose.",
    discussion: """
      Examples:
        sns cluster up                                  # 3 clusters on 127.0.0.2-4, coordinator 127.0.0.1:9000
        sns cluster status                              # roles, epochs, pids, last heartbeats
        sns cluster kill --cluster 1 --role master      # kill -9 a master; watch the slave take over
      """,
    subcommands: [ClusterUpCommand.self, ClusterStatusCommand.self, ClusterKillCommand.self])
}

/// Which deployment a `status` or `kill` talks to: an explicit coordinator, or the one `cluster up` recorded.
struct DeploymentOptions: ParsableArguments {
  @Option(help: "The coordinator's address (default: the one `sns cluster up` recorded in --data-dir).")
  var coordinator: Endpoint?
  @Option(help: "The data directory of `sns cluster up` (env SNS_DATA_DIR).") var dataDir: String?
  @OptionGroup var secretOptions: SecretOptions
  @OptionGroup var tls: TLSOptions

  var dataDirectory: String { dataDir ?? ProcessInfo.processInfo.environment["SNS_DATA_DIR"] ?? "sns-data" }

  /// The deployment file, when it describes the coordinator asked about.
  func record() -> DeploymentRecord? {
    guard let record = DeploymentRecord.load(dataDirectory: dataDirectory) else { return nil }
    guard let coordinator else { return record }
    return record.coordinator == "\(coordinator)" ? record : nil
  }

  /// The coordinator's status, or one clear line and exit status 1.
  func status() async throws -> (CoordinatorStatus, Endpoint, DeploymentRecord?) {
    let record = record()
    guard let endpoint = coordinator ?? record.flatMap({ try? Endpoint(parsing: $0.coordinator) }) else {
      fail("no --coordinator given and no running `sns cluster up` recorded in \(dataDirectory)")
    }
    var secretOptions = secretOptions
    if secretOptions.secretFile == nil, ProcessInfo.processInfo.environment["SNS_SECRET_FILE"] == nil {
      secretOptions.secretFile = record?.secretFile
    }
    let dialer = GRPCDialer(
      options: CallOptions(timeout: .seconds(3), secret: try secretOptions.secret(), tls: tls.client()))
    defer { dialer.close() }
    do {
      return (try await dialer.coordinator(at: endpoint).status(), endpoint, record)
    } catch { fail("cannot reach the coordinator at \(endpoint): \(error)") }
  }
}

struct ClusterStatusCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "status",
    abstract: "Print roles, epochs, pids and last heartbeats, as the coordinator sees them.")

  @OptionGroup var deployment: DeploymentOptions
  @Flag(help: "Print one JSON object instead of a table.") var json = false

  func run() async throws {
    let (status, endpoint, record) = try await deployment.status()
    let pids = record?.pids ?? [:]
    print(
      json
        ? StatusTable.json(status, pids: pids) : StatusTable.text(status, coordinator: endpoint, pids: pids),
      terminator: "")
  }
}
