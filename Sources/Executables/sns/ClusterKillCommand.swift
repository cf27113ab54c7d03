import ArgumentParser
import Foundation
import SNSCore

struct ClusterKillCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "kill",
    abstract: "Kill the process holding a role in a cluster of `sns cluster up` (for demos and drills).",
    discussion: """
      Asks the coordinator who holds the role now, finds that process in the deployment file, and signals
      it (SIGKILL by default: a crash, not a shutdown). `sns cluster up` does not restart it.

      Examples:
        sns cluster kill --cluster 1 --role master
        sns cluster kill --cluster 2 --role slave --signal TERM
        sns cluster kill --cluster 3 --role synchronizer
      """)

  @Option(help: "The cluster (1…N).") var cluster: Int
  @Option(help: "master, slave or synchronizer.") var role: String
  @Option(help: "KILL (a crash) or TERM (a graceful stop).") var signal: String = "KILL"
  @OptionGroup var deployment: DeploymentOptions

  func validate() throws {
    guard Role(parsing: role) != nil else {
      throw ValidationError("--role must be master, slave or synchronizer")
    }
    guard ["KILL", "TERM", "SIGKILL", "SIGTERM"].contains(signal.uppercased()) else {
      throw ValidationError("--signal must be KILL or TERM")
    }
  }

  func run() async throws {
    let (status, _, record) = try await deployment.status()
    guard let record else {
      fail("no running `sns cluster up` recorded in \(deployment.dataDirectory) (its pids are needed)")
    }
    guard let described = status.clusters.first(where: { $0.id.value == cluster }) else {
      fail("cluster \(cluster) does not exist: the coordinator runs \(status.clusters.count) clusters")
    }
    let name: String
    switch Role(parsing: role) {
    case .master?:
      guard let master = described.master else { fail("cluster \(cluster) has no master now") }
      name = "server-\(cluster)-\(master)"
    case .slave?:
      guard let slave = described.servers.first(where: { $0.role == .slave && $0.alive }) else {
        fail("cluster \(cluster) has no live slave now")
      }
      name = "server-\(cluster)-\(slave.id)"
    case .synchronizer?, nil:
      name = "synchronizer-\(cluster)"
    }
    guard let pid = record.livePID(of: name) else { fail("\(name) is not running") }
    let number = signal.uppercased().hasSuffix("TERM") ? SIGTERM : SIGKILL
    guard kill(pid, number) == 0 else {
      fail("cannot signal pid \(pid): \(String(cString: strerror(errno)))")
    }
    print(
      "sent SIG\(number == SIGKILL ? "KILL" : "TERM") to cluster \(cluster) \(role.lowercased()) (\(name), pid \(pid))"
    )
  }
}
