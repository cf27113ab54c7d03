import Foundation
import SNSCore
import SNSTestSupport
import SNSTransport

/// `catchup`: a real master over a data directory seeded with many posts, then a slave started next to it:
/// how long until the slave's catch-up is done (it logs so), then kill -9 of the master: how long until the
/// promoted slave answers, and whether it holds the whole history (every post line of every timeline file).
struct CatchUpScenario {
  let settings: BenchSettings

  struct Result {
    var bytes: Int
    var catchUp: Duration
    var pages: String
    /// The same slave's catch-up after a restart, with everything already in its files.
    var catchUpAgain: Duration
    var promotion: Duration
    var postsOnNewMaster: Int
  }

  func run() async throws -> ScenarioReport {
    let posts = settings.pick(full: 1_000_000, quick: 50_000)
    // Many small timelines, and few long ones (each user's file about 9 MiB, more than the record cache): a page
    // must cost its own size, not its file's.
    let shapes = [settings.pick(full: 10_000, quick: 1_000), 10]
    var report = ScenarioReport(
      scenario: "catchup", title: "a slave joins a master holding \(posts) posts",
      columns: [
        "users", "posts", "MB", "catch-up s", "pages", "again s", "promotion s", "posts on new master",
      ])
    // The goal is for 1 M posts: a quick run's smaller count gets no verdict.
    let judged = !settings.quick
    for users in shapes {
      let result = try await withProcessGroup(settings, "catchup") { group, root in
        try await measure(group, root: root, users: users, posts: posts)
      }
      report.rows.append([
        "\(users)", "\(posts)", BenchFormat.megabytes(result.bytes / 1024),
        String(format: "%.2f", result.catchUp.seconds), result.pages,
        String(format: "%.2f", result.catchUpAgain.seconds), String(format: "%.2f", result.promotion.seconds),
        "\(result.postsOnNewMaster)",
      ])
      let suffix = users == shapes[0] ? "" : ".\(users)_users"
      report.metrics["catchup\(suffix).seconds"] = result.catchUp.seconds
      report.metrics["catchup\(suffix).again_seconds"] = result.catchUpAgain.seconds
      report.metrics["catchup\(suffix).promotion_seconds"] = result.promotion.seconds
      report.metrics["catchup\(suffix).missing_posts"] = Double(posts - result.postsOnNewMaster)
      report.ratios.append(
        BenchRatio(
          name: "catch-up (\(users) users) / 10 s", value: result.catchUp.seconds / 10,
          goal: judged ? "≤ 1.00 (≤ 10 s)" : nil, met: judged ? result.catchUp <= .seconds(10) : nil))
      report.ratios.append(
        BenchRatio(
          name: "posts missing on the new master (\(users) users)",
          value: Double(posts - result.postsOnNewMaster), goal: "= 0", met: result.postsOnNewMaster == posts))
    }
    report.notes.append(
      "catch-up = from spawning the slave's `sns server` (it registers, is told to catch up, pulls pages of ≤ 1 MiB) to its log line 'catch-up from the master done'"
    )
    report.notes.append(
      "again = the same slave after kill -9 and a restart, catching up with everything already in its files")
    report.notes.append(
      "promotion = from kill -9 of the master to the first Login the slave answers as master (heartbeat 200 ms, 2 misses)"
    )
    return report
  }

  func measure(_ group: ProcessGroup, root: String, users: Int, posts: Int) async throws -> Result {
    settings.progress("  seeding \(users) users and \(posts) posts")
    let dataDirectory = "\(root)/cluster_1"
    let (ids, bytes) = try DataSeeder(directory: "\(dataDirectory)/master_1").seedHistory(
      users: users, posts: posts)
    let coordinatorPort = try freeLoopbackPort()
    let ports = (master: try freeLoopbackPort(), slave: try freeLoopbackPort())
    let heartbeat = Duration.milliseconds(200)
    _ = try await group.startCoordinator(port: coordinatorPort, heartbeat: heartbeat, missCount: 2)
    let dialer = GRPCDialer(options: CallOptions(timeout: .seconds(2)))
    defer { dialer.close() }
    let masterClient = dialer.client(at: try Endpoint(host: "127.0.0.1", port: ports.master))
    let slaveClient = dialer.client(at: try Endpoint(host: "127.0.0.1", port: ports.slave))
    let master = try await group.startServer(
      id: 1, port: ports.master, coordinator: coordinatorPort, dataDirectory: dataDirectory,
      heartbeat: heartbeat, missCount: 2)
    settings.progress("  waiting for the master to answer")
    do {
      try await poll(within: .seconds(120), every: .milliseconds(10)) {
        try await masterClient.execute(.login, for: ids[0]).status == .success
      }
    } catch {
      throw BenchError.setup("the master did not answer: \(master.logTail)")
    }

    settings.progress("  starting the slave; waiting for its catch-up")
    let first = try await group.startServer(
      id: 2, port: ports.slave, coordinator: coordinatorPort, dataDirectory: dataDirectory,
      heartbeat: heartbeat, missCount: 2, logLevel: "notice")
    let (catchUp, doneLine) = try await Self.caughtUp(first)
    settings.progress("  kill -9 of the slave and a restart; waiting for its catch-up of what it holds")
    await first.kill9()
    let slave = try await group.startServer(
      id: 2, port: ports.slave, coordinator: coordinatorPort, dataDirectory: dataDirectory,
      heartbeat: heartbeat, missCount: 2, logLevel: "notice", name: "server-2-restarted")
    let (again, _) = try await Self.caughtUp(slave)

    settings.progress("  kill -9 of the master; waiting for the slave to answer as master")
    await master.kill9()
    let killed = ContinuousClock.now
    do {
      try await poll(within: .seconds(120), every: .milliseconds(10)) {
        try await slaveClient.execute(.login, for: ids[0]).status == .success
      }
    } catch {
      throw BenchError.setup("the slave was not promoted: \(slave.logTail)")
    }
    let promotion = ContinuousClock.now - killed
    let postsOnNewMaster = try Self.postLines(in: "\(dataDirectory)/slave_2")
    return Result(
      bytes: bytes, catchUp: catchUp, pages: Self.field("pages", of: doneLine) ?? "?", catchUpAgain: again,
      promotion: promotion, postsOnNewMaster: postsOnNewMaster)
  }

  /// How long `slave` took from its start to its log line that its catch-up is done, and that line.
  static func caughtUp(_ slave: ChildProcess) async throws -> (Duration, Substring?) {
    var doneLine: Substring?
    do {
      try await poll(within: .seconds(600), every: .milliseconds(10)) {
        let log = (try? String(contentsOfFile: slave.logPath, encoding: .utf8)) ?? ""
        doneLine = log.split(separator: "\n").first { $0.contains("catch-up from the master done") }
        return doneLine != nil
      }
    } catch {
      throw BenchError.setup("the slave did not catch up: \(slave.logTail)")
    }
    return (ContinuousClock.now - slave.started, doneLine)
  }

  /// The value of `name=` in a structured log line.
  static func field(_ name: String, of line: Substring?) -> String? {
    guard let line, let range = line.range(of: "\(name)=") else { return nil }
    return String(line[range.upperBound...].prefix { $0.isNumber })
  }

  /// Lines of every timeline file in `directory`: one post each.
  static func postLines(in directory: String) throws -> Int {
    try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".timeline") }
      .reduce(0) { total, name in
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(name)"))
        return total + data.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
      }
  }
}
