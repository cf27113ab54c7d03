extension CoordinatorState {
  /// `GetServer`: the live master of the user's cluster.
  public mutating func master(forUser user: UserID, now: Timestamp) -> Result<ServerDescriptor, SNSError> {
    _ = checkLiveness(now: now)
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
    _ = checkLiveness(now: now)
    guard let slave = slaveDescriptor(of: cluster, now: now) else {
      // The master may ask this to find its slave; the answer lets it acknowledge alone.
      markSlavesOutOfSync(cluster)
      return .failure(.unavailable("cluster \(cluster) has no live slave"))
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
    _ = checkLiveness(now: now)
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
