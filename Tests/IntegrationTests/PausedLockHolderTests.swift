import Foundation
import SNSTestSupport
import Testing

/// A paused process holding a context file's lock must not freeze anyone else: lock waits are bounded, and
/// a synchronizer skips the directory of a server the coordinator holds dead.
@Suite("A paused lock holder", .serialized)
struct PausedLockHolderTests {
  @Test("the old master paused with a follower's timeline locked: the new master's follower still gets posts")
  func pausedLockHolder() async throws {
    try await withLocalDeployment(clusters: 1, syncInterval: "200ms") { deployment in
      #expect(try await deployment.client(1, ["list"]).status == 0)
      #expect(try await deployment.client(2, ["follow", "1"]).status == 0)
      #expect(try await deployment.client(1, ["post", "before"]).status == 0)
      let machine = deployment.dataDirectory(ofCluster: 1)
      try await requireEventually(within: .seconds(20)) {
        ((try? String(contentsOfFile: "\(machine)/slave_2/2.timeline", encoding: .utf8)) ?? "")
          .contains(" before")
      }
      // The old master stops while it holds LOCK_EX on the file the synchronizer delivers 1's posts into
      // (one more process holds it for it, until stopped).
      let holder = try await SNSProcess(
        name: "lock-holder",
        arguments: [
          "python3", "-c",
          "import fcntl, sys, time; f = open(sys.argv[1], 'a'); fcntl.flock(f, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(600)",
          "\(machine)/master_1/2.timeline",
        ], directory: deployment.root, executable: "/usr/bin/env")
      deployment.processes["lock-holder"] = holder
      try await requireEventually(within: .seconds(10)) { holder.output.contains("locked") }
      let master = try #require(deployment.processes["server-1-1"])
      master.signal(SIGSTOP)
      defer { master.signal(SIGCONT) }
      try await waitForPromotion(cluster: 1, from: 1) { try await deployment.status() }
      #expect(try await deployment.client(1, ["post", "after the pause"]).status == 0)
      let delivered = await eventually(within: .seconds(30)) {
        ((try? String(contentsOfFile: "\(machine)/slave_2/2.timeline", encoding: .utf8)) ?? "")
          .contains(" after the pause")
      }
      #expect(delivered, "the synchronizer froze on the paused process's lock")
    }
  }
}
