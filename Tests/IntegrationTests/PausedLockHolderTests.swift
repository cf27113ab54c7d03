import Foundation
import Testing

/// A paused process holding a context file's lock must not freeze anyone else: lock waits are bounded, and
/// a synchronizer skips the directory of a server the coordinator holds dead.
@Suite("A paused lock holder", .serialized)
struct PausedLockHolderTests {
  @Test("the old master paused with a follower's timeline locked: the new master's follower still gets posts")
  func pausedLockHolder() async throws {
    let root = NSTemporaryDirectory() + "tinysns-lock-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: root) }
    let deployment = try LocalDeployment(root: root, clusters: 1, syncInterval: "200ms")
    var paused: SNSProcess?
    var holder: SNSProcess?
    do {
      try await deployment.start()
      #expect(try await deployment.client(1, ["list"]).status == 0)
      #expect(try await deployment.client(2, ["follow", "1"]).status == 0)
      #expect(try await deployment.client(1, ["post", "before"]).status == 0)
      let machine = deployment.dataDirectory(ofCluster: 1)
      try #require(
        await eventually(within: .seconds(20)) {
          ((try? String(contentsOfFile: "\(machine)/slave_2/2.timeline", encoding: .utf8)) ?? "")
            .contains(" before")
        })
      // The old master stops while it holds LOCK_EX on the file the synchronizer delivers 1's posts into
      // (a second process holds it for it: flock(1), until killed).
      let lockHolder = try SNSProcess(
        name: "flock", arguments: ["-x", "\(machine)/master_1/2.timeline", "sleep", "600"], directory: root,
        executable: "/usr/bin/flock")
      holder = lockHolder
      try await Task.sleep(for: .milliseconds(300))
      let master = try #require(deployment.processes["server-1-1"])
      master.signal(SIGSTOP)
      paused = master
      try await waitForPromotion(cluster: 1, from: 1) { try await deployment.status() }
      #expect(try await deployment.client(1, ["post", "after the pause"]).status == 0)
      let delivered = await eventually(within: .seconds(30)) {
        ((try? String(contentsOfFile: "\(machine)/slave_2/2.timeline", encoding: .utf8)) ?? "")
          .contains(" after the pause")
      }
      #expect(delivered, "the synchronizer froze on the paused process's lock")
      master.signal(SIGCONT)
      paused = nil
      await lockHolder.stop()
      holder = nil
    } catch {
      paused?.signal(SIGCONT)
      await holder?.stop()
      await deployment.stop()
      print(deployment.logs)
      throw error
    }
    await deployment.stop()
    #expect(deployment.allStopped)
  }
}
