import Foundation
import SNSCore
import SNSTestSupport
import SNSTransport

/// `footprint`: a real `sns server` process over a data directory seeded with many users and posts: its
/// resident memory once it answers, and how long it takes to answer again after kill -9 (recovery).
struct FootprintScenario {
  let settings: BenchSettings

  struct Sample {
    var label: String
    var ready: Duration
    var rss: Int
    var peak: Int
    var anonymous: Int
  }

  func run() async throws -> ScenarioReport {
    let users = settings.pick(full: 10_000, quick: 1_000)
    let posts = settings.pick(full: 1_000_000, quick: 50_000)
    var report = ScenarioReport(
      scenario: "footprint", title: "a server holding \(users) users / \(posts) posts",
      columns: ["start", "ready ms", "RSS MB", "peak RSS MB", "anon MB"])
    let (samples, bytes) = try await withProcessGroup(settings, "footprint") { group, root in
      try await measure(group, root: root, users: users, posts: posts)
    }
    for sample in samples {
      report.rows.append([
        sample.label, BenchFormat.milliseconds(sample.ready), BenchFormat.megabytes(sample.rss),
        BenchFormat.megabytes(sample.peak), BenchFormat.megabytes(sample.anonymous),
      ])
    }
    report.notes.append("data directory: \(String(format: "%.1f", Double(bytes) / 1_048_576)) MB on disk")
    if let restart = samples.first(where: { $0.label == "restart after kill -9" }) {
      let megabytes = Double(restart.rss) / 1024
      report.metrics = [
        "footprint.rss_mb": megabytes, "footprint.peak_rss_mb": Double(restart.peak) / 1024,
        "footprint.anon_mb": Double(restart.anonymous) / 1024,
        "footprint.restart_ms": restart.ready.milliseconds,
      ]
      // The goals are for 10 k users / 1 M posts: a quick run's smaller counts get no verdict.
      let judged = !settings.quick
      report.ratios.append(
        BenchRatio(
          name: "RSS / 50 MB", value: megabytes / 50, goal: judged ? "≤ 1.00 (≤ 50 MB)" : nil,
          met: judged ? megabytes <= 50 : nil))
      report.ratios.append(
        BenchRatio(
          name: "restart after kill -9 / 2 s", value: restart.ready.seconds / 2,
          goal: judged ? "≤ 1.00 (≤ 2 s)" : nil,
          met: judged ? restart.ready <= .seconds(2) : nil))
    }
    let judged = !settings.quick
    if let served = samples.first(where: { $0.label == "after a LIST by every user" }) {
      let megabytes = Double(served.rss) / 1024
      report.metrics["footprint.served_rss_mb"] = megabytes
      report.ratios.append(
        BenchRatio(
          name: "after a LIST by every user: RSS / 50 MB", value: megabytes / 50,
          goal: judged ? "≤ 1.00 (≤ 50 MB)" : nil, met: judged ? megabytes <= 50 : nil))
    }
    for sample in samples where sample.label.hasPrefix("synchronizer") {
      let megabytes = Double(sample.rss) / 1024
      let key = sample.label.hasSuffix("kill -9") ? "restart" : "first"
      report.metrics["footprint.synchronizer_\(key)_rss_mb"] = megabytes
      report.metrics["footprint.synchronizer_\(key)_round_ms"] = sample.ready.milliseconds
      report.ratios.append(
        BenchRatio(
          name: "\(sample.label): RSS / 50 MB", value: megabytes / 50,
          goal: judged ? "≤ 1.00 (≤ 50 MB)" : nil,
          met: judged ? megabytes <= 50 : nil))
    }
    if let restarted = samples.first(where: { $0.label == "synchronizer, round after kill -9" }) {
      report.ratios.append(
        BenchRatio(
          name: "synchronizer round after kill -9 / 1 s", value: restarted.ready.seconds,
          goal: judged ? "≤ 1.00 (≤ 1 s)" : nil, met: judged ? restarted.ready <= .seconds(1) : nil))
    }
    if settings.quick {
      report.notes.append(
        "--quick: the goals are for 10000 users / 1000000 posts, so these smaller counts get no verdict")
    }
    report.notes.append(
      "anon = the part of RSS that is the process's own heap and stacks; the rest is shared libraries' code mapped from files (Swift runtime, Foundation, ICU, gRPC)"
    )
    report.notes.append(
      "ready = from spawning `sns server` to its first successful Login (it registers with the running coordinator first); for the synchronizer, from spawning it to the end of its first round; after a LIST by every user, how long those LISTs took (8 at a time)"
    )
    return report
  }

  func measure(_ group: ProcessGroup, root: String, users: Int, posts: Int) async throws -> ([Sample], Int) {
    settings.progress("  seeding \(users) users and \(posts) posts")
    let dataDirectory = "\(root)/cluster_1"
    let (ids, bytes) = try DataSeeder(directory: "\(dataDirectory)/master_1").seedHistory(
      users: users, posts: posts)
    let coordinatorPort = try freeLoopbackPort()
    let port = try freeLoopbackPort()
    let heartbeat = Duration.milliseconds(200)
    _ = try await group.startCoordinator(port: coordinatorPort, heartbeat: heartbeat, missCount: 2)
    let dialer = GRPCDialer(options: CallOptions(timeout: .seconds(2)))
    defer { dialer.close() }
    let coordinator = dialer.coordinator(at: try Endpoint(host: "127.0.0.1", port: coordinatorPort))
    try await poll(within: .seconds(30), every: .milliseconds(20)) {
      _ = try await coordinator.status(); return true
    }
    let client = dialer.client(at: try Endpoint(host: "127.0.0.1", port: port))
    let server = try await group.startServer(
      id: 1, port: port, coordinator: coordinatorPort, dataDirectory: dataDirectory, heartbeat: heartbeat,
      missCount: 2)
    var samples: [Sample] = []
    for label in ["first start", "restart after kill -9"] {
      if !samples.isEmpty {
        await server.kill9()
        try await server.start()
      }
      settings.progress("  \(label): waiting for the server to answer")
      do {
        try await poll(within: .seconds(120), every: .milliseconds(5)) {
          try await client.execute(.login, for: try UserID(1)).status == .success
        }
      } catch {
        throw BenchError.setup("server did not answer: \(server.logTail)")
      }
      let ready = ContinuousClock.now - server.started
      // Touch a few users' files the way commands do, then read the memory.
      for user in ids.prefix(10) { _ = try await client.execute(.list, for: user) }
      guard let memory = server.memory() else {
        throw BenchError.setup("cannot read /proc/\(server.pid)/status")
      }
      samples.append(
        Sample(label: label, ready: ready, rss: memory.rss, peak: memory.peak, anonymous: memory.anonymous))
    }
    samples.append(try await serveEveryUser(ids, through: client, of: server))
    samples += try await measureSynchronizer(
      group, dataDirectory: dataDirectory, coordinator: coordinatorPort)
    return (samples, bytes)
  }

  /// Every user runs LIST once (each command reads that user's files), so the server's store has been through
  /// the whole history: its memory then shows whether the cache holds to its budget. Ready = how long it took.
  func serveEveryUser(_ users: [UserID], through client: any ClientPort, of server: ChildProcess) async throws
    -> Sample
  {
    settings.progress("  serving every user once (LIST)")
    let start = ContinuousClock.now
    let lanes = 8
    try await withThrowingTaskGroup(of: Void.self) { group in
      for lane in 0..<lanes {
        group.addTask {
          for index in stride(from: lane, to: users.count, by: lanes) {
            _ = try await client.execute(.list, for: users[index])
          }
        }
      }
      try await group.waitForAll()
    }
    guard let memory = server.memory() else {
      throw BenchError.setup("cannot read /proc/\(server.pid)/status")
    }
    return Sample(
      label: "after a LIST by every user", ready: ContinuousClock.now - start, rss: memory.rss,
      peak: memory.peak, anonymous: memory.anonymous)
  }

  /// The cluster's synchronizer over the same directory: its first round (a scan of the whole history), and
  /// its first round after kill -9 (from its saved progress). Ready = from spawning it to that round's end.
  func measureSynchronizer(_ group: ProcessGroup, dataDirectory: String, coordinator: Int) async throws
    -> [Sample]
  {
    let finished = "sync round finished"
    let synchronizer = try await group.startSynchronizer(
      port: try freeLoopbackPort(), coordinator: coordinator, dataDirectory: dataDirectory,
      syncInterval: .milliseconds(500))
    var samples: [Sample] = []
    for label in ["synchronizer, first round", "synchronizer, round after kill -9"] {
      if !samples.isEmpty {
        await synchronizer.kill9()
        try await synchronizer.start()
      }
      let before = synchronizer.logCount(of: finished)
      settings.progress("  \(label): waiting for a round to finish")
      do {
        try await poll(within: .seconds(300), every: .milliseconds(5)) {
          synchronizer.logCount(of: finished) > before
        }
      } catch {
        throw BenchError.setup("synchronizer finished no round: \(synchronizer.logTail)")
      }
      let ready = ContinuousClock.now - synchronizer.started
      guard let memory = synchronizer.memory() else {
        throw BenchError.setup("cannot read /proc/\(synchronizer.pid)/status")
      }
      samples.append(
        Sample(label: label, ready: ready, rss: memory.rss, peak: memory.peak, anonymous: memory.anonymous))
    }
    return samples
  }
}
