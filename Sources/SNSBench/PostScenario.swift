import Foundation
import SNSCore
import SNSTransport

/// `post`: acknowledged posts (mirrored to the slave, fsynced on both) at concurrency 1 and 64, and Login and
/// Follow round trips, against raw echo measured in the same run. With `--target`, drives that master instead
/// of starting one (anything that speaks WIRE.md's `csce438.SNSService`).
struct PostScenario {
  let settings: BenchSettings
  /// Concurrency levels of the post and echo runs (scripts/plot-post-latency.py plots them all).
  var levels: [Int] { settings.pick(full: [1, 4, 16, 64], quick: [1, 64]) }

  func run() async throws -> ScenarioReport {
    var report = ScenarioReport(
      scenario: "post",
      title: "acknowledged posts and course round trips" + (settings.target.map { " against \($0)" } ?? ""),
      columns: LoadResult.columns)
    let duration = settings.pick(full: Duration.seconds(5), quick: .seconds(1))
    let echo = try await EchoBaseline.measure(concurrencies: levels, duration: duration, settings: settings)
    for result in echo {
      report.rows.append(result.row("raw echo (reference)"))
      report.metrics.merge(result.metrics("echo.c\(result.concurrency)")) { _, new in new }
    }
    if let target = settings.target {
      let dialer = GRPCDialer(options: CallOptions(timeout: .seconds(10)))
      defer { dialer.close() }
      try await measure(dialer.client(at: target), duration: duration, echo: echo, into: &report)
    } else if settings.executable != nil {
      report = try await withScratchDirectory(settings, "post") { root in
        let group = try ProcessGroup(settings: settings, directory: root)
        let dialer = GRPCDialer(options: CallOptions(timeout: .seconds(10)))
        defer { dialer.close() }
        // Servers that know many users: each command's view of its user is built against the users file.
        let known = try (1...settings.pick(full: 10_000, quick: 1_000)).map { try UserID($0) }
        for directory in ["master_1", "slave_2"] {
          try DataSeeder(directory: "\(root)/cluster_1/\(directory)").addUsers(known)
        }
        report.notes.append("the servers know \(known.count) users (seeded into their users files)")
        do {
          let cluster = try await ProcessCluster.start(
            in: group, root: root, heartbeat: .seconds(1), missCount: 3, dialer: dialer)
          var inner = report
          try await measure(
            dialer.client(at: cluster.serverEndpoints[0]), duration: duration, echo: echo, into: &inner)
          inner.notes.append(
            "ours: `sns coordinator` and two `sns server` processes (master, slave) on 127.0.0.1, load from this process; each post is mirrored and fsynced on both before the ack"
          )
          await group.stopAll()
          return inner
        } catch {
          await group.stopAll()
          throw error
        }
      }
    } else {
      try await withScratchDirectory(settings, "post") { root in
        let deployment = try LoopbackDeployment(
          root: root, options: LoopbackDeployment.Options(clusterCount: 1, withSlave: true))
        do {
          let client = deployment.dialer.client(at: deployment.masterEndpoint(1))
          let base = report
          let measured = try await deployment.running(synchronizing: false) {
            var inner = base
            try await measure(client, duration: duration, echo: echo, into: &inner)
            return inner
          }
          report = measured
          report.notes.append(
            "ours, in this process (no sns binary given): master + slave + coordinator behind real gRPC listeners on 127.0.0.1; each post is mirrored and fsynced on both before the ack"
          )
        } catch {
          await deployment.stop()
          throw error
        }
        await deployment.stop()
      }
    }
    return report
  }

  /// Users 1…`users` log in, then posts, logins and follows at concurrency 1 and 64.
  func measure(
    _ client: any ClientPort, duration: Duration, echo: [LoadResult], into report: inout ScenarioReport
  )
    async throws
  {
    let users = 128
    let user = try await freshUsers(at: client)
    settings.progress(
      "  logging in \(users) users (\(try user(1)) and up, of cluster \(settings.users.cluster))")
    let logins = await LoadGenerator.run(
      concurrency: 8, duration: .seconds(60), operationsPerWorker: users / 8
    ) {
      worker, index in
      let reply = try await settling {
        try await client.execute(.login, for: try user(worker * (users / 8) + index + 1))
      }
      guard reply.status == .success || reply.status == .alreadyExists else {
        throw BenchError.setup("login: \(reply.status)")
      }
    }
    guard logins.operations == users else {
      throw BenchError.setup(
        "only \(logins.operations) of \(users) logins worked: \(logins.firstError ?? "?")")
    }
    // Posts: each worker posts as its own user, one post at a time.
    var posts: [LoadResult] = []
    let supportsPost =
      (try? await client.execute(.post(try PostText("hello")), for: try user(1)))?.status == .success
    if supportsPost {
      // Warm-up: every posting user's first post creates its timeline file, whose directory entry is fsynced
      // (once per file): a one-time cost per user that would otherwise dominate the first second at c64.
      let maxLevel = levels.max() ?? 1
      _ = await LoadGenerator.run(concurrency: maxLevel, duration: .seconds(60), operationsPerWorker: 1) {
        worker, _ in
        _ = try await client.execute(.post(try PostText("warm-up \(worker)")), for: try user(worker + 1))
      }
      for concurrency in levels {
        settings.progress("  posts at concurrency \(concurrency) for \(duration)")
        let result = await LoadGenerator.run(concurrency: concurrency, duration: duration) { worker, index in
          let reply = try await client.execute(
            .post(try PostText("bench post \(worker) \(index)")), for: try user(worker + 1))
          guard reply.status == .success else { throw BenchError.setup("post: \(reply.status)") }
        }
        posts.append(result)
        report.rows.append(result.row("post (acked)"))
        report.metrics.merge(result.metrics("post.c\(concurrency)")) { _, new in new }
        if let error = result.firstError {
          report.notes.append("post c\(concurrency): \(result.errors) errors, first: \(error)")
        }
      }
    } else {
      report.notes.append(
        "the target does not answer tinysns.internal.v1.ClientExtras/Post: post rows skipped")
    }
    for concurrency in [1, 64] {
      settings.progress("  logins at concurrency \(concurrency) for \(duration)")
      let login = await LoadGenerator.run(concurrency: concurrency, duration: duration) { worker, _ in
        _ = try await client.execute(.login, for: try user(worker + 1))
      }
      report.rows.append(login.row("login (existing user)"))
      report.metrics.merge(login.metrics("login.c\(concurrency)")) { _, new in new }
    }
    // Follows: distinct pairs, so every one is a real (mirrored, fsynced) write: user 1 at concurrency 1,
    // users 65…128 at concurrency 64, each following the others in order.
    // The first follow of each follower (index 0) is a warm-up: it creates the follower's follow file.
    @Sendable func follow(_ follower: Int, _ index: Int) async throws {
      let followee = index + 1 < follower ? index + 1 : index + 2
      let reply = try await client.execute(.follow(try user(followee)), for: try user(follower))
      guard reply.status == .success else { throw BenchError.setup("follow: \(reply.status)") }
    }
    _ = await LoadGenerator.run(concurrency: 64, duration: .seconds(60), operationsPerWorker: 1) {
      worker, _ in
      try await follow(65 + worker, 0)
    }
    try await follow(1, 0)
    for (concurrency, firstFollower) in [(1, 1), (64, 65)] {
      settings.progress("  follows at concurrency \(concurrency) for \(duration)")
      let follow = await LoadGenerator.run(
        concurrency: concurrency, duration: duration, operationsPerWorker: users - 2
      ) { worker, index in
        try await follow(firstFollower + worker, index + 1)
      }
      report.rows.append(follow.row("follow (new pair)"))
      report.metrics.merge(follow.metrics("follow.c\(concurrency)")) { _, new in new }
    }
    for (post, reference) in zip(posts, echo) where post.concurrency == 1 || post.concurrency == 64 {
      let ratio = reference.throughput > 0 ? post.throughput / reference.throughput : 0
      if post.concurrency == 64 {
        report.ratios.append(
          BenchRatio(
            name: "post c64 / raw echo c64 throughput", value: ratio, goal: "≥ 0.50", met: ratio >= 0.5))
      } else {
        report.ratios.append(BenchRatio(name: "post c1 / raw echo c1 throughput", value: ratio))
      }
    }
  }

  /// The bench's users: the `k`-th user of the target's cluster that the target did not know yet, so every
  /// run's logins and follows are new, however often it runs against the same deployment.
  func freshUsers(at client: any ClientPort) async throws -> @Sendable (Int) throws -> UserID {
    let users = settings.users
    let probe = try users.user(1)
    let login = try await settling { try await client.execute(.login, for: probe) }
    guard login.status == .success else {
      throw BenchError.setup(
        "login of user \(probe) refused (\(login.status.rawValue)): is the target the master of cluster \(users.cluster) of \(users.clusterCount)?"
      )
    }
    let known = try await client.execute(.list, for: probe).allUsers.filter(users.contains)
    let skip = known.map(users.index).max() ?? 0
    return { k in try users.user(skip + k) }
  }

  /// Runs a setup call again while the master answers `UNAVAILABLE` (a master that just started may first
  /// pull its slave's records), for up to 30 s.
  func settling<T>(_ call: () async throws -> T) async throws -> T {
    let deadline = ContinuousClock.now + .seconds(30)
    var told = false
    while true {
      do {
        return try await call()
      } catch SNSError.unavailable(let why) where ContinuousClock.now < deadline {
        if !told { settings.progress("  the master is not ready (\(why)); trying again") }
        told = true
        try await Task.sleep(for: .milliseconds(100))
      }
    }
  }
}
