/// A follower synchronizer F_i. Defaults are the seed's (a round every 30 s).
public struct SynchronizerConfiguration: Hashable, Sendable {
  public var cluster: ClusterID
  /// Where other synchronizers reach this one.
  public var endpoint: Endpoint
  public var clusterCount: Int
  public var syncInterval: Duration
  /// The largest delivery to another synchronizer, in bytes of records (see ``SyncBatch/pages(maxBytes:)``).
  public var transferPageBytes: Int = CatchUpRequest.defaultPageBytes
  /// About how many records a round reads from its master's files before it delivers them and reads on
  /// (whole files at a time): what bounds a first scan's memory.
  public var scanChunkRecords = 10_000
  /// Only the simulation's checker tests set these.
  public var plantedBugs: PlantedBugs = []

  public init(
    cluster: ClusterID, endpoint: Endpoint, clusterCount: Int = 3, syncInterval: Duration = .seconds(30)
  ) {
    self.cluster = cluster
    self.endpoint = endpoint
    self.clusterCount = clusterCount
    self.syncInterval = syncInterval
  }
}

/// The server directories of one cluster (on its machine), which a synchronizer reads and writes.
/// Synchronizers never talk to servers: files are their only channel.
public protocol ServerDirectories: Sendable {
  /// The context store of every server directory of the cluster, by server id.
  func stores() async throws -> [ServerID: any ContextStore]
}
