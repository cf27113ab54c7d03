import Logging

/// A user's session, as the course client has it: asks the coordinator for its cluster's master, talks only to
/// that master, and after losing it asks again, reconnects, reports where it is now connected
/// (`displayReConnectionMessage`) and replays the pending command.
public actor SNSClient {
  public let user: UserID
  let coordinator: any CoordinatorPort
  let dialer: any Dialer
  let clock: any SNSClock
  let logger: Logger
  let failoverTimeout: Duration
  let retryDelay: Duration
  let onReconnect: @Sendable (Endpoint) -> Void
  /// The master this session talks to; `nil` until the first command.
  public private(set) var master: Endpoint?

  /// - Parameters:
  ///   - failoverTimeout: how long to keep asking the coordinator for a live master before giving up
  ///     (cover `missCount × heartbeat` plus a margin).
  ///   - onReconnect: called with the new master's address once it answered after the previous one was lost.
  public init(
    user: UserID, coordinator: any CoordinatorPort, dialer: any Dialer, clock: any SNSClock, logger: Logger,
    failoverTimeout: Duration = .seconds(30), retryDelay: Duration = .milliseconds(200),
    onReconnect: @escaping @Sendable (Endpoint) -> Void = { _ in }
  ) {
    self.user = user
    self.coordinator = coordinator
    self.dialer = dialer
    self.clock = clock
    self.logger = logger
    self.failoverTimeout = failoverTimeout
    self.retryDelay = retryDelay
    self.onReconnect = onReconnect
  }

  /// Runs `command` at the user's master, failing over as needed. A write gets a ``RequestKey`` first, sent
  /// with every retry, so that a retry after a lost reply finds the first attempt instead of writing twice.
  public func execute(_ command: Command) async throws -> Reply {
    var keyed = command
    switch command {
    case .post(let text, nil): keyed = .post(text, key: .random())
    case .follow(let target, nil): keyed = .follow(target, key: .random())
    case .unfollow(let target, nil): keyed = .unfollow(target, key: .random())
    case .login, .list, .post, .follow, .unfollow: break
    }
    return try await withFailover { [keyed] port in try await port.execute(keyed, for: self.user) }
  }

  /// Enters timeline mode at the user's master.
  public func timeline() async throws -> TimelineSubscription {
    try await withFailover { port in try await port.timeline(for: self.user) }
  }

  /// Calls `body` at the current master; on `UNAVAILABLE` or "not master" asks the coordinator again and
  /// retries until `failoverTimeout` has passed.
  func withFailover<T: Sendable>(_ body: @Sendable (any ClientPort) async throws -> T) async throws -> T {
    let deadline = clock.now() + failoverTimeout
    var lastError: any Error = SNSError.unavailable("no master found")
    var attempts = 0
    while true {
      attempts += 1
      do {
        let endpoint = try await currentMaster()
        let result = try await body(dialer.client(at: endpoint))
        // Said once, when a master answered again: not for each address tried while the cluster fails over.
        if lostMaster {
          lostMaster = false
          onReconnect(endpoint)
        }
        return result
      } catch let error as SNSError {
        switch error {
        case .unavailable, .notMaster, .deadlineExceeded:
          lastError = error
          let previous = master
          master = nil
          if previous != nil { lostMaster = true }
          logger.info(
            "master unavailable; asking the coordinator again",
            metadata: ["error": "\(error)", "was": "\(previous.map(String.init(describing:)) ?? "-")"])
        case .invalidArgument, .staleEpoch, .unauthenticated, .storage:
          throw error
        }
      }
      // The first retry goes straight to the coordinator: the master may have moved already.
      if attempts == 1 { continue }
      guard clock.now() < deadline else { throw lastError }
      try await clock.sleep(for: retryDelay)
    }
  }

  /// A master this session talked to stopped answering, and no master has answered since.
  var lostMaster = false

  /// Something this session got from its master (a timeline stream) failed the way a lost master does: the
  /// next call asks the coordinator again, and says so once a master answered.
  public func masterLost() {
    guard master != nil else { return }
    master = nil
    lostMaster = true
  }

  func currentMaster() async throws -> Endpoint {
    if let master { return master }
    let found = try await coordinator.master(forUser: user).endpoint
    master = found
    return found
  }
}
