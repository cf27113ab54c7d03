import Foundation
import Histogram
import SNSCore
import SNSTestSupport
import Synchronization

/// `visibility`: from a post's ack to its arrival in the timeline stream of a follower on another cluster,
/// with every process's timers running, against the sync interval.
struct VisibilityScenario {
  let settings: BenchSettings

  func run() async throws -> ScenarioReport {
    let users = settings.pick(full: 10_000, quick: 1_000)
    let interval = settings.pick(full: Duration.seconds(1), quick: .milliseconds(300))
    let samples = settings.pick(full: 30, quick: 5)
    var report = ScenarioReport(
      scenario: "visibility",
      title: "post ack → follower's timeline stream on another cluster, \(users) users",
      columns: ["sync interval ms", "samples", "missed", "min ms", "p50 ms", "p99 ms", "max ms"])
    let (histogram, missed) = try await withScratchDirectory(settings, "visibility") { root in
      try await measure(users: users, interval: interval, samples: samples, root: root)
    }
    let p50 = Double(histogram.valueAtPercentile(50)) / 1000
    let p99 = Double(histogram.valueAtPercentile(99)) / 1000
    report.rows.append([
      BenchFormat.milliseconds(interval), "\(histogram.totalCount)", "\(missed)",
      BenchFormat.milliseconds(Double(histogram.min) / 1000), BenchFormat.milliseconds(p50),
      BenchFormat.milliseconds(p99), BenchFormat.milliseconds(Double(histogram.max) / 1000),
    ])
    report.metrics = [
      "visibility.interval_ms": interval.milliseconds, "visibility.p50_ms": p50, "visibility.p99_ms": p99,
      "visibility.missed": Double(missed),
    ]
    let budget = interval.milliseconds + 100
    report.ratios.append(
      BenchRatio(
        name: "p99 / (interval + 100 ms)", value: p99 / budget, goal: "≤ 1.00 (p99 ≤ interval + 100 ms)",
        met: missed == 0 && p99 <= budget))
    report.ratios.append(BenchRatio(name: "p50 / interval", value: p50 / interval.milliseconds))
    report.notes.append(
      "2 clusters (master + slave + synchronizer each) over gRPC in this process, timers running; posts spaced by a seeded random delay in [0, interval) so they land at every phase of the round; timeline poll 20 ms"
    )
    return report
  }

  func measure(users: Int, interval: Duration, samples: Int, root: String) async throws -> (
    Histogram<UInt64>, Int
  ) {
    settings.progress("  seeding \(users) users")
    let ids = try (1...users).map { try UserID($0) }
    for cluster in 1...2 {
      let ofCluster = ids.filter { ClusterID.of($0, clusterCount: 2).value == cluster }
      try DataSeeder(directory: "\(root)/cluster_\(cluster)/master_1").addUsers(ofCluster)
      try DataSeeder(directory: "\(root)/cluster_\(cluster)/slave_2").addUsers(ofCluster)
    }
    let deployment = try LoopbackDeployment(
      root: root,
      options: LoopbackDeployment.Options(
        clusterCount: 2, withSlave: true, heartbeat: .milliseconds(500), missCount: 3, syncInterval: interval)
    )
    do {
      let result = try await deployment.running(synchronizing: true) {
        try await measureRunning(deployment, interval: interval, samples: samples)
      }
      await deployment.stop()
      return result
    } catch {
      await deployment.stop()
      throw error
    }
  }

  func measureRunning(_ deployment: LoopbackDeployment, interval: Duration, samples: Int) async throws -> (
    Histogram<UInt64>, Int
  ) {
    let poster = try UserID(1)
    let follower = try UserID(2)
    let posting = deployment.dialer.client(at: deployment.masterEndpoint(1))
    let reading = deployment.dialer.client(at: deployment.masterEndpoint(2))
    settings.progress("  waiting for users to sync, then following")
    try await poll(within: .seconds(60), every: .milliseconds(50)) {
      try await reading.execute(.follow(poster), for: follower).status == .success
    }
    // The follow reaches the poster's cluster at the next rounds of both synchronizers.
    try await Task.sleep(for: interval * 3)
    let subscription = try await reading.timeline(for: follower)
    let arrivals = Locked<[String: ContinuousClock.Instant]>([:])
    let clock = ContinuousClock()
    var random = SeededRandom(seed: 0x5EED)
    return try await withThrowingTaskGroup(of: Void.self) { group in
      group.addTask {
        for try await post in subscription.updates {
          let now = clock.now
          arrivals.withLock { $0[post.text.value] = now }
        }
      }
      defer { group.cancelAll() }
      var histogram = LoadGenerator.makeHistogram()
      var missed = 0
      for sample in 0..<samples {
        let spacing = Double(random.next() % 1000) / 1000
        try await Task.sleep(for: interval * spacing)
        let text = "visibility probe \(sample)"
        let reply = try await posting.execute(.post(try PostText(text)), for: poster)
        let acked = clock.now
        guard reply.status == .success else { throw BenchError.setup("post: \(reply.status)") }
        let deadline = acked + interval * 3 + .seconds(2)
        var arrived: ContinuousClock.Instant?
        while arrived == nil, clock.now < deadline {
          arrived = arrivals.withLock { $0[text] }
          if arrived == nil { try await Task.sleep(for: .milliseconds(2)) }
        }
        if let arrived {
          _ = histogram.record(UInt64(max(1, (arrived - acked).milliseconds * 1000)))
          settings.progress(
            "  sample \(sample + 1)/\(samples): \(BenchFormat.milliseconds(arrived - acked)) ms")
        } else {
          missed += 1
          settings.progress(
            "  sample \(sample + 1)/\(samples): not seen within \(interval * 3 + .seconds(2))")
        }
      }
      return (histogram, missed)
    }
  }
}

/// Polls `condition` (errors count as "not yet") until it holds; throws ``BenchError/timeout(_:)`` after `timeout`.
func poll(within timeout: Duration, every interval: Duration, _ condition: () async throws -> Bool)
  async throws
{
  guard await eventually(within: timeout, every: interval, condition) else {
    throw BenchError.timeout("condition not met within \(timeout)")
  }
}
