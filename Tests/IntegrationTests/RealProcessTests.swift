import Foundation
import SNSTestSupport
import Testing

/// Real `sns` processes on loopback: 3 clusters, short intervals, bounded waits, every process stopped.
@Suite("Real processes on loopback", .serialized)
struct RealProcessTests {
  /// Times of the "sync round" lines a synchronizer logged.
  func roundTimes(_ deployment: LocalDeployment, cluster: Int) -> [Date] {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return (deployment.processes["synchronizer-\(cluster)"]?.output ?? "").split(separator: "\n")
      .filter { $0.contains("msg=\"sync round started\"") }
      .compactMap { line in
        line.split(separator: " ").first { $0.hasPrefix("ts=") }.flatMap {
          formatter.date(from: String($0.dropFirst(3)))
        }
      }
  }

  @Test("users on different clusters follow each other and see posts only after a sync round")
  func crossClusterFollowAndPost() async throws {
    try await withLocalDeployment { deployment in
      for user in 1...3 { #expect(try await deployment.client(user, ["list"]).status == 0) }
      // Users become followable everywhere after a round.
      await expectEventually {
        (try? await deployment.client(1, ["list"]).output.contains("All users: 1, 2, 3")) ?? false
      }
      #expect(
        try await deployment.client(1, ["follow", "2"]).output.contains("Command completed successfully"))
      #expect(try await deployment.client(2, ["follow", "1"]).status == 0)
      #expect(
        try await deployment.client(1, ["follow", "2"]).output.contains("Input username already exists"))
      await expectEventually {
        (try? await deployment.client(2, ["list"]).output.contains("Followers: 1")) ?? false
      }

      let acknowledged = Date()
      #expect(try await deployment.client(2, ["post", "hello from cluster two"]).status == 0)
      let timelineFile = "\(deployment.dataDirectory(ofCluster: 1))/master_1/1.timeline"
      var seen: Date?
      _ = await eventually(every: .milliseconds(10)) {
        let contents = (try? String(contentsOfFile: timelineFile, encoding: .utf8)) ?? ""
        if contents.contains("hello from cluster two") { seen = Date() }
        return seen != nil
      }
      guard let seen else {
        Issue.record("the post never reached user 1's timeline")
        return
      }
      // It became visible only after cluster 2's synchronizer ran a round that started after the post.
      let rounds = roundTimes(deployment, cluster: 2)
      #expect(
        rounds.contains {
          $0 >= acknowledged.addingTimeInterval(-0.05) && $0 <= seen.addingTimeInterval(0.05)
        })
      let timeline = try await deployment.client(1, ["timeline", "--for", "1s"])
      #expect(timeline.output.contains("2 (") && timeline.output.contains(") >> hello from cluster two"))
    }
  }

  @Test(
    "kill -9 of a master: slave promoted, client reconnects, acknowledged posts survive, old master rejoins")
  func failover() async throws {
    try await withLocalDeployment { deployment in
      #expect(try await deployment.client(4, ["list"]).status == 0)
      let session = try await deployment.interactiveClient(1)
      session.send("LIST")
      await expectEventually { session.output.contains("All users:") }
      var acknowledged: [String] = []
      for index in 1...10 {
        let text = "before crash \(index)"
        if try await deployment.client(1, ["post", text]).status == 0 { acknowledged.append(text) }
      }
      #expect(acknowledged.count == 10)
      let before = try await deployment.status()
      let oldEpoch = before.cluster(1)?.epoch ?? 0
      let slaveAddress = before.cluster(1)?.servers.first { $0.id == 2 }?.address ?? "?"

      deployment.processes["server-1-1"]?.signal(SIGKILL)
      // Posts keep coming while the failover happens; each one acknowledged must survive.
      for index in 1...10 {
        let text = "during failover \(index)"
        if try await deployment.client(1, ["post", text]).status == 0 { acknowledged.append(text) }
      }
      let promoted = await eventually {
        guard let cluster = try? await deployment.status().cluster(1) else { return false }
        return cluster.master == 2 && cluster.epoch == oldEpoch + 1
      }
      #expect(promoted)

      session.send("LIST")
      await expectEventually("\(session.output)") {
        session.output.components(separatedBy: "All users:").count == 3
      }
      // The course's displayReConnectionMessage, once, naming the new master.
      #expect(
        session.output.components(separatedBy: "Reconnecting to").count == 2
          && session.output.contains("Reconnecting to \(slaveAddress)..."), "\(session.output)")
      for text in acknowledged {
        let onNewMaster =
          (try? String(
            contentsOfFile: "\(deployment.dataDirectory(ofCluster: 1))/slave_2/1.timeline", encoding: .utf8))
          ?? ""
        #expect(onNewMaster.contains(text), "acknowledged post '\(text)' lost")
      }

      // The old master comes back, is told it is slave now, and catches up.
      try await deployment.startServer(cluster: 1, id: 1)
      let rejoined = await eventually {
        guard let cluster = try? await deployment.status().cluster(1) else { return false }
        return cluster.master == 2
          && cluster.servers.contains { $0.id == 1 && $0.alive && $0.role == "slave" }
      }
      #expect(rejoined)
      #expect(try await deployment.client(1, ["post", "after rejoin"]).status == 0)
      await expectEventually {
        let onOld =
          (try? String(
            contentsOfFile: "\(deployment.dataDirectory(ofCluster: 1))/master_1/1.timeline", encoding: .utf8
          )) ?? ""
        return acknowledged.allSatisfy { onOld.contains($0) } && onOld.contains("after rejoin")
      }
    }
  }
}
