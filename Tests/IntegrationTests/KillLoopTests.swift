import Foundation
import SNSCore
import SNSTestSupport
import Testing

/// The kill -9 loop: start a cluster on loopback, post as fast as clients can, kill -9 the master at a random
/// moment, wait for the slave's promotion, and read back: not one acknowledged post may be missing.
///
/// CI runs 3 rounds; `scripts/kill-loop` runs 20 (or `SNS_KILL_ROUNDS`). `SNS_KILL_SEED` replays a run.
@Suite("kill -9 loop", .serialized)
struct KillLoopTests {
  static let rounds = Int(ProcessInfo.processInfo.environment["SNS_KILL_ROUNDS"] ?? "") ?? 3
  static let seed =
    UInt64(ProcessInfo.processInfo.environment["SNS_KILL_SEED"] ?? "") ?? UInt64(Date().timeIntervalSince1970)

  /// Posting lanes (each a sequence of one-shot `sns client post` processes; a post counts once it exits 0).
  static let lanes = 4

  @Test("kill -9 the master at a random moment, round after round: 0 acknowledged posts lost")
  func killLoop() async throws {
    var random = SeededRandom(seed: Self.seed)
    print("kill loop: \(Self.rounds) rounds, seed \(Self.seed) (replay with SNS_KILL_SEED=\(Self.seed))")
    var totalAcknowledged = 0
    for round in 1...Self.rounds {
      let killAfter = Duration.milliseconds(Int(200 + random.next() % 1300))
      let acknowledged = try await runRound(round, killAfter: killAfter)
      totalAcknowledged += acknowledged
      print(
        "kill loop: round \(round): master killed after \(killAfter), \(acknowledged) acknowledged, 0 lost")
    }
    print("kill loop: \(Self.rounds) rounds, \(totalAcknowledged) acknowledged posts, 0 lost")
  }

  /// One round; returns how many posts were acknowledged (after checking that none was lost).
  func runRound(_ round: Int, killAfter: Duration) async throws -> Int {
    let root = NSTemporaryDirectory() + "tinysns-kill-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    let deployment = try LocalDeployment(root: root, clusters: 1, heartbeat: "100ms", missCount: 3)
    var passed = false
    defer {
      if passed { try? FileManager.default.removeItem(atPath: root) }
    }
    do {
      try await deployment.start()
      #expect(try await deployment.client(1, ["list"]).status == 0)
      let epoch = try await deployment.status().cluster(1)?.epoch ?? 0
      let start = ContinuousClock.now
      let stopPosting = start + killAfter + .seconds(3)
      // The tasks below get plain values, not the (non-Sendable) deployment.
      let coordinator = deployment.coordinatorAddress
      let master = deployment.processes["server-1-1"]?.pid
      let acknowledged = try await withThrowingTaskGroup(of: [String].self) { group in
        for lane in 1...Self.lanes {
          group.addTask {
            var acknowledged: [String] = []
            var number = 0
            while ContinuousClock.now < stopPosting {
              number += 1
              let text = "round \(round) lane \(lane) post \(number)"
              let posted = try await runSNS([
                "client", "--coordinator", coordinator, "--user", "1", "post", text,
              ])
              if posted.status == 0 { acknowledged.append(text) }
            }
            return acknowledged
          }
        }
        group.addTask {
          try await Task.sleep(until: start + killAfter)
          if let master { kill(master, SIGKILL) }
          return []
        }
        return try await group.reduce(into: [String]()) { $0 += $1 }
      }
      let promoted = await eventually(within: .seconds(20)) {
        guard let cluster = try? await deployment.status().cluster(1) else { return false }
        return cluster.master == 2 && cluster.epoch > epoch
      }
      #expect(promoted, "round \(round): the slave was not promoted")

      // Read back from the new master's files, through the store (every checksum checked).
      let store = try FileContextStore(
        directory: "\(deployment.dataDirectory(ofCluster: 1))/slave_2", logger: .init(label: "kill-loop"))
      let onNewMaster = Set(
        try await store.records(in: .timeline(try UserID(1))).compactMap { record -> String? in
          if case .post(let post) = record { post.text.value } else { nil }
        })
      let lost = acknowledged.filter { !onNewMaster.contains($0) }
      #expect(lost.isEmpty, "round \(round): acknowledged posts lost: \(lost.prefix(10))")
      #expect(acknowledged.count > 0, "round \(round): no post was acknowledged")
      // And the client reads them back through the new master.
      let timeline = try await deployment.client(1, ["timeline", "--for", "500ms"])
      #expect(timeline.status == 0, "round \(round): \(timeline.output.suffix(300))")
      passed = lost.isEmpty && promoted
      await deployment.stop()
      #expect(deployment.allStopped, "still running: \(deployment.stillRunning)")
      if !passed { print("round \(round) kept its files in \(root)") }
      return acknowledged.count
    } catch {
      await deployment.stop()
      for (name, process) in deployment.processes.sorted(by: { $0.key < $1.key }) {
        print("---- \(name) ----\n\(process.output.suffix(2000))")
      }
      throw error
    }
  }
}
