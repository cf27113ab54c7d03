import Foundation
import SNSCore

/// `sync`: one synchronizer round that finds Δ = 1,000 new posts, over a small history and over a large one.
/// With cursors the round costs O(files + Δ), not O(history): the two times should be about equal.
struct SyncScenario {
  let settings: BenchSettings
  /// Authors in cluster 1 (odd user ids), each with history/authors posts and delta/authors new posts a round.
  /// Few authors and followers keep the warm-up short: every follow delivered costs an fsync'd file append.
  let authors = 100
  /// Followers in cluster 2 (even user ids), each following every author.
  let followers = 2
  let delta = 1000
  /// Δ rounds per history size. Rounds take tens of milliseconds, so a neighbour's compile job moves a single
  /// one by more than the effect measured: the fastest of many rounds is compared (the least disturbed), and
  /// the median is shown beside it.
  var repetitions: Int { settings.pick(full: 15, quick: 5) }

  struct Measured {
    var history: Int
    var cold: Duration
    /// The first round of a new synchronizer process over the same directories, with Δ new posts.
    var restart: Duration
    var rounds: [Duration]
    var postsSent: [Int]
    var median: Duration { rounds.sorted()[rounds.count / 2] }
    var fastest: Duration { rounds.min() ?? .zero }
  }

  func run() async throws -> ScenarioReport {
    var report = ScenarioReport(
      scenario: "sync", title: "one synchronizer round with Δ = \(delta) new posts, small vs large history",
      columns: [
        "history posts", "cold round ms", "after restart ms", "Δ rounds", "fastest Δ round ms",
        "median Δ round ms", "posts sent",
      ])
    let histories = settings.pick(full: [10_000, 1_000_000], quick: [10_000, 100_000])
    var measured: [Measured] = []
    for history in histories {
      let result = try await withScratchDirectory(settings, "sync") { root in
        try await measure(history: history, root: root)
      }
      measured.append(result)
      report.rows.append([
        "\(history)", BenchFormat.milliseconds(result.cold), BenchFormat.milliseconds(result.restart),
        "\(result.rounds.count)", BenchFormat.milliseconds(result.fastest),
        BenchFormat.milliseconds(result.median),
        result.postsSent.allSatisfy { $0 == delta }
          ? "\(delta) each" : result.postsSent.map(String.init).joined(separator: " / "),
      ])
      report.metrics["sync.h\(history).median_round_ms"] = result.median.milliseconds
      report.metrics["sync.h\(history).fastest_round_ms"] = result.fastest.milliseconds
      report.metrics["sync.h\(history).cold_round_ms"] = result.cold.milliseconds
      report.metrics["sync.h\(history).restart_round_ms"] = result.restart.milliseconds
    }
    if let large = measured.last {
      let seconds = Double(large.restart.milliseconds) / 1000
      report.ratios.append(
        BenchRatio(
          name: "round of a restarted synchronizer at \(large.history) history (s)", value: seconds,
          goal: "≤ 1 s", met: seconds <= 1))
    }
    if let small = measured.first, let large = measured.last, small.fastest > .zero, small.median > .zero {
      let ratio = large.fastest / small.fastest
      report.ratios.append(
        BenchRatio(
          name: "fastest Δ round at \(large.history) / at \(small.history) history", value: ratio,
          goal: "≤ 1.10", met: ratio <= 1.1))
      report.ratios.append(
        BenchRatio(
          name: "median Δ round at \(large.history) / at \(small.history)", value: large.median / small.median
        ))
    }
    report.notes.append(
      "2 clusters over gRPC in this process; \(authors) authors in cluster 1, \(followers) followers in cluster 2 following all of them; history seeded into the master's files, then a cold round (full scan), then \(repetitions) rounds of Δ new posts each"
    )
    return report
  }

  func measure(history: Int, root: String) async throws -> Measured {
    settings.progress("  opening the deployment")
    let deployment = try LoopbackDeployment(
      root: root,
      options: LoopbackDeployment.Options(clusterCount: 2, withSlave: true, heartbeat: .seconds(30)))
    // Registered before the history is seeded: a coordinator that first hears of servers whose files hold
    // data elects no master for a failure timeout (90 s here).
    await deployment.registerAll()
    do {
      settings.progress("  seeding \(history) posts of history")
      let authorIDs = try (1...authors).map { try UserID(2 * $0 - 1) }
      let followerIDs = try (1...followers).map { try UserID(2 * $0) }
      let longAgo = Timestamp(milliseconds: Timestamp.now.milliseconds - 86_400_000)
      let master1 = try DataSeeder(directory: "\(root)/cluster_1/master_1")
      try master1.addUsers(authorIDs)
      let perAuthor = history / authors
      for author in authorIDs {
        try master1.addPosts(by: author, count: perAuthor, firstSequence: 1, time: longAgo)
      }
      // Follows made after the history and before the new posts: the history is not sent, the new posts are.
      let master2 = try DataSeeder(directory: "\(root)/cluster_2/master_1")
      try master2.addUsers(followerIDs)
      let followTime = Timestamp(milliseconds: Timestamp.now.milliseconds - 3_600_000)
      for follower in followerIDs {
        try master2.append(
          authorIDs.enumerated().map { index, author in
            .following(
              FollowEvent(
                kind: .follow, follower: follower, followee: author, sequence: UInt64(index + 1),
                time: followTime))
          }, to: .follows(follower))
      }
      settings.progress("  running the warm-up rounds")
      let (one, two) = (deployment.synchronizers[0], deployment.synchronizers[1])
      try await two.round()  // users and follows of cluster 2 reach cluster 1
      let clock = ContinuousClock()
      let coldStart = clock.now
      try await one.round()  // the full scan of the history
      let cold = clock.now - coldStart
      try await two.round()
      try await one.round()
      var rounds: [Duration] = []
      var sent: [Int] = []
      let perRound = delta / authors
      func addDelta(_ repetition: Int) throws {
        let now = Timestamp.now
        for (index, author) in authorIDs.enumerated() {
          try master1.addPosts(
            by: author, count: perRound, firstSequence: UInt64(perAuthor + repetition * perRound + 1),
            time: Timestamp(milliseconds: now.milliseconds + Int64(index * perRound)))
        }
      }
      for repetition in 0..<repetitions {
        try addDelta(repetition)
        let start = clock.now
        let round = try await one.round()
        rounds.append(clock.now - start)
        sent.append(round.posts)
      }
      settings.progress("  restarting the synchronizer")
      try addDelta(repetitions)
      let restartStart = clock.now
      let restarted = try deployment.restartSynchronizer(of: 1)
      let afterRestart = try await restarted.round()
      let restart = clock.now - restartStart
      guard afterRestart.posts == delta else {
        throw BenchError.unexpected(
          "the restarted synchronizer sent \(afterRestart.posts) posts, expected the \(delta) new ones")
      }
      await deployment.stop()
      return Measured(history: history, cold: cold, restart: restart, rounds: rounds, postsSent: sent)
    } catch {
      await deployment.stop()
      throw error
    }
  }
}
