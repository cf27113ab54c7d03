import Foundation
import Testing

/// A write refused for a full disk, on the master or on the slave, is visible nowhere: not on the other server,
/// not after a failover. Writes succeed again once space returns. Real processes, real tmpfs.
@Suite("A full disk", .serialized, .enabled(if: maySimulateFullDisks, "mounting a tmpfs needs root"))
struct FullDiskTests {
  @Test(
    "a post refused for a full disk, on the master or on the slave, shows nowhere, not even after failover",
    arguments: ["master_1", "slave_2"])
  func refusedForAFullDisk(fullDirectory: String) async throws {
    try await withLocalDeployment(clusters: 1, syncInterval: "200ms", start: false) { deployment in
      let machine = deployment.dataDirectory(ofCluster: 1)
      let other = fullDirectory == "master_1" ? "slave_2" : "master_1"
      try await withSmallDisk(at: "\(machine)/\(fullDirectory)") { disk in
        try await deployment.start()
        #expect(try await deployment.client(1, ["list"]).status == 0)
        #expect(try await deployment.client(2, ["follow", "1"]).status == 0)

        // User 1's first post: its file needs a new block, which the full disk does not have.
        try await disk.fill()
        let refused = try await deployment.client(1, ["post", "refused while full"])
        #expect(refused.status != 0, "\(refused.output)")
        #expect(
          refused.output.contains("No space left on device"), "status \(refused.status): \(refused.output)")
        let otherDisk = SmallDisk(path: "\(machine)/\(other)")
        #expect(!otherDisk.anyFileContains("refused while full"), "the other server kept a refused post")
        #expect(!disk.anyFileContains("refused while full"))

        try disk.free()
        let accepted = try await deployment.client(1, ["post", "after space returned"])
        #expect(accepted.status == 0, "\(accepted.output)")

        // The slave (or the master that had the full disk, now freed) takes over.
        try #require(deployment.processes["server-1-1"]).signal(SIGKILL)
        try await waitForPromotion(cluster: 1, from: 1) { try await deployment.status() }
        let delivered = await eventually(within: .seconds(30)) {
          ((try? String(contentsOfFile: "\(machine)/slave_2/2.timeline", encoding: .utf8)) ?? "")
            .contains(" after space returned")
        }
        #expect(delivered, "the acknowledged post did not reach its follower on the new master")
        let slave = SmallDisk(path: "\(machine)/slave_2")
        #expect(!slave.anyFileContains("refused while full"), "a refused post resurfaced after failover")
        let timeline = try await deployment.client(2, ["timeline", "--for", "300ms"])
        #expect(!timeline.output.contains("refused while full"), "\(timeline.output)")
      }
    }
  }
}
