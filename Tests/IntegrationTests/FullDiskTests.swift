import Foundation
import SNSTestSupport
import Testing

/// A full disk on either server of a cluster: a write refused for it is visible nowhere, not even after a
/// failover; one already on the slave when the master's disk refused it is in doubt, and lands once (on both)
/// when space returns. Real processes, real tmpfs.
@Suite("A full disk", .serialized, .enabled(if: maySimulateFullDisks, "mounting a tmpfs needs root"))
struct FullDiskTests {
  @Test("the slave's disk is full: the post is refused, and shows nowhere, not even after failover")
  func slaveDiskFull() async throws {
    try await withFullDisk(on: "slave_2") { deployment, disk in
      let refused = try await deployment.client(1, ["post", "refused while full"])
      #expect(refused.status != 0, "\(refused.output)")
      #expect(
        refused.output.contains("No space left on device"), "status \(refused.status): \(refused.output)")
      try await failOver(deployment, freeing: disk, refused: "refused while full")
    }
  }

  @Test(
    "the master's disk is full: the post the slave took lands once when space returns; later posts are refused and show nowhere"
  )
  func masterDiskFull() async throws {
    try await withFullDisk(on: "master_1") { deployment, disk in
      let machine = deployment.dataDirectory(ofCluster: 1)
      // The first post reaches the slave, then the master's disk refuses it: our client retries it (same
      // request key) until the master can store it.
      let inDoubt = try await SNSProcess(
        name: "client-in-doubt",
        arguments: [
          "client", "--coordinator", deployment.coordinatorAddress, "--user", "1", "post",
          "in doubt while full",
        ], directory: deployment.root)
      deployment.processes["client-in-doubt"] = inDoubt
      try await requireEventually(within: .seconds(20)) {
        SmallDisk(path: "\(machine)/slave_2").anyFileContains("in doubt while full")
      }
      // Until then the master refuses new posts before they reach the slave.
      let refused = try await deployment.client(1, ["post", "refused while full"])
      #expect(refused.status != 0, "\(refused.output)")
      #expect(
        refused.output.contains("No space left on device"), "status \(refused.status): \(refused.output)")
      try disk.free()
      #expect(await inDoubt.waitForExit(within: .seconds(60)), "the retried post is still pending")
      #expect(inDoubt.exitStatus == 0, "\(inDoubt.output)")
      for directory in ["master_1", "slave_2"] {
        let text = (try? String(contentsOfFile: "\(machine)/\(directory)/1.timeline", encoding: .utf8)) ?? ""
        #expect(text.components(separatedBy: " in doubt while full").count == 2, "\(directory): \(text)")
      }
      try await failOver(deployment, freeing: nil, refused: "refused while full")
    }
  }

  /// A one-cluster deployment with `directory` on a small disk; user 2 follows 1; the disk is full when
  /// `body` starts.
  func withFullDisk(on directory: String, _ body: (LocalDeployment, SmallDisk) async throws -> Void)
    async throws
  {
    try await withLocalDeployment(clusters: 1, syncInterval: "200ms", start: false) { deployment in
      try await withSmallDisk(at: "\(deployment.dataDirectory(ofCluster: 1))/\(directory)") { disk in
        try await deployment.start()
        #expect(try await deployment.client(1, ["list"]).status == 0)
        #expect(try await deployment.client(2, ["follow", "1"]).status == 0)
        // User 1's first post: its file needs a new block, which the full disk does not have.
        try await disk.fill()
        try await body(deployment, disk)
      }
    }
  }

  /// Frees the disk (if given), posts once more, kills the master and checks the promoted slave: the new
  /// post reached user 2, the `refused` one is on no server and in no timeline.
  func failOver(_ deployment: LocalDeployment, freeing disk: SmallDisk?, refused: String) async throws {
    let machine = deployment.dataDirectory(ofCluster: 1)
    for directory in ["master_1", "slave_2"] {
      #expect(
        !SmallDisk(path: "\(machine)/\(directory)").anyFileContains(refused),
        "\(directory) kept a refused post")
    }
    try disk?.free()
    let accepted = try await deployment.client(1, ["post", "after space returned"])
    #expect(accepted.status == 0, "\(accepted.output)")
    try #require(deployment.processes["server-1-1"]).signal(SIGKILL)
    try await waitForPromotion(cluster: 1, from: 1) { try await deployment.status() }
    let delivered = await eventually(within: .seconds(30)) {
      ((try? String(contentsOfFile: "\(machine)/slave_2/2.timeline", encoding: .utf8)) ?? "")
        .contains(" after space returned")
    }
    #expect(delivered, "the acknowledged post did not reach its follower on the new master")
    #expect(
      !SmallDisk(path: "\(machine)/slave_2").anyFileContains(refused),
      "a refused post resurfaced after failover")
    let timeline = try await deployment.client(2, ["timeline", "--for", "300ms"])
    #expect(!timeline.output.contains(refused), "\(timeline.output)")
  }
}
