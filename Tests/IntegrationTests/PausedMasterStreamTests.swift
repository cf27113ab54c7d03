import Foundation
import SNSTestSupport
import Testing

/// A timeline stream on a master that is paused (SIGSTOP) while its slave is promoted: the client notices
/// (keepalive), subscribes at the new master, and shows each post once.
@Suite("Timeline streams across a paused master", .serialized)
struct PausedMasterStreamTests {
  @Test("SIGSTOP of the master: the timeline client shows posts made on the new master, each post once")
  func pausedMaster() async throws {
    // A paused process left behind by a failure is still stopped: SIGKILL ends it.
    try await withLocalDeployment(clusters: 1, syncInterval: "200ms") { deployment in
      #expect(try await deployment.client(2, ["list"]).status == 0)
      #expect(try await deployment.client(1, ["follow", "2"]).status == 0)
      try await requireEventually(within: .seconds(20)) {
        (try? await deployment.client(2, ["list"]).output.contains("Followers: 1")) ?? false
      }
      let watcher = try await SNSProcess(
        name: "timeline-1",
        arguments: [
          "client", "--coordinator", deployment.coordinatorAddress, "--user", "1", "timeline", "--for", "90s",
        ], directory: deployment.root)
      deployment.processes["timeline-1"] = watcher
      #expect(try await deployment.client(2, ["post", "before the pause"]).status == 0)
      try await requireEventually(within: .seconds(20)) { watcher.output.contains(">> before the pause") }

      let master = try #require(deployment.processes["server-1-1"])
      master.signal(SIGSTOP)
      defer { master.signal(SIGCONT) }
      try await waitForPromotion(cluster: 1, from: 1) { try await deployment.status() }
      let posted = try await deployment.client(2, ["post", "on the new master"])
      #expect(posted.status == 0, "\(posted.output)")
      let shown = await eventually(within: .seconds(45)) { watcher.output.contains(">> on the new master") }
      #expect(shown, "the timeline client never showed a post made on the new master:\n\(watcher.output)")
      #expect(watcher.output.components(separatedBy: ">> before the pause").count == 2, "\(watcher.output)")
    }
  }
}
