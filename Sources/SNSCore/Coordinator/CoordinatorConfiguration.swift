/// How the coordinator judges liveness. Defaults are the seed's: heartbeat every 10 s, two misses.
public struct CoordinatorConfiguration: Hashable, Sendable {
  /// Number of clusters N; user `u` belongs to cluster `((u-1) mod N) + 1`.
  public var clusterCount: Int
  /// How often masters and slaves heartbeat.
  public var heartbeatInterval: Duration
  /// Missed heartbeats after which a master is declared dead and its slave promoted.
  public var missCount: Int

  public init(clusterCount: Int = 3, heartbeatInterval: Duration = .seconds(10), missCount: Int = 2) {
    precondition(clusterCount > 0 && missCount > 0 && heartbeatInterval > .zero, "validated by the caller")
    self.clusterCount = clusterCount
    self.heartbeatInterval = heartbeatInterval
    self.missCount = missCount
  }

  /// Silence after which a server counts as dead: `missCount × heartbeatInterval`.
  public var failureTimeout: Duration { heartbeatInterval * missCount }
}
