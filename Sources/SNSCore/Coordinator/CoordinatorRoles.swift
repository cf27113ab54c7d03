/// What the coordinator must not forget across a restart: per cluster its epoch and master, and per server
/// whether it may be promoted (its sync generation and whether it caught up in it). Liveness is not here: a
/// restarted coordinator counts every known server alive for one failure timeout and then judges it afresh.
///
/// Every answer the coordinator gives that depends on a change of these is sent only after the change is
/// stored (``CoordinatorRoleStore``), so a restarted coordinator never hands out an epoch again, never forgets
/// a promotion, and never promotes a slave that an earlier run had marked out of sync.
public struct CoordinatorRoles: Hashable, Sendable {
  public struct Server: Hashable, Sendable {
    public var endpoint: Endpoint
    public var syncGeneration: UInt64
    public var inSync: Bool

    public init(endpoint: Endpoint, syncGeneration: UInt64, inSync: Bool) {
      self.endpoint = endpoint
      self.syncGeneration = syncGeneration
      self.inSync = inSync
    }
  }

  public struct Cluster: Hashable, Sendable {
    public var epoch: Epoch
    public var master: ServerID?
    public var servers: [ServerID: Server]

    public init(epoch: Epoch, master: ServerID?, servers: [ServerID: Server]) {
      self.epoch = epoch
      self.master = master
      self.servers = servers
    }
  }

  public var clusters: [ClusterID: Cluster]

  public init(clusters: [ClusterID: Cluster] = [:]) {
    self.clusters = clusters
  }
}

/// Where a coordinator keeps its ``CoordinatorRoles`` between runs.
public protocol CoordinatorRoleStore: Sendable {
  /// The roles saved last, or `nil` if none were ever saved.
  func load() async throws -> CoordinatorRoles?
  /// Replaces the saved roles; durable when it returns.
  func save(_ roles: CoordinatorRoles) async throws
}

extension CoordinatorState {
  /// The part of this state that a restart must not lose.
  public var roles: CoordinatorRoles {
    CoordinatorRoles(
      clusters: clusters.mapValues { cluster in
        CoordinatorRoles.Cluster(
          epoch: cluster.epoch, master: cluster.master,
          servers: cluster.servers.mapValues {
            CoordinatorRoles.Server(
              endpoint: $0.endpoint, syncGeneration: $0.syncGeneration, inSync: $0.inSync)
          })
      })
  }

  /// A coordinator started over the roles an earlier run saved, at `now`. Every known server counts as alive
  /// until it has been silent for a failure timeout from now: a master that died meanwhile is replaced by
  /// an in-sync slave then, after its lease (which ended at most a failure timeout after its last heartbeat
  /// answer, given before this start) has lapsed. No restart grace is needed: nothing is unknown.
  public init(configuration: CoordinatorConfiguration, restoring roles: CoordinatorRoles, now: Timestamp) {
    self.init(configuration: configuration)
    for (id, cluster) in roles.clusters where id.value <= configuration.clusterCount {
      var record = ClusterRecord()
      record.epoch = cluster.epoch
      record.master = cluster.master
      for (serverID, server) in cluster.servers {
        var serverRecord = ServerRecord(
          endpoint: server.endpoint, lastHeartbeat: now, syncGeneration: server.syncGeneration)
        serverRecord.inSync = server.inSync
        record.servers[serverID] = serverRecord
      }
      clusters[id] = record
    }
    firstHeartbeat = now
  }
}
