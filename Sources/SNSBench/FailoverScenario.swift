import Foundation
import SNSCore
import SNSTransport
import Synchronization

/// `failover`: real `sns` processes (coordinator, master, slave of one cluster) under a steady post load;
/// each round kill -9s the master and times until the first post acknowledged by the new master, then
/// restarts the killed server (it returns as slave and catches up). At the end every acknowledged post must
/// be in the final master's files.
struct FailoverScenario {
  let settings: BenchSettings

  /// Acknowledged posts and who acknowledged them, shared by the load workers.
  final class Ledger: Sendable {
    struct Ack: Sendable {
      var user: UserID
      var text: String
      var server: Endpoint
      var at: ContinuousClock.Instant
    }
    let acks = Mutex<[Ack]>([])
    let stopped = Mutex(false)
    func first(by server: Endpoint, after instant: ContinuousClock.Instant) -> ContinuousClock.Instant? {
      acks.withLock { acks in acks.first { $0.server == server && $0.at > instant }.map(\.at) }
    }
  }

  func run() async throws -> ScenarioReport {
    let rounds = settings.pick(full: 20, quick: 2)
    let heartbeat = settings.pick(full: Duration.milliseconds(500), quick: .milliseconds(200))
    let missCount = 2
    var report = ScenarioReport(
      scenario: "failover", title: "kill -9 of the master under load → first ack on the new master",
      columns: ["rounds", "heartbeat ms", "misses", "min ms", "median ms", "max ms", "acked posts", "lost"])
    let (times, acked, lost) = try await withProcessGroup(settings, "failover") { group, root in
      try await measure(group, root: root, rounds: rounds, heartbeat: heartbeat, missCount: missCount)
    }
    let sorted = times.sorted()
    let budget = (heartbeat * missCount).milliseconds
    let median = sorted.isEmpty ? 0 : sorted[sorted.count / 2].milliseconds
    report.rows.append([
      "\(times.count)", BenchFormat.milliseconds(heartbeat), "\(missCount)",
      BenchFormat.milliseconds(sorted.first?.milliseconds ?? 0), BenchFormat.milliseconds(median),
      BenchFormat.milliseconds(sorted.last?.milliseconds ?? 0), "\(acked)", "\(lost)",
    ])
    report.metrics = [
      "failover.median_ms": median, "failover.max_ms": sorted.last?.milliseconds ?? 0,
      "failover.lost": Double(lost), "failover.acked": Double(acked),
    ]
    report.ratios.append(BenchRatio(name: "median failover / (misses × heartbeat)", value: median / budget))
    report.ratios.append(
      BenchRatio(name: "acknowledged posts lost", value: Double(lost), goal: "= 0", met: lost == 0))
    report.notes.append(
      "4 workers post continuously through the coordinator's GetServer; detection takes misses × heartbeat, the slave learns its promotion at its next heartbeat, then clients re-ask the coordinator"
    )
    return report
  }

  func measure(_ group: ProcessGroup, root: String, rounds: Int, heartbeat: Duration, missCount: Int)
    async throws
    -> ([Duration], Int, Int)
  {
    let dialer = GRPCDialer(options: CallOptions(timeout: .seconds(2)))
    defer { dialer.close() }
    let cluster = try await ProcessCluster.start(
      in: group, root: root, heartbeat: heartbeat, missCount: missCount, dialer: dialer)
    let coordinator = cluster.coordinator
    let endpoints = cluster.serverEndpoints
    let dataDirectory = cluster.dataDirectory
    settings.progress("  coordinator and 2 servers up; \(rounds) rounds")
    let ledger = Ledger()
    let users = try (1...4).map { try UserID($0) }
    for user in users {
      try await poll(within: .seconds(10), every: .milliseconds(20)) {
        let master = try await coordinator.master(forUser: user)
        return try await dialer.client(at: master.endpoint).execute(.login, for: user).status == .success
      }
    }
    let clock = ContinuousClock()
    let times = try await withThrowingTaskGroup(of: Void.self) { tasks in
      for user in users {
        tasks.addTask { await postLoop(user: user, coordinator: coordinator, dialer: dialer, ledger: ledger) }
      }
      defer { ledger.stopped.withLock { $0 = true } }
      var times: [Duration] = []
      for round in 1...rounds {
        try await Task.sleep(for: .milliseconds(300))
        guard let status = try await coordinator.status().clusters.first, let masterID = status.master,
          let victim = cluster.servers.indices.first(where: { $0 + 1 == masterID.value })
        else { throw BenchError.setup("no master before round \(round)") }
        let survivor = endpoints[1 - victim]
        let killed = clock.now
        await cluster.servers[victim].kill9()
        var firstAck: ContinuousClock.Instant?
        let deadline = killed + .seconds(30)
        while firstAck == nil, clock.now < deadline {
          firstAck = ledger.first(by: survivor, after: killed)
          if firstAck == nil { try await Task.sleep(for: .milliseconds(2)) }
        }
        guard let firstAck else { throw BenchError.timeout("no ack from the new master in round \(round)") }
        times.append(firstAck - killed)
        settings.progress("  round \(round)/\(rounds): \(BenchFormat.milliseconds(firstAck - killed)) ms")
        // The killed server comes back as slave and catches up before the next round kills the master.
        try await cluster.servers[victim].start()
        try await poll(within: .seconds(30), every: .milliseconds(20)) {
          let status = try await coordinator.status().clusters.first
          return status?.servers.filter(\.alive).count == 2
        }
        try await Task.sleep(for: heartbeat * 2)
      }
      ledger.stopped.withLock { $0 = true }
      try await tasks.waitForAll()
      return times
    }
    let finalMaster = try await coordinator.status().clusters.first?.master ?? (try ServerID(1))
    for server in cluster.servers { await server.stop() }
    // Every acknowledged post must be in the files of the server that was master last.
    let acks = ledger.acks.withLock { $0 }
    let store = try FileContextStore(
      directory: ServerDirectoryLayout.serverDirectory(
        in: dataDirectory, id: finalMaster, roleIfNew: .master),
      logger: LoopbackDeployment.logger)
    var lost = 0
    for user in users {
      var texts: Set<String> = []
      for case .post(let post) in try await store.records(in: .timeline(user)) {
        texts.insert(post.text.value)
      }
      lost += acks.filter { $0.user == user && !texts.contains($0.text) }.count
    }
    return (times, acks.count, lost)
  }

  /// Posts as `user` until stopped, asking the coordinator for the master again after any failure.
  func postLoop(user: UserID, coordinator: any CoordinatorPort, dialer: GRPCDialer, ledger: Ledger) async {
    var master: Endpoint?
    var index = 0
    let clock = ContinuousClock()
    while !ledger.stopped.withLock({ $0 }) {
      do {
        if master == nil { master = try await coordinator.master(forUser: user).endpoint }
        guard let endpoint = master else { continue }
        let text = "failover \(user) \(index)"
        index += 1
        let reply = try await dialer.client(at: endpoint).execute(.post(try PostText(text)), for: user)
        if reply.status == .success {
          ledger.acks.withLock {
            $0.append(Ledger.Ack(user: user, text: text, server: endpoint, at: clock.now))
          }
        }
      } catch {
        master = nil
        try? await Task.sleep(for: .milliseconds(10))
      }
    }
  }
}
