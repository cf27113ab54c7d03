extension CoordinatorState {
  /// Events of liveness checks made while answering queries (a promotion can happen there): the wrapper
  /// takes them after each query, so none goes unlogged or uncounted.
  public mutating func takeEvents() -> [Event] {
    defer { unreportedEvents = [] }
    return unreportedEvents
  }

  /// The words of the definitive "no live slave" answer to `GetSlave`. A master acknowledges alone only on
  /// this answer — not when the coordinator could not be asked — so it travels in the status message, which
  /// both the in-memory network and gRPC carry unchanged.
  public static let noLiveSlave = "has no live slave"

  /// `GetServer`: the live master of the user's cluster.
  public mutating func master(forUser user: UserID, now: Timestamp) -> Result<ServerDescriptor, SNSError> {
    unreportedEvents += checkLiveness(now: now)
    let cluster = ClusterID.of(user, clusterCount: configuration.clusterCount)
    guard let master = masterDescriptor(of: cluster, now: now, requireAlive: true) else {
      return .failure(.unavailable("cluster \(cluster) has no live master"))
    }
    return .success(master)
  }

  /// `GetSlave`: the live slave of a cluster.
  public mutating func slave(ofCluster cluster: ClusterID, now: Timestamp) -> Result<
    ServerDescriptor, SNSError
  > {
    guard cluster.value <= configuration.clusterCount else {
      return .failure(.invalidArgument("cluster \(cluster) does not exist"))
    }
    unreportedEvents += checkLiveness(now: now)
    guard let slave = slaveDescriptor(of: cluster, now: now) else {
      // The master may ask this to find its slave; the answer lets it acknowledge alone.
      markSlavesOutOfSync(cluster)
      return .failure(.unavailable("cluster \(cluster) \(Self.noLiveSlave)"))
    }
    return .success(slave)
  }

  /// `GetFollowerServer`: the synchronizer of the user's cluster.
  public func synchronizer(forUser user: UserID) -> Result<SynchronizerDescriptor, SNSError> {
    let cluster = ClusterID.of(user, clusterCount: configuration.clusterCount)
    guard let synchronizer = clusters[cluster]?.synchronizer else {
      return .failure(.unavailable("cluster \(cluster) has no synchronizer"))
    }
    return .success(synchronizer)
  }

  /// `GetFollowerServers`: every registered synchronizer, by cluster.
  public func synchronizers() -> [SynchronizerDescriptor] {
    clusters.keys.sorted().compactMap { clusters[$0]?.synchronizer }
  }

  /// Everything the coordinator knows, in cluster and server order.
  public mutating func status(now: Timestamp) -> CoordinatorStatus {
    unreportedEvents += checkLiveness(now: now)
    let described = (1...configuration.clusterCount).map { number in
      let id = ClusterID(unchecked: number)
      let cluster = clusters[id] ?? ClusterRecord()
      let servers = cluster.servers.keys.sorted().compactMap { serverID -> CoordinatorStatus.Server? in
        guard let record = cluster.servers[serverID] else { return nil }
        return CoordinatorStatus.Server(
          id: serverID, endpoint: record.endpoint, role: cluster.master == serverID ? .master : .slave,
          alive: isAlive(record, now: now), lastHeartbeat: record.lastHeartbeat)
      }
      return CoordinatorStatus.Cluster(
        id: id, epoch: cluster.epoch, master: cluster.master, servers: servers,
        synchronizer: cluster.synchronizer)
    }
    return CoordinatorStatus(now: now, clusters: described)
  }

  func masterDescriptor(of clusterID: ClusterID, now: Timestamp, requireAlive: Bool) -> ServerDescriptor? {
    guard let cluster = clusters[clusterID], let master = cluster.master,
      let record = cluster.servers[master],
      !requireAlive || isAlive(record, now: now)
    else { return nil }
    return ServerDescriptor(cluster: clusterID, id: master, endpoint: record.endpoint, role: .master)
  }

  func slaveDescriptor(of clusterID: ClusterID, now: Timestamp) -> ServerDescriptor? {
    guard let cluster = clusters[clusterID],
      let slave = liveServers(of: cluster, now: now).first(where: { $0 != cluster.master }),
      let record = cluster.servers[slave]
    else { return nil }
    return ServerDescriptor(cluster: clusterID, id: slave, endpoint: record.endpoint, role: .slave)
  }
}
