import Logging

/// The follower synchronizer F_i: every sync interval it scans its cluster's active master files and sends
/// new users, follows and posts to the synchronizers that need them; it applies what others send by writing
/// the context files of every server directory of its cluster. It never talks to masters or slaves.
public actor Synchronizer: SynchronizerPort {
  var state: SynchronizerState
  let directories: any ServerDirectories
  let progressStore: any SyncProgressStore
  let coordinator: any CoordinatorPort
  let dialer: any Dialer
  let clock: any SNSClock
  let logger: Logger
  let lease: any SynchronizerLease
  var progressLoaded = false

  public init(
    configuration: SynchronizerConfiguration, directories: any ServerDirectories,
    progressStore: any SyncProgressStore,
    coordinator: any CoordinatorPort, dialer: any Dialer, clock: any SNSClock, logger: Logger,
    lease: any SynchronizerLease = SoleSynchronizer()
  ) {
    self.state = SynchronizerState(configuration: configuration)
    self.lease = lease
    self.directories = directories
    self.progressStore = progressStore
    self.coordinator = coordinator
    self.dialer = dialer
    self.clock = clock
    var logger = logger
    logger[metadataKey: "synchronizer"] = "\(configuration.cluster)"
    self.logger = logger
  }

  var configuration: SynchronizerConfiguration { state.configuration }

  /// Runs a round every sync interval until cancelled, while it holds the lease (else it stands by). A failed
  /// round is retried next time. `afterEachRound` runs after every round, failed or not: what the process
  /// does with the time between rounds (`sns synchronizer` gives the memory a round freed back to the system).
  public func run(afterEachRound: @Sendable () -> Void = {}) async throws {
    var standingBy = false
    while !Task.isCancelled {
      if lease.acquire() {
        if standingBy { logger.notice("the other synchronizer of this cluster is gone; taking over") }
        standingBy = false
        do {
          try await round()
        } catch {
          logger.warning("sync round failed; retrying next interval", metadata: ["error": "\(error)"])
        }
        afterEachRound()
      } else if !standingBy {
        standingBy = true
        logger.notice("another synchronizer serves this cluster; standing by")
      }
      try await clock.sleep(for: configuration.syncInterval)
    }
  }

  /// Statistics of one round, for logs, metrics and tests.
  public struct RoundReport: Hashable, Sendable {
    public var users = 0
    public var follows = 0
    public var posts = 0
    public var destinations: [ClusterID] = []
    public var failed: [ClusterID] = []

    mutating func add(_ other: RoundReport) {
      users += other.users
      follows += other.follows
      posts += other.posts
      destinations = Array(Set(destinations).union(other.destinations)).sorted()
      failed = Array(Set(failed).union(other.failed)).sorted()
    }
  }

  /// One synchronization round (DESIGN.md §5).
  @discardableResult
  public func round() async throws -> RoundReport {
    logger.info("sync round started")
    let started = ContinuousClock.now
    try await coordinator.registerSynchronizer(
      SynchronizerDescriptor(cluster: configuration.cluster, endpoint: configuration.endpoint))
    if !progressLoaded {
      state.onProgressLoaded(try await progressStore.load())
      progressLoaded = true
    }
    let status = try await coordinator.status()
    let peers = Dictionary(
      try await coordinator.synchronizers().map { ($0.cluster, $0.endpoint) },
      uniquingKeysWith: { first, _ in first })
    let stores = try await directories.stores()
    let masterID = status.clusters.first { $0.id == configuration.cluster }?.master
    guard let masterID, let master = stores[masterID] else {
      logger.info("no master directory to scan yet")
      return RoundReport()
    }
    // The history is read in chunks, each delivered (and its progress saved) before the next is read, so a
    // first scan of a large history holds one chunk in memory, not all of it. A failed delivery ends the
    // round: what it read waits for the next.
    var report = RoundReport()
    let files = try await master.files()
    while true {
      let complete = try await scan(master, id: masterID, files: files)
      let chunk = try await deliverPending(from: master, peers: peers)
      report.add(chunk)
      if complete || !chunk.failed.isEmpty || Task.isCancelled { break }
    }
    SNSMetrics.syncRound(
      records: report.users + report.follows + report.posts, duration: ContinuousClock.now - started,
      failed: !report.failed.isEmpty)
    logger.info(
      "sync round finished",
      metadata: [
        "users": "\(report.users)", "follows": "\(report.follows)", "posts": "\(report.posts)",
        "failed": "\(report.failed.map(\.value))",
      ])
    return report
  }

  /// Sends what waits for delivery, and saves the progress.
  func deliverPending(from master: any ContextStore, peers: [ClusterID: Endpoint]) async throws -> RoundReport
  {
    var followerEvents: [UserID: [FollowEvent]] = [:]
    for author in state.authorsWithPendingPosts {
      followerEvents[author] = try await master.records(in: .follows(author)).compactMap {
        if case .follower(let event) = $0 { event } else { nil }
      }
    }
    let plan = state.planRound(followerEvents: followerEvents)
    var report = RoundReport()
    var acknowledged: Set<ClusterID> = []
    for (destination, batch) in plan.batches.sorted(by: { $0.key < $1.key }) {
      report.destinations.append(destination)
      do {
        if destination == configuration.cluster {
          try await send(batch, from: destination) { try await deliver($0) }
        } else if let endpoint = peers[destination] {
          // In pages: after a long pause a round's batch can be any size. Pages are idempotent to resend,
          // so a failure resends the whole batch next round.
          let peer = dialer.synchronizer(at: endpoint)
          for page in batch.pages(maxBytes: configuration.transferPageBytes) {
            try await send(page, from: destination) { try await peer.deliver($0) }
          }
        } else {
          throw SNSError.unavailable("cluster \(destination) has no synchronizer registered")
        }
        acknowledged.insert(destination)
        report.users += batch.users.count
        report.follows += batch.follows.count
        report.posts += batch.posts.count
      } catch {
        report.failed.append(destination)
        logger.warning("delivery failed", metadata: ["to": "\(destination)", "error": "\(error)"])
      }
    }
    // Destinations with nothing to send acknowledge trivially.
    acknowledged.formUnion(Set(state.allClusters).subtracting(plan.batches.keys))
    acknowledged.formIntersection(Set(state.allClusters).subtracting(report.failed))
    state.onRoundDelivered(plan, acknowledged: acknowledged)
    let progress = state.progressToSave()
    try await progressStore.save(progress)
    state.onProgressSaved(progress)
    return report
  }

  /// Reads what the master's files gained since the last scan (or since the saved positions), about
  /// ``SynchronizerConfiguration/scanChunkRecords`` records at a time (whole files of `files`, the
  /// directory's listing at the round's start); returns whether it got to the end of the list.
  func scan(_ master: any ContextStore, id: ServerID, files: [ContextFile]) async throws -> Bool {
    state.onScanStarted(master: id)
    var users: [UserID] = []
    if state.scanResumesAfter == nil {
      users = try await readNew(.users, from: master).compactMap {
        if case .user(let u) = $0 { u } else { nil }
      }
    }
    var follows: [FollowEvent] = []
    var posts: [Post] = []
    var read = 0
    var complete = true
    for file in files where state.scanResumesAfter.map({ file > $0 }) ?? true {
      switch file {
      case .follows(let user) where state.cluster(of: user) == configuration.cluster:
        let records = try await readNew(file, from: master)
        read += records.count
        for case .following(let event) in records where event.follower == user {
          follows.append(event)
        }
      case .timeline(let user) where state.cluster(of: user) == configuration.cluster:
        let records = try await readNew(file, from: master)
        read += records.count
        for case .post(let post) in records where post.author == user {
          posts.append(post)
        }
      case .users, .cursors, .follows, .timeline:
        continue
      }
      if read >= configuration.scanChunkRecords {
        state.onScanPaused(after: file)
        complete = false
        break
      }
    }
    if complete { state.onScanPaused(after: nil) }
    state.onScanned(users: users, follows: follows, posts: posts)
    return complete
  }

  func readNew(_ file: ContextFile, from store: any ContextStore) async throws -> [ContextRecord] {
    let (records, next) = try await store.records(in: file, after: state.position(of: file))
    state.onRead(file, upTo: next)
    return records
  }
}
