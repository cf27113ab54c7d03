extension CoordinatorState {
  /// Events of liveness checks made while answering queries (a promotion can happen there): the wrapper
  /// takes them after each query, so none goes unlogged or uncounted.
  public mutating func takeEvents() -> [Event] {
    defer { unreportedEvents = [] }
    return unreportedEvents
  }

  /// `GetServer`: the live master of the user's cluster.
  public mutating func master(forUser user: UserID, now: Timestamp) -> Result<ServerDescriptor, SNSError> {
    unreportedEvents += checkLiveness(now: now)
    let cluster = ClusterID.of(user, clusterCount: configuration.clusterCount)
    guard let master = masterDescriptor(of: cluster, now: now, requireAlive: true) else {
      return .failure(.unavailable("cluster \(cluster) has no live master"))
    }
    return .success(master)
  }

  /// `GetSlave`: the live slave of a cluster. A plain lookup: it changes nothing (masters ask
  /// ``slave(for:now:)``, which knows who asks).
  public mutating func slave(ofCluster cluster: ClusterID, now: Timestamp) -> Result<
    ServerDescriptor, SNSError
  > {
    guard cluster.value <= configuration.clusterCount else {
      return .failure(.invalidArgument("cluster \(cluster) does not exist"))
    }
    unreportedEvents += checkLiveness(now: now)
    guard let slave = slaveDescriptor(of: cluster, now: now) else {
      return .failure(.unavailable("cluster \(cluster) has no live slave"))
    }
    return .success(slave)
  }

  /// A master asks for its slave before writing without one. Only the master of the cluster's current epoch is
  /// answered; "no live slave" lets it acknowledge alone, so it moves every slave to a new sync generation.
  ///
  /// Answering whoever asked would let a master that was just replaced (its lease was valid when the command
  /// arrived, the answer comes after the promotion) acknowledge alone, with the marking falling on itself
  /// instead of on the new master's slaves, and the write would be lost.
  public mutating func slave(for query: SlaveQuery, now: Timestamp) -> Result<SlaveAnswer, SNSError> {
    guard query.cluster.value <= configuration.clusterCount else {
      return .failure(.invalidArgument("cluster \(query.cluster) does not exist"))
    }
    unreportedEvents += checkLiveness(now: now)
    guard let cluster = clusters[query.cluster], cluster.master == query.server, cluster.epoch == query.epoch
    else {
      return .failure(.staleEpoch(current: clusters[query.cluster]?.epoch ?? .zero))
    }
    guard let slave = slaveDescriptor(of: query.cluster, now: now) else {
      // Right after a restart this coordinator may not have heard yet from a newer master of this cluster
      // (the asker may be a paused, deposed one), so it lets no master write alone until every server had a
      // failure timeout to report; writes mirrored to a slave go on meanwhile (a slave refuses a stale epoch).
      if inRestartGrace(now: now) {
        return .failure(
          .unavailable(
            "the coordinator restarted; no write without a slave until it has heard from every server"))
      }
      markSlavesOutOfSync(query.cluster)
      return .success(.noLiveSlave)
    }
    return .success(.slave(slave))
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
