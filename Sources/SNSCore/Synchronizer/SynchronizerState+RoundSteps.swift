/// A synchronization round (DESIGN.md §5) as inputs and actions: the state says what to read, send or save
/// next, the ``Synchronizer`` actor does it and hands the result back, until the state says the round is
/// over. A thrown error (a file that cannot be read, progress that cannot be saved) ends the round in the
/// actor; what was read but not delivered waits for the next round.
extension SynchronizerState {
  /// What the actor does next in a round.
  public enum RoundAction: Hashable, Sendable {
    /// Read the saved progress (once per process) and hand it to ``onProgressLoaded(_:)``.
    case loadProgress
    /// Read `file` of the master after `position`, and hand the records to ``onRead(_:records:upTo:)``.
    case read(ContextFile, after: FilePosition)
    /// Read the follower records of these authors and hand them to ``onFollowersRead(_:)``.
    case readFollowers([UserID])
    /// Send each batch of the plan to its cluster and hand the clusters that took theirs to
    /// ``onDelivered(_:acknowledged:report:)``.
    case deliver(RoundPlan)
    /// Make these changes of the progress durable and say so with ``onSaved(_:)``.
    case save(SyncProgress.Changes)
    /// The round is over.
    case finish(Synchronizer.RoundReport)
  }

  /// Where the round in progress is.
  struct RoundInProgress: Hashable, Sendable {
    var master: ServerID
    /// The master's context files when the round started.
    var listing: [ContextFile]
    /// The files this pass over the listing reads, in order, and the next of them.
    var files: [ContextFile] = []
    var next = 0
    /// Records read in the current chunk.
    var readInChunk = 0
    /// What the chunks so far delivered.
    var report = Synchronizer.RoundReport()
    /// Whether the last chunk read the listing to its end.
    var complete = false
    /// What the current chunk found.
    var users: [UserID] = []
    var follows: [FollowEvent] = []
    var posts: [Post] = []
  }

  /// A round begins over the files of `master` (`files`: its directory's listing now). The history is read in
  /// chunks of about ``SynchronizerConfiguration/scanChunkRecords`` records, each delivered (and its progress
  /// saved) before the next is read, so a first scan of a long history holds one chunk in memory.
  public mutating func onRoundStarted(master: ServerID, files: [ContextFile]) -> RoundAction {
    round = RoundInProgress(master: master, listing: files)
    return progressLoaded ? startChunk() : .loadProgress
  }

  /// Restores the saved progress: cursors, and positions in the files of the master scanned last. In a
  /// round, its first step.
  @discardableResult
  public mutating func onProgressLoaded(_ progress: SyncProgress) -> RoundAction {
    restore(progress)
    progressLoaded = true
    return round == nil ? .finish(.init()) : startChunk()
  }

  /// `file` held `records` after the position the read was asked for, up to `next`.
  public mutating func onRead(_ file: ContextFile, records: [ContextRecord], upTo next: FilePosition)
    -> RoundAction
  {
    onRead(file, upTo: next)
    guard var round else { return .finish(.init()) }
    switch file {
    case .users:
      for case .user(let user) in records { round.users.append(user) }
    case .follows(let user):
      round.readInChunk += records.count
      for case .following(let event) in records where event.follower == user { round.follows.append(event) }
    case .timeline(let user):
      round.readInChunk += records.count
      for case .post(let post) in records where post.author == user { round.posts.append(post) }
    case .cursors:
      break
    }
    round.next += 1
    self.round = round
    return nextRead()
  }

  /// The follower records in the follow file of each author with pending posts.
  public func onFollowersRead(_ followerEvents: [UserID: [FollowEvent]]) -> RoundAction {
    .deliver(planRound(followerEvents: followerEvents))
  }

  /// The clusters in `acknowledged` took their batches of `plan`; `report` counts what was sent and which
  /// destinations failed.
  public mutating func onDelivered(
    _ plan: RoundPlan, acknowledged: Set<ClusterID>, report: Synchronizer.RoundReport
  ) -> RoundAction {
    // Destinations with nothing to send acknowledge trivially; a failed one acknowledges nothing.
    var taken = acknowledged.union(Set(allClusters).subtracting(plan.batches.keys))
    taken.formIntersection(Set(allClusters).subtracting(report.failed))
    onRoundDelivered(plan, acknowledged: taken)
    round?.report.add(report)
    return .save(progressToSave())
  }

  /// `changes` are durable: the next chunk, or the end of the round (after the last chunk, after a failed
  /// delivery — what it had to send waits for the next round — or when the process is `stopping`).
  public mutating func onSaved(_ changes: SyncProgress.Changes, stopping: Bool = false) -> RoundAction {
    onProgressSaved(changes)
    guard let round else { return .finish(.init()) }
    guard !round.complete, round.report.failed.isEmpty, !stopping else {
      self.round = nil
      return .finish(round.report)
    }
    return startChunk()
  }

  /// Starts (or resumes, after the file the last chunk paused at) the scan of the round's listing. The users
  /// file is read at the start of each pass over the list; then this cluster's users' own files.
  private mutating func startChunk() -> RoundAction {
    guard var round else { return .finish(.init()) }
    onScanStarted(master: round.master)
    let resumeAfter = scanResumesAfter
    round.files = resumeAfter == nil && round.listing.contains(.users) ? [.users] : []
    round.files += round.listing.filter { file in
      guard resumeAfter.map({ file > $0 }) ?? true else { return false }
      switch file {
      case .follows(let user), .timeline(let user): return cluster(of: user) == configuration.cluster
      case .users, .cursors: return false
      }
    }
    round.next = 0
    round.readInChunk = 0
    self.round = round
    return nextRead()
  }

  /// The next file to read, or the end of the chunk: what it found is taken, and its delivery planned.
  private mutating func nextRead() -> RoundAction {
    guard var round else { return .finish(.init()) }
    if round.readInChunk < max(1, configuration.scanChunkRecords), round.next < round.files.count {
      let file = round.files[round.next]
      return .read(file, after: position(of: file))
    }
    round.complete = round.next >= round.files.count
    onScanPaused(after: round.complete ? nil : round.files[round.next - 1])
    onScanned(users: round.users, follows: round.follows, posts: round.posts)
    round.users = []
    round.follows = []
    round.posts = []
    self.round = round
    return .readFollowers(authorsWithPendingPosts)
  }
}
