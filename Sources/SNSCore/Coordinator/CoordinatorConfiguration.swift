/// How the coordinator judges liveness. Defaults are the seed's: heartbeat every 10 s, two misses.
public struct CoordinatorConfiguration: Hashable, Sendable {
  /// Number of clusters N; user `u` belongs to cluster `((u-1) mod N) + 1`.
  public var clusterCount: Int
  /// How often masters and slaves heartbeat.
  public var heartbeatInterval: Duration
  /// Missed heartbeats after which a master is declared dead and its slave promoted.
  public var missCount: Int
  /// The lowest epoch this coordinator hands out. Without stored roles (``CoordinatorRoleStore``) a
  /// restarted coordinator that has not yet heard of the epochs its previous run gave could give one again
  /// (two masters of one epoch); ``startingEpoch(at:)`` makes every run's epochs higher than the runs before.
  public var firstEpoch: Epoch

  public init(
    clusterCount: Int = 3, heartbeatInterval: Duration = .seconds(10), missCount: Int = 2,
    firstEpoch: Epoch = Epoch(1)
  ) {
    precondition(clusterCount > 0 && missCount > 0 && heartbeatInterval > .zero, "validated by the caller")
    self.clusterCount = clusterCount
    self.heartbeatInterval = heartbeatInterval
    self.missCount = missCount
    self.firstEpoch = firstEpoch
  }

  /// A first epoch for a coordinator started at `now`: its milliseconds since the Unix epoch. A run hands out
  /// far fewer than one epoch per millisecond (one per failover), so each run starts above every epoch of
  /// the runs before, as long as the wall clock does not go back between them.
  public static func startingEpoch(at now: Timestamp) -> Epoch {
    Epoch(UInt64(max(1, now.milliseconds)))
  }

  /// Silence after which a server counts as dead: `missCount × heartbeatInterval`.
  public var failureTimeout: Duration { heartbeatInterval * missCount }
}
