import Foundation
import SNSTestSupport
import Testing

/// kill -9 and restart of the coordinator after a failover, with real processes.
@Suite("Coordinator restart", .serialized)
struct CoordinatorRestartProcessTests {
  @Test(
    "after a failover, a restarted coordinator keeps server 2 master of its epoch and writes go on")
  func restartAfterFailover() async throws {
    try await withLocalDeployment(clusters: 1) { deployment in
      #expect(try await deployment.client(1, ["post", "before the failover"]).status == 0)
      let first = try #require(try await deployment.status().cluster(1)?.epoch)
      try await deployment.killMaster(ofCluster: 1)
      let promoted = try await deployment.status().cluster(1)
      #expect(promoted?.master == 2 && promoted?.epoch == first + 1, "\(String(describing: promoted))")
      #expect(try await deployment.client(1, ["post", "after the failover"]).status == 0)

      deployment.processes["coordinator"]?.signal(SIGKILL)
      _ = await deployment.processes["coordinator"]?.waitForExit(within: .seconds(10))
      try await deployment.startCoordinator()
      let settled = await eventually(within: .seconds(20)) {
        guard let cluster = try? await deployment.status().cluster(1) else { return false }
        return cluster.master == 2 && cluster.servers.contains { $0.id == 2 && $0.alive }
      }
      let after = try? await deployment.status().cluster(1)
      #expect(settled, "\(String(describing: after))")
      #expect(after?.epoch == first + 1, "the restarted coordinator lost the epoch of the promotion")
      let roles = try String(contentsOfFile: "\(deployment.coordinatorDirectory)/roles.json", encoding: .utf8)
      #expect(roles.contains("\"master\" : 2"), "\(roles)")
      let written = try await deployment.client(1, ["post", "after the coordinator restart"])
      #expect(written.status == 0, "\(written.output)")
      #expect(written.output.components(separatedBy: "Reconnecting to").count <= 2, "\(written.output)")
    }
  }
}
