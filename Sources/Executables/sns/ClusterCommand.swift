import ArgumentParser
import Foundation
import SNSCore
import SNSTransport

struct ClusterCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cluster", abstract: "Operate a deployment: see its state.",
    subcommands: [ClusterStatusCommand.self])
}

struct ClusterStatusCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "status", abstract: "Print roles, epochs and last heartbeats, as the coordinator sees them.")

  @Option(help: "The coordinator's address.") var coordinator: Endpoint
  @Flag(help: "Print one JSON object instead of a table.") var json = false
  @OptionGroup var secretOptions: SecretOptions

  func run() async throws {
    let dialer = GRPCDialer(options: CallOptions(timeout: .seconds(3), secret: try secretOptions.secret()))
    defer { dialer.close() }
    let status: CoordinatorStatus
    do {
      status = try await dialer.coordinator(at: coordinator).status()
    } catch { fail("cannot reach the coordinator at \(coordinator): \(error)") }
    print(json ? StatusTable.json(status) : StatusTable.text(status), terminator: "")
  }
}

/// Renders a coordinator status for people (a table) and for scripts (JSON).
enum StatusTable {
  static func text(_ status: CoordinatorStatus) -> String {
    var rows = [["CLUSTER", "EPOCH", "SERVER", "ROLE", "ADDRESS", "ALIVE", "LAST HEARTBEAT"]]
    for cluster in status.clusters {
      for server in cluster.servers {
        rows.append([
          "\(cluster.id)", "\(cluster.epoch)", "\(server.id)", server.role.rawValue, "\(server.endpoint)",
          server.alive ? "yes" : "no", "\((status.now - server.lastHeartbeat).wholeMilliseconds) ms ago",
        ])
      }
      if let synchronizer = cluster.synchronizer {
        rows.append(["\(cluster.id)", "-", "-", "synchronizer", "\(synchronizer.endpoint)", "-", "-"])
      }
      if cluster.servers.isEmpty && cluster.synchronizer == nil {
        rows.append(["\(cluster.id)", "\(cluster.epoch)", "-", "(none)", "-", "-", "-"])
      }
    }
    let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
    return rows.map { row in
      row.indices.map {
        $0 == row.count - 1 ? row[$0] : row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0)
      }
      .joined(separator: "  ")
    }.joined(separator: "\n") + "\n"
  }

  static func json(_ status: CoordinatorStatus) -> String {
    let clusters: [[String: Any]] = status.clusters.map { cluster in
      [
        "cluster": cluster.id.value, "epoch": cluster.epoch.value, "master": cluster.master?.value ?? 0,
        "synchronizer": cluster.synchronizer.map { "\($0.endpoint)" } ?? "",
        "servers": cluster.servers.map { server in
          [
            "id": server.id.value, "role": server.role.rawValue, "address": "\(server.endpoint)",
            "alive": server.alive,
            "lastHeartbeatMsAgo": (status.now - server.lastHeartbeat).wholeMilliseconds,
          ] as [String: Any]
        },
      ]
    }
    let data =
      (try? JSONSerialization.data(withJSONObject: ["clusters": clusters], options: [.sortedKeys])) ?? Data()
    return String(decoding: data, as: UTF8.self) + "\n"
  }
}
