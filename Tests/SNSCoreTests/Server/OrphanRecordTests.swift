import Foundation
import SNSTestSupport
import Testing

@testable import SNSCore

/// A slave holding an orphan — a record its master mirrored and then refused — under a key the master later
/// gives to an acknowledged write: a mirror never overrides it (it may be a late copy), a catch-up does.
@Suite("Orphan records on a slave")
struct OrphanRecordTests {
  @Test("a conflicting mirror is refused; the master's catch-up replaces the orphan")
  func mirrorRefusesCatchUpReplaces() async throws {
    try await withTemporaryDirectory { root in
      let clock = ManualClock()
      guard let started = try await tinySNSWithRoles(root: root, clock: clock) else { return }
      let (sns, master, slave, epoch) = started
      let author = user(1)
      func post(_ words: String) -> PlacedRecord {
        PlacedRecord(
          .post(Post(id: PostID(author: author, sequence: 1), time: clock.now(), text: text(words))),
          in: .timeline(author))
      }
      // The orphan: on the slave only.
      try await slave.mirror(MirrorRequest(cluster: cluster(1), epoch: epoch, records: [post("refused")]))
      // A different record under the same key, as a restarted master would send it: refused, not swallowed.
      await #expect(throws: SNSError.self) {
        try await slave.mirror(
          MirrorRequest(cluster: cluster(1), epoch: epoch, records: [post("acknowledged")]))
      }
      #expect(
        try await timelinePosts(sns, cluster: 1, server: 2, user: author).map(\.text.value) == ["refused"])

      // The master's files say otherwise (it holds the acknowledged version): a catch-up makes the slave agree.
      let masterDirectory = ServerDirectoryLayout.serverDirectory(
        in: (root as NSString).appendingPathComponent("cluster_1"), id: server(1), roleIfNew: .master)
      try await FileContextStore(directory: masterDirectory, logger: quietLogger).append([
        post("acknowledged")
      ])
      let reply = try await master.catchUp(CatchUpRequest(epoch: epoch))
      #expect(reply.records.contains(post("acknowledged")))
      // What the slave's catch-up does with the reply (the pull itself goes through the network).
      try await slave.applyFromMaster(reply.records)
      #expect(
        try await timelinePosts(sns, cluster: 1, server: 2, user: author).map(\.text.value) == [
          "acknowledged"
        ])
    }
  }

  @Test("a mirror whose batch the slave's storage refuses in one file only is answered in doubt, not refused")
  func partlyRefusedMirrorIsInDoubt() async throws {
    try await withTemporaryDirectory { root in
      let clock = ManualClock()
      guard let started = try await tinySNSWithRoles(root: root, clock: clock) else { return }
      let (_, _, slave, epoch) = started
      func post(_ author: Int) -> PlacedRecord {
        PlacedRecord(
          .post(
            Post(id: PostID(author: user(author), sequence: 1), time: clock.now(), text: text("p\(author)"))),
          in: .timeline(user(author)))
      }
      // User 4's timeline cannot be opened on the slave (a directory stands at its path): that file fails,
      // user 1's is stored.
      let slaveDirectory = ServerDirectoryLayout.serverDirectory(
        in: (root as NSString).appendingPathComponent("cluster_1"), id: server(2), roleIfNew: .slave)
      try FileManager.default.createDirectory(
        atPath: "\(slaveDirectory)/4.timeline", withIntermediateDirectories: true)
      do {
        try await slave.mirror(MirrorRequest(cluster: cluster(1), epoch: epoch, records: [post(1), post(4)]))
        Issue.record("the mirror succeeded though a file of it could not be written")
      } catch SNSError.unavailable {
      } catch {
        Issue.record("answered \(error): a refusal says none of it is stored, but user 1's post is")
      }
      let stored = try String(contentsOfFile: "\(slaveDirectory)/1.timeline", encoding: .utf8)
      #expect(stored.contains(" p1"))
      // A batch of one file is refused for good: nothing of it is stored.
      await #expect(throws: SNSError.storage("")) {
        do {
          try await slave.mirror(MirrorRequest(cluster: cluster(1), epoch: epoch, records: [post(4)]))
        } catch SNSError.storage {
          throw SNSError.storage("")
        }
      }
    }
  }
}
