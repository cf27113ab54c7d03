/// Which of several synchronizers of one cluster runs rounds; the others stand by and take over once the
/// holder is gone. The course starts two per cluster (ids i and i+N); one at a time is enough, since each
/// writes every server directory of the cluster.
public protocol SynchronizerLease: Sendable {
  /// Whether this synchronizer holds the lease now, taking it if it is free. Never blocks.
  func acquire() -> Bool
}

/// The lease of a synchronizer that is alone in its cluster.
public struct SoleSynchronizer: SynchronizerLease {
  public init() {}
  public func acquire() -> Bool { true }
}
