import SNSCore
import Testing

/// A synchronizer's round driven as values: the test plays the actor, answering each action from files in
/// a dictionary, with no I/O, clock or network.
@Suite("SynchronizerState round steps")
struct SynchronizerRoundStepsTests {
  /// Cluster 1 of 3, reading chunks of about 4 records.
  let configuration: SynchronizerConfiguration = {
    var configuration = SynchronizerConfiguration(
      cluster: cluster(1), endpoint: endpoint("s1:1"), clusterCount: 3)
    configuration.scanChunkRecords = 4
    return configuration
  }()

  /// Cluster 1 of 3: users 1, 4 and 7 post; user 2 (cluster 2) followed each of them from the start.
  func files(postsEach: Int) -> [ContextFile: [ContextRecord]] {
    var files: [ContextFile: [ContextRecord]] = [.users: [1, 4, 7].map { .user(user($0)) }]
    for author in [1, 4, 7] {
      files[.timeline(user(author))] = (1...postsEach).map { sequence in
        .post(
          Post(
            id: PostID(author: user(author), sequence: UInt64(sequence)),
            time: Timestamp(milliseconds: Int64(100 + sequence)), text: text("\(author)-\(sequence)")))
      }
      files[.follows(user(author))] = [
        .follower(
          FollowEvent(
            kind: .follow, follower: user(2), followee: user(author), sequence: 1,
            time: Timestamp(milliseconds: 1)))
      ]
    }
    // Another cluster's user's file (delivered here) is not this synchronizer's to scan.
    files[.timeline(user(2))] = files[.timeline(user(1))]
    return files
  }

  /// What a round did: the posts sent to each cluster, in order, and how many chunks it delivered.
  struct Played {
    var sent: [ClusterID: [PostID]] = [:]
    var deliveries = 0
    var report = Synchronizer.RoundReport()
  }

  /// Plays one round of `state` over `files`; `failing` clusters refuse their batches.
  func play(
    _ state: inout SynchronizerState, _ files: [ContextFile: [ContextRecord]], failing: Set<ClusterID> = [],
    saved: inout SyncProgress
  ) -> Played {
    var played = Played()
    var action = state.onRoundStarted(master: server(1), files: files.keys.sorted())
    for _ in 0..<10_000 {
      switch action {
      case .loadProgress:
        action = state.onProgressLoaded(saved)
      case .read(let file, let position):
        let records = files[file] ?? []
        let start = min(Int(position.offset), records.count)
        action = state.onRead(
          file, records: Array(records[start...]), upTo: FilePosition(offset: Int64(records.count)))
      case .readFollowers(let authors):
        var events: [UserID: [FollowEvent]] = [:]
        for author in authors {
          events[author] = (files[.follows(author)] ?? []).compactMap {
            if case .follower(let event) = $0 { event } else { nil }
          }
        }
        action = state.onFollowersRead(events)
      case .deliver(let plan):
        played.deliveries += 1
        var report = Synchronizer.RoundReport()
        var acknowledged: Set<ClusterID> = []
        for (destination, batch) in plan.batches {
          if failing.contains(destination) {
            report.failed.append(destination)
            continue
          }
          acknowledged.insert(destination)
          played.sent[destination, default: []] += batch.posts.map(\.id)
          report.posts += batch.posts.count
        }
        action = state.onDelivered(plan, acknowledged: acknowledged, report: report)
      case .save(let changes):
        saved.apply(changes)
        action = state.onSaved(changes)
      case .finish(let report):
        played.report = report
        return played
      }
    }
    Issue.record("the round did not finish")
    return played
  }

  @Test("a long history is read and delivered in chunks, every post exactly once, in one round")
  func chunks() {
    var state = SynchronizerState(configuration: configuration)
    var saved = SyncProgress()
    let files = files(postsEach: 5)
    let played = play(&state, files, saved: &saved)
    // Three timelines of 5 posts in chunks of at least 4 records: one chunk per file.
    #expect(played.deliveries == 3)
    #expect(played.report.posts == 15)
    #expect(played.sent[cluster(2)]?.count == 15)
    #expect(Set(played.sent[cluster(2)] ?? []).count == 15)
    #expect(played.sent[cluster(3)]?.isEmpty ?? true)
    // Nothing new: the next round reads from the saved positions and sends nothing.
    let again = play(&state, files, saved: &saved)
    #expect(again.report.posts == 0)
    // A new process resumes from the saved progress and sends nothing either.
    var restarted = SynchronizerState(configuration: configuration)
    #expect(play(&restarted, files, saved: &saved).report.posts == 0)
  }

  @Test("a failed delivery ends the round; the next round sends what it had to, and only that")
  func failedDelivery() {
    var state = SynchronizerState(configuration: configuration)
    var saved = SyncProgress()
    let files = files(postsEach: 5)
    let failed = play(&state, files, failing: [cluster(2)], saved: &saved)
    #expect(failed.deliveries == 1)
    #expect(failed.report.failed == [cluster(2)])
    #expect(failed.sent[cluster(2)] == nil)
    // Restarted after the failure: nothing read but undelivered was saved as done.
    var restarted = SynchronizerState(configuration: configuration)
    let retried = play(&restarted, files, saved: &saved)
    #expect(retried.report.failed.isEmpty)
    #expect(retried.sent[cluster(2)]?.count == 15)
    #expect(Set(retried.sent[cluster(2)] ?? []).count == 15)
  }
}
