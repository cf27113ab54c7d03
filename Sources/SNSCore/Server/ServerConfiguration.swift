/// One master/slave server process: where it is, and its intervals. Defaults are the seed's.
public struct ServerConfiguration: Hashable, Sendable {
  public var cluster: ClusterID
  public var id: ServerID
  /// The address clients and the slave reach this server at (what the coordinator hands out).
  public var endpoint: Endpoint
  public var clusterCount: Int
  public var heartbeatInterval: Duration
  /// Must match the coordinator's: a master stops taking writes once `missCount × heartbeatInterval` passed
  /// since the last heartbeat the coordinator confirmed, before the coordinator may promote its slave.
  public var missCount: Int
  /// How often timeline mode checks the timeline file's modification time.
  public var timelinePollInterval: Duration
  /// Posts entering timeline mode shows first.
  public var timelineInitialCount: Int
  public var postLimits: PostLimits
  /// The largest page of a catch-up, reconcile or mirror backlog, in bytes of records (at least one record
  /// goes in each): far below the transport's message limit, whatever the data size.
  public var transferPageBytes: Int = CatchUpRequest.defaultPageBytes
  /// Off in deployment; the simulation's self-test switches them on (see ``PlantedBugs``).
  public var plantedBugs: PlantedBugs = []

  public init(
    cluster: ClusterID, id: ServerID, endpoint: Endpoint, clusterCount: Int = 3,
    heartbeatInterval: Duration = .seconds(10), missCount: Int = 2,
    timelinePollInterval: Duration = .milliseconds(500), timelineInitialCount: Int = 20,
    postLimits: PostLimits = .default
  ) {
    self.cluster = cluster
    self.id = id
    self.endpoint = endpoint
    self.clusterCount = clusterCount
    self.heartbeatInterval = heartbeatInterval
    self.missCount = missCount
    self.timelinePollInterval = timelinePollInterval
    self.timelineInitialCount = timelineInitialCount
    self.postLimits = postLimits
  }

  /// How long a confirmed heartbeat lets a master take writes.
  public var lease: Duration { heartbeatInterval * missCount }
}
