import Foundation
import SNSTestSupport
import Testing

/// A slave that joins a master already holding data: it catches up in pages, whatever the size, with
/// everything a master needs to serve, and is then promoted when the master dies.
@Suite("A late slave", .serialized)
struct LateSlaveTests {
  /// Starts the coordinator and server 1 of cluster 1 (master), runs `seed`, then starts server 2 and waits
  /// (bounded) until it logged a completed catch-up; then `body`.
  func withLateSlave(
    seed: (LocalDeployment) async throws -> Void, synchronizer: Bool = false,
    _ body: (LocalDeployment) async throws -> Void
  ) async throws {
    // Heartbeats every 500 ms: a slave busy catching up on a loaded machine must not miss the failure timeout
    // (it would have to catch up again, and the master is killed right after the first catch-up).
    try await withLocalDeployment(clusters: 1, heartbeat: "500ms", start: false) { deployment in
      try await deployment.startCoordinator()
      try await deployment.startServer(cluster: 1, id: 1)
      try await requireEventually(within: .seconds(20)) {
        (try? await deployment.status())?.cluster(1)?.master == 1
      }
      if synchronizer { try await deployment.startSynchronizer(cluster: 1) }
      try await seed(deployment)
      try await deployment.startServer(cluster: 1, id: 2)
      try await requireEventually(
        within: .seconds(60),
        "no catch-up: \(deployment.processes["server-1-2"]?.output.suffix(1500) ?? "")"
      ) { deployment.processes["server-1-2"]?.output.contains("catch-up from the master done") ?? false }
      try await body(deployment)
    }
  }

  @Test(
    "a master holding 60,000 posts (5.5 MB, over gRPC's 4 MiB default): the slave catches up and is promoted")
  func largeCatchUp() async throws {
    try await withLateSlave(seed: { deployment in
      #expect(try await deployment.client(1, ["list"]).status == 0)
      let master = "\(deployment.dataDirectory(ofCluster: 1))/master_1"
      let (status, output) = try await runSNS(
        [
          "debug", "append", "--dir", master, "--file", "1.timeline", "--writer", "1", "--count", "60000",
          "--concurrency", "256", "--progress", "100000",
        ], timeout: .seconds(120))
      try #require(status == 0, "\(output)")
    }) { deployment in
      try await deployment.killMaster(ofCluster: 1)
      let posts =
        ((try? String(
          contentsOfFile: "\(deployment.dataDirectory(ofCluster: 1))/slave_2/1.timeline", encoding: .utf8))
        ?? "")
        .split(separator: "\n").count
      #expect(posts == 60_000)
      #expect(try await deployment.client(1, ["post", "after the failover"]).status == 0)
    }
  }

  @Test(
    "a follow made before the slave joined: after failover the followee's followers and posts still reach the follower"
  )
  func followersSurviveCatchUp() async throws {
    try await withLateSlave(
      seed: { deployment in
        #expect(try await deployment.client(1, ["list"]).status == 0)
        #expect(try await deployment.client(2, ["follow", "1"]).status == 0)
        // The synchronizer writes the follower record into 1.follow (one round).
        let delivered = await eventually(within: .seconds(20)) {
          (try? await deployment.client(1, ["list"]).output.contains("Followers: 2")) ?? false
        }
        try #require(delivered)
      }, synchronizer: true
    ) { deployment in
      try await deployment.killMaster(ofCluster: 1)
      let list = try await deployment.client(1, ["list"])
      #expect(list.output.contains("Followers: 2"), "\(list.output)")
      #expect(try await deployment.client(1, ["post", "after the failover"]).status == 0)
      let reached = await eventually(within: .seconds(20)) {
        (try? await deployment.client(2, ["timeline", "--for", "300ms"]).output.contains(
          ">> after the failover"))
          ?? false
      }
      #expect(reached, "user 1's post never reached its follower 2 after the failover")
    }
  }
}
