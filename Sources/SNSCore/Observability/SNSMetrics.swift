import Metrics

/// The metrics Tiny SNS reports through swift-metrics, by name, so every role and every dashboard agree.
///
/// Handles are made at each use rather than once: a process bootstraps its metrics backend (`MetricsSystem`)
/// in `main`, and a handle made before that would stay bound to the no-op backend for good. Backends such as
/// swift-prometheus return the same underlying metric for the same name and dimensions, so this is cheap.
/// Without a bootstrapped backend (tests, embedding) every call is a no-op.
public enum SNSMetrics {
  /// Metric names, as Prometheus shows them.
  public enum Name {
    /// Counter: client commands a server executed, by `command` (login, follow, unfollow, list, post).
    public static let requests = "sns_requests_total"
    /// Histogram: time for the master's mirror call to its slave to be answered.
    public static let mirrorLatency = "sns_mirror_latency_seconds"
    /// Histogram: time of one `fsync` of a context file (the durability cost of every acknowledged write).
    public static let fsyncLatency = "sns_fsync_latency_seconds"
    /// Histogram: records (users + follows + posts) a synchronizer sent in one round.
    public static let syncRoundSize = "sns_sync_round_records"
    /// Histogram: wall time of one synchronization round.
    public static let syncRoundTime = "sns_sync_round_seconds"
    /// Counter: synchronization rounds finished, by `outcome` (ok, failed).
    public static let syncRounds = "sns_sync_rounds_total"
    /// Counter: heartbeats the coordinator received.
    public static let heartbeats = "sns_heartbeats_total"
    /// Counter: servers the coordinator declared dead after missed heartbeats.
    public static let heartbeatsMissed = "sns_heartbeats_missed_total"
    /// Counter: slaves the coordinator promoted to master.
    public static let promotions = "sns_promotions_total"
    /// Counter: saves of the coordinator's roles that failed (its answers wait until one succeeds).
    public static let roleSaveFailures = "sns_coordinator_role_save_failures_total"
    /// Counter: `flock` waits given up because another process held a context file's lock too long (a
    /// paused or stuck writer).
    public static let lockTimeouts = "sns_lock_timeouts_total"
  }

  /// Counts one lock wait given up.
  public static func lockTimedOut() { Counter(label: Name.lockTimeouts).increment() }

  /// Counts one client command (`login`, `follow`, …) a server was asked to execute.
  public static func request(_ command: Command) {
    let name: String
    switch command {
    case .login: name = "login"
    case .follow: name = "follow"
    case .unfollow: name = "unfollow"
    case .list: name = "list"
    case .post: name = "post"
    }
    Counter(label: Name.requests, dimensions: [("command", name)]).increment()
  }

  /// Times the master's mirror call to its slave.
  public static var mirrorLatency: Timer { Timer(label: Name.mirrorLatency) }

  /// Times one `fsync` of a context file.
  public static var fsyncLatency: Timer { Timer(label: Name.fsyncLatency) }

  /// Records one synchronization round: how much it sent, how long it took, whether a delivery failed.
  public static func syncRound(records: Int, duration: Duration, failed: Bool) {
    Recorder(label: Name.syncRoundSize).record(records)
    Timer(label: Name.syncRoundTime).record(duration: duration)
    Counter(label: Name.syncRounds, dimensions: [("outcome", failed ? "failed" : "ok")]).increment()
  }

  /// Counts the coordinator's bookkeeping: heartbeats in, servers lost, slaves promoted, failed saves.
  public static func coordinator(_ event: CoordinatorEvent) {
    switch event {
    case .heartbeat: Counter(label: Name.heartbeats).increment()
    case .serverLost: Counter(label: Name.heartbeatsMissed).increment()
    case .promotion: Counter(label: Name.promotions).increment()
    case .roleSaveFailed: Counter(label: Name.roleSaveFailures).increment()
    }
  }

  /// What ``coordinator(_:)`` counts.
  public enum CoordinatorEvent: Sendable {
    case heartbeat
    case serverLost
    case promotion
    case roleSaveFailed
  }
}
