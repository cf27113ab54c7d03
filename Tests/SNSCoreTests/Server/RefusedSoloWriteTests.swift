import Foundation
import SNSTestSupport
import Testing

@testable import SNSCore

extension Server {
  /// Plans a post by `user` as ``execute(_:for:)`` does, then, before the write reaches the files, lets
  /// `arrive` put records there (what a pull from the slave brings in while the write asks the coordinator
  /// for a slave), and performs it.
  func postWithRecordsArrivingMidway(
    _ words: String, by user: UserID, arrive: ([PlacedRecord]) async throws -> Void
  ) async throws -> Reply {
    let view = try await currentView(of: user)
    guard case .write(let plan) = state.onCommand(.post(text(words)), for: user, view: view, now: clock.now())
    else {
      Issue.record("a post by \(user) should be a write")
      throw SNSError.invalidArgument("not a write")
    }
    defer { state.onWriteEnded(plan) }
    try await arrive(plan.records)
    return try await perform(plan)
  }
}

/// A write planned while the master knew no slave, refused because a different record took its key in the
/// master's files meanwhile (the slave's orphan, brought in by a pull): it is nowhere, so it must not go to
/// the slave later, where the same orphan holds the key and refuses every mirror that carries it.
@Suite("A solo write refused for a conflicting record")
struct RefusedSoloWriteTests {
  @Test("is not sent to the slave with later writes, which the slave then takes")
  func refusedSoloWriteLeavesTheBacklog() async throws {
    try await withTemporaryDirectory { root in
      let clock = ManualClock()
      guard let (sns, master, slave, _) = try await tinySNSWithRoles(root: root, clock: clock) else { return }
      #expect(try await master.execute(.login, for: user(1)).status == .success)
      // The slave misses its heartbeats: the coordinator counts it dead, and the master writes alone.
      clock.advance(by: .seconds(60))
      await master.heartbeat()
      #expect(try await sns.coordinator.status().clusters[0].servers.filter(\.alive).count == 1)

      let refused = await #expect(throws: SNSError.self) {
        try await master.postWithRecordsArrivingMidway("the solo post", by: user(1)) { planned in
          // The orphan under the planned key, on the slave and, pulled from it, on the master.
          let orphans = planned.map { placed -> PlacedRecord in
            guard case .post(let post) = placed.record else { return placed }
            let orphan = Post(id: post.id, time: post.time, text: text("the slave's orphan"), key: post.key)
            return PlacedRecord(.post(orphan), in: placed.file)
          }
          for id in 1...2 {
            try await FileContextStore(directory: clusterOneDirectory(root, server: id), logger: quietLogger)
              .append(orphans)
          }
        }
      }
      #expect("\(refused.map { "\($0)" } ?? "")".contains("different record"))

      // The slave is back and caught up; the next post is mirrored to it and acknowledged.
      await slave.heartbeat()
      await master.heartbeat()
      await slave.heartbeat()
      let reply = try await master.execute(.post(text("the next post")), for: user(1))
      #expect(reply.status == .success)
      let onSlave = try await timelinePosts(sns, cluster: 1, server: 2, user: user(1))
      #expect(onSlave.map(\.text) == [text("the slave's orphan"), text("the next post")])
    }
  }
}
