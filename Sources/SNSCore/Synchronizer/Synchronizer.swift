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

    public init() {}

    mutating func add(_ other: RoundReport) {
      users += other.users
      follows += other.follows
      posts += other.posts
      destinations = Array(Set(destinations).union(other.destinations)).sorted()
      failed = Array(Set(failed).union(other.failed)).sorted()
    }
  }

  /// One synchronization round (DESIGN.md §5): the steps ``SynchronizerState`` asks for, done one after
  /// another (`SynchronizerState+RoundSteps.swift`).
  @discardableResult
  public func round() async throws -> RoundReport {
    logger.info("sync round started")
    let started = ContinuousClock.now
    try await coordinator.registerSynchronizer(
      SynchronizerDescriptor(cluster: configuration.cluster, endpoint: configuration.endpoint))
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
    var action = state.onRoundStarted(master: masterID, files: try await master.files())
    while true {
      switch action {
      case .loadProgress:
        action = state.onProgressLoaded(try await progressStore.load())
      case .read(let file, let position):
        let (records, next) = try await master.records(in: file, after: position)
        action = state.onRead(file, records: records, upTo: next)
      case .readFollowers(let authors):
        var followerEvents: [UserID: [FollowEvent]] = [:]
        for author in authors {
          followerEvents[author] = try await master.records(in: .follows(author)).compactMap {
            if case .follower(let event) = $0 { event } else { nil }
          }
        }
        action = state.onFollowersRead(followerEvents)
      case .deliver(let plan):
        let (acknowledged, report) = await deliver(plan, peers: peers)
        action = state.onDelivered(plan, acknowledged: acknowledged, report: report)
      case .save(let changes):
        try await progressStore.save(changes)
        action = state.onSaved(changes, stopping: Task.isCancelled)
      case .finish(let report):
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
    }
  }

  /// Sends each batch of `plan` to its cluster (this one's own through ``deliver(_:)``); returns the
  /// destinations that took their batch, and what was sent.
  func deliver(_ plan: SynchronizerState.RoundPlan, peers: [ClusterID: Endpoint]) async -> (
    Set<ClusterID>, RoundReport
  ) {
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
    return (acknowledged, report)
  }

}
