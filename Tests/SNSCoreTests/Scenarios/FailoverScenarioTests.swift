import Foundation
import SNSCore
import SNSTestSupport
import Synchronization
import Testing

@Suite("Failover on the in-memory topology")
struct FailoverScenarioTests {
  @Test(
    "slave promoted after two missed heartbeats; acknowledged writes survive; old master rejoins as slave")
  func masterCrash() async throws {
    try await withTemporaryDirectory { root in
      let clock = ManualClock()
      let sns = try TinySNS(root: root, clock: clock, heartbeatInterval: .seconds(10), logger: quietLogger)
      await sns.heartbeatAll()
      let reconnects = Mutex<[Endpoint]>([])
      let one = sns.client(for: user(1), failoverTimeout: .zero) { endpoint in
        reconnects.withLock { $0.append(endpoint) }
      }
      _ = try await one.execute(.login)
      _ = try await sns.client(for: user(4)).execute(.login)
      #expect(try await one.execute(.follow(user(4))) == .success)
      var acknowledged: [String] = []
      for index in 1...5 {
        clock.advance(by: .milliseconds(10))
        let post = "post \(index)"
        if try await one.execute(.post(text(post))) == .success { acknowledged.append(post) }
      }
      let oldMaster = sns.servers[0][0]
      let slave = sns.servers[0][1]
      guard case .master(let epoch, _) = await oldMaster.phase else {
        Issue.record("server 1 should be master")
        return
      }

      // Master 1 crashes: it stops heartbeating and stops answering. The slave keeps heartbeating.
      let oldEndpoint = endpoint("cluster1-server1:10001")
      sns.network.takeDown(oldEndpoint)
      clock.advance(by: .seconds(10))
      await slave.heartbeat()
      await sns.coordinator.checkLiveness()
      #expect(
        try await sns.coordinator.master(forUser: user(1)).id == server(1), "one interval is not enough")
      clock.advance(by: .seconds(10))
      await slave.heartbeat()
      await sns.coordinator.checkLiveness()
      let promoted = try await sns.coordinator.master(forUser: user(1))
      #expect(promoted.id == server(2))
      await slave.heartbeat()  // the slave learns its promotion
      guard case .master(let newEpoch, _) = await slave.phase else {
        Issue.record("server 2 should be master now")
        return
      }
      #expect(newEpoch == epoch.next)

      // Every acknowledged write is on the new master; the client reconnects and says so.
      let timeline = try await one.timeline()
      #expect(timeline.initial.isEmpty, "timeline mode never shows the user's own posts")
      #expect(reconnects.withLock { $0 } == [promoted.endpoint])
      let onNew = try await timelinePosts(sns, cluster: 1, server: 2, user: user(1))
      #expect(onNew.map(\.text.value) == acknowledged)
      #expect(try await one.execute(.follow(user(4))) == Reply(.alreadyExists))

      // The old master in the old epoch is refused by the new master when it tries to mirror.
      await #expect(throws: SNSError.staleEpoch(current: newEpoch)) {
        try await slave.mirror(MirrorRequest(cluster: cluster(1), epoch: epoch, records: []))
      }

      // A write made after the failover, then the old master returns, learns it is slave, and catches up.
      #expect(try await one.execute(.post(text("after failover"))) == .success)
      sns.network.restore(oldEndpoint)
      await oldMaster.heartbeat()
      guard case .slave(let rejoinEpoch, _, let caughtUp) = await oldMaster.phase else {
        Issue.record("the old master should rejoin as slave")
        return
      }
      #expect(rejoinEpoch == newEpoch)
      #expect(caughtUp)
      let onOld = try await timelinePosts(sns, cluster: 1, server: 1, user: user(1))
      #expect(onOld.map(\.text.value) == acknowledged + ["after failover"])
      await #expect(throws: SNSError.self) { try await oldMaster.execute(.post(text("x")), for: user(1)) }
    }
  }
}
