import Foundation
import SNSCore

/// Renders a coordinator status for people (a table) and for scripts (JSON).
///
/// `pids` (by child name: `coordinator`, `server-<cluster>-<id>`, `synchronizer-<cluster>`) come from
/// `sns cluster up`'s deployment file when there is one; `coordinator` is the address the status came from.
enum StatusTable {
  static func text(_ status: CoordinatorStatus, coordinator: Endpoint, pids: [String: Int32] = [:]) -> String
  {
    func pid(_ name: String) -> String { pids[name].map { "\($0)" } ?? "-" }
    var rows = [["CLUSTER", "ROLE", "ID", "ADDRESS", "EPOCH", "PID", "ALIVE", "LAST HEARTBEAT"]]
    rows.append(["-", "coordinator", "-", "\(coordinator)", "-", pid("coordinator"), "yes", "-"])
    for cluster in status.clusters {
      for server in cluster.servers {
        rows.append([
          "\(cluster.id)", server.role.rawValue, "\(server.id)", "\(server.endpoint)", "\(cluster.epoch)",
          pid("server-\(cluster.id)-\(server.id)"), server.alive ? "yes" : "no",
          "\((status.now - server.lastHeartbeat).wholeMilliseconds) ms ago",
        ])
      }
      if let synchronizer = cluster.synchronizer {
        rows.append([
          "\(cluster.id)", "synchronizer", "-", "\(synchronizer.endpoint)", "-",
          pid("synchronizer-\(cluster.id)"), "-", "-",
        ])
      }
      if cluster.servers.isEmpty && cluster.synchronizer == nil {
        rows.append(["\(cluster.id)", "(none)", "-", "-", "\(cluster.epoch)", "-", "-", "-"])
      }
    }
    return render(rows)
  }

  /// Left-aligned columns two spaces apart; the last column is not padded.
  static func render(_ rows: [[String]]) -> String {
    let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
    return rows.map { row in
      row.indices.map {
        $0 == row.count - 1 ? row[$0] : row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0)
      }
      .joined(separator: "  ")
    }.joined(separator: "\n") + "\n"
  }

  static func json(_ status: CoordinatorStatus, pids: [String: Int32] = [:]) -> String {
    let clusters: [[String: Any]] = status.clusters.map { cluster in
      [
        "cluster": cluster.id.value, "epoch": cluster.epoch.value, "master": cluster.master?.value ?? 0,
        "synchronizer": cluster.synchronizer.map { "\($0.endpoint)" } ?? "",
        "synchronizerPid": pids["synchronizer-\(cluster.id)"] ?? 0,
        "servers": cluster.servers.map { server in
          [
            "id": server.id.value, "role": server.role.rawValue, "address": "\(server.endpoint)",
            "alive": server.alive, "pid": pids["server-\(cluster.id)-\(server.id)"] ?? 0,
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
