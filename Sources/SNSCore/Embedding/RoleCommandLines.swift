/// The `sns` command lines of one deployment's processes: the one place the flags of `sns coordinator`,
/// `sns server` and `sns synchronizer` are spelled for the programs that start them as children
/// (`sns cluster up`, `sns chaos`, `sns bench` and the integration tests).
///
/// Intervals are written as the command line takes them (`"100ms"`, `"10s"`); ``spelling(_:)`` writes a
/// `Duration` that way.
public struct RoleCommandLines: Sendable, Hashable {
  /// How every child proves it belongs to the deployment.
  public enum Secret: Sendable, Hashable {
    /// `--secret-file PATH`.
    case file(String)
    /// `--insecure`: for a private deployment on loopback that lasts as long as its owner.
    case insecure
  }

  public var coordinatorAddress: String
  public var heartbeat: String
  public var missCount: Int
  public var syncInterval: String
  /// The servers' timeline-mode poll; `nil` keeps the server's default.
  public var timelinePoll: String?
  public var secret: Secret
  public var logLevel: String

  public init(
    coordinatorAddress: String, heartbeat: String, missCount: Int, syncInterval: String,
    timelinePoll: String? = nil, secret: Secret, logLevel: String = "info"
  ) {
    self.coordinatorAddress = coordinatorAddress
    self.heartbeat = heartbeat
    self.missCount = missCount
    self.syncInterval = syncInterval
    self.timelinePoll = timelinePoll
    self.secret = secret
    self.logLevel = logLevel
  }

  /// `duration` as the command line takes it, in whole milliseconds.
  public static func spelling(_ duration: Duration) -> String {
    "\(duration.wholeMilliseconds)ms"
  }

  /// `sns coordinator` for `clusters` clusters, listening on ``coordinatorAddress``.
  public func coordinator(
    clusters: Int, dataDirectory: String?, metricsListen: String? = nil, logLevel: String? = nil
  ) -> [String] {
    var arguments = [
      "coordinator", "--clusters", "\(clusters)", "--heartbeat", heartbeat, "--miss-count", "\(missCount)",
    ]
    if let dataDirectory { arguments += ["--data-dir", dataDirectory] }
    return arguments
      + common(listen: coordinatorAddress, metricsListen: metricsListen, logLevel: logLevel)
  }

  /// `sns server` `id` of `cluster`, keeping its context under the machine directory `machine`.
  public func server(
    cluster: Int, id: Int, listen: String, machine: String, metricsListen: String? = nil,
    logLevel: String? = nil
  ) -> [String] {
    var arguments = [
      "server", "--coordinator", coordinatorAddress, "--cluster", "\(cluster)", "--id", "\(id)",
      "--data-dir", machine, "--heartbeat", heartbeat, "--miss-count", "\(missCount)",
    ]
    if let timelinePoll { arguments += ["--timeline-poll", timelinePoll] }
    return arguments + common(listen: listen, metricsListen: metricsListen, logLevel: logLevel)
  }

  /// `sns synchronizer` of `cluster`, over the machine directory `machine`.
  public func synchronizer(
    cluster: Int, listen: String, machine: String, metricsListen: String? = nil, logLevel: String? = nil
  ) -> [String] {
    [
      "synchronizer", "--coordinator", coordinatorAddress, "--cluster", "\(cluster)", "--data-dir", machine,
      "--sync-interval", syncInterval,
    ] + common(listen: listen, metricsListen: metricsListen, logLevel: logLevel)
  }

  private func common(listen: String, metricsListen: String?, logLevel: String?) -> [String] {
    var arguments = ["--listen", listen, "--log-level", logLevel ?? self.logLevel]
    switch secret {
    case .file(let path): arguments += ["--secret-file", path]
    case .insecure: arguments.append("--insecure")
    }
    if let metricsListen { arguments += ["--metrics-listen", metricsListen] }
    return arguments
  }
}
