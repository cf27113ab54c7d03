/// The coordinator's decisions as a value: who is alive, who is master of which cluster in which epoch.
/// No I/O and no clock: every input carries `now`. ``Coordinator`` wraps it.
public struct CoordinatorState: Sendable {
  public let configuration: CoordinatorConfiguration

  struct ServerRecord: Hashable, Sendable {
    var endpoint: Endpoint
    var lastHeartbeat: Timestamp
    /// Raised each time the server may have missed writes (its master was told there is no slave, or the
    /// master changed). A slave is in sync once it reports a catch-up of the current generation.
    var syncGeneration: UInt64 = 1
    /// Whether the server, as slave, holds every write its master acknowledged: only such a slave is promoted.
    /// A master acknowledges alone only after `slave(ofCluster:)` told it there is no live slave, and that
    /// answer marks every slave out of sync until it catches up again — so no promotion can lose an acknowledged
    /// write, while a slave that merely missed a heartbeat (and so missed nothing) stays promotable.
    var inSync = false
    /// Whether it has been silent past the failure timeout since its last heartbeat, and was moved to a new
    /// generation for it (once per silence; see ``markDeadSlavesOutOfSync(now:)``).
    var heldDead = false
  }

  struct ClusterRecord: Hashable, Sendable {
    var servers: [ServerID: ServerRecord] = [:]
    /// The server holding the master role of `epoch`; it keeps it until it is found dead and a live slave exists.
    var master: ServerID?
    var epoch: Epoch = .zero
    var synchronizer: SynchronizerDescriptor?
  }

  var clusters: [ClusterID: ClusterRecord] = [:]
  /// When this coordinator heard its first heartbeat (or was restored from stored roles). Started without
  /// stored roles, it learns the epochs and the masters from the servers' heartbeats, and elects no master
  /// among servers that had roles before until the old master had a failure timeout to speak up (by then its
  /// lease has lapsed).
  var firstHeartbeat: Timestamp?
  /// Whether a server first heard of reported an epoch, a role or data (see ``onHeartbeat(_:now:)``).
  var servedBefore = false
  /// See ``takeEvents()``.
  var unreportedEvents: [Event] = []

  public init(configuration: CoordinatorConfiguration) {
    self.configuration = configuration
  }

  // MARK: Heartbeats

  /// Something worth a log line and a metric, produced while handling an input.
  public enum Event: Hashable, Sendable {
    case serverRegistered(ClusterID, ServerID, Endpoint)
    case becameMaster(ClusterID, ServerID, Epoch)
    case promoted(ClusterID, from: ServerID, to: ServerID, Epoch)
    case serverLost(ClusterID, ServerID)
    /// A server reported that it is master of an epoch this coordinator had not seen (it restarted).
    case masterAdopted(ClusterID, ServerID, Epoch)
  }

  /// A master's or slave's heartbeat: refreshes its liveness and returns the role it must take.
  /// A server that is not the cluster's master is its slave; a returning old master learns here that it was
  /// replaced, with the new epoch.
  public mutating func onHeartbeat(_ beat: ServerHeartbeat, now: Timestamp) -> Result<
    (RoleAssignment, [Event]), SNSError
  > {
    guard beat.cluster.value <= configuration.clusterCount else {
      return .failure(
        .invalidArgument("cluster \(beat.cluster) does not exist (there are \(configuration.clusterCount))"))
    }
    let started = firstHeartbeat ?? now
    firstHeartbeat = started
    var events = checkLiveness(now: now)
    var cluster = clusters[beat.cluster, default: ClusterRecord()]
    // A server this coordinator never assigned anything, with an epoch, a role or data: the deployment served
    // before, and this coordinator (or the whole deployment) restarted.
    if cluster.servers[beat.server] == nil && (beat.epoch > .zero || beat.role != nil || beat.holdsData) {
      servedBefore = true
    }
    var record: ServerRecord
    if let known = cluster.servers[beat.server] {
      record = known
      // A slave back from being held dead was moved to a new generation by the liveness check above
      // (``markDeadSlavesOutOfSync(now:)``), so a catch-up it reports from before does not count.
      if beat.epoch == cluster.epoch && beat.caughtUpGeneration == known.syncGeneration {
        record.inSync = true
      }
    } else {
      // A generation from before this coordinator started means nothing to it: such a slave catches up once
      // more (a generation above the one it reports) before it can be promoted.
      record = ServerRecord(
        endpoint: beat.endpoint, lastHeartbeat: now, syncGeneration: beat.caughtUpGeneration + 1)
      events.append(.serverRegistered(beat.cluster, beat.server, beat.endpoint))
    }
    record.endpoint = beat.endpoint
    record.lastHeartbeat = now
    record.heldDead = false
    cluster.servers[beat.server] = record
    if beat.epoch > cluster.epoch {
      // An epoch this coordinator never handed out: it restarted. It never hands out a lower one; the master
      // of that epoch stays master, and a master of an older one it adopted meanwhile is master no more.
      cluster.epoch = beat.epoch
      cluster.master = nil
      markSlavesOutOfSync(in: &cluster)
    }
    if cluster.master == nil && beat.role == .master && beat.epoch == cluster.epoch && beat.epoch > .zero {
      cluster.master = beat.server
      events.append(.masterAdopted(beat.cluster, beat.server, beat.epoch))
    }
    // In a deployment that served before, a cluster's master may be alive and not yet heard from until every
    // server had a failure timeout to report, so no one else is made master before; a fresh deployment gets
    // its masters at once.
    if cluster.master == nil && !inRestartGrace(now: now) {
      // First server of the cluster, or the only one returning: it is master of a new epoch.
      cluster.master = beat.server
      cluster.epoch = max(cluster.epoch.next, configuration.firstEpoch)
      events.append(.becameMaster(beat.cluster, beat.server, cluster.epoch))
    }
    clusters[beat.cluster] = cluster
    let role: Role = cluster.master == beat.server ? .master : .slave
    // A heartbeat answer without a slave does not mark anyone out of sync: before it acknowledges alone, a
    // master asks ``slave(for:now:)``, and that answer does. Idle moments of a slow slave cost nothing.
    let slave = slaveDescriptor(of: beat.cluster, now: now)
    let assignment = RoleAssignment(
      role: role, epoch: cluster.epoch,
      master: masterDescriptor(of: beat.cluster, now: now, requireAlive: false), slave: slave,
      syncGeneration: clusters[beat.cluster]?.servers[beat.server]?.syncGeneration ?? record.syncGeneration,
      heartbeatInterval: configuration.heartbeatInterval, missCount: configuration.missCount)
    return .success((assignment, events))
  }

  /// Whether this coordinator started less than a failure timeout ago in a deployment that served before:
  /// a master it has not heard from yet may be alive, so it elects no master and lets none write alone.
  func inRestartGrace(now: Timestamp) -> Bool {
    guard servedBefore, let started = firstHeartbeat else { return false }
    return now - started < configuration.failureTimeout
  }

  /// Registers (or refreshes) the synchronizer of a cluster.
  public mutating func onSynchronizerRegistration(_ synchronizer: SynchronizerDescriptor) -> Result<
    Void, SNSError
  > {
    guard synchronizer.cluster.value <= configuration.clusterCount else {
      return .failure(.invalidArgument("cluster \(synchronizer.cluster) does not exist"))
    }
    clusters[synchronizer.cluster, default: ClusterRecord()].synchronizer = synchronizer
    return .success(())
  }

  // MARK: Liveness

  /// Promotes the live slave of every cluster whose master has been silent for `missCount × heartbeatInterval`.
  /// Called on a timer and before answering anything, so answers never name a dead master.
  public mutating func checkLiveness(now: Timestamp) -> [Event] {
    var events: [Event] = []
    markDeadSlavesOutOfSync(now: now)
    for clusterID in clusters.keys.sorted() {
      guard var cluster = clusters[clusterID], let master = cluster.master,
        let record = cluster.servers[master], !isAlive(record, now: now)
      else { continue }
      guard
        let successor = liveServers(of: cluster, now: now).first(where: {
          $0 != master && cluster.servers[$0]?.inSync == true
        })
      else {
        // No live slave that holds every acknowledged write: the master keeps its role (if it is the one to
        // return, it is master again) and the cluster waits rather than lose writes.
        continue
      }
      cluster.master = successor
      cluster.epoch = max(cluster.epoch.next, configuration.firstEpoch)
      clusters[clusterID] = cluster
      // Everyone else must catch up from the new master before they can be promoted in turn.
      markSlavesOutOfSync(clusterID)
      events.append(.serverLost(clusterID, master))
      events.append(.promoted(clusterID, from: master, to: successor, cluster.epoch))
    }
    return events
  }

  /// A slave silent for a failure timeout is out of sync from that moment on, not only once it returns: a
  /// synchronizer that hears it is dead skips its directory, so what it delivers meanwhile reaches the slave
  /// only through a catch-up. Marked here, before any answer says it is dead, the mark is stored with the
  /// roles and survives a restart of this coordinator that comes before the slave's next heartbeat.
  mutating func markDeadSlavesOutOfSync(now: Timestamp) {
    for clusterID in clusters.keys.sorted() {
      guard var cluster = clusters[clusterID] else { continue }
      var changed = false
      for (id, record) in cluster.servers
      where id != cluster.master && !record.heldDead && !isAlive(record, now: now) {
        cluster.servers[id]?.heldDead = true
        cluster.servers[id]?.inSync = false
        cluster.servers[id]?.syncGeneration += 1
        changed = true
      }
      if changed { clusters[clusterID] = cluster }
    }
  }

  /// The master is (or may be) acknowledging writes without its slaves: each must catch up again, in a new
  /// generation, before it can be promoted. A slave in the middle of a catch-up is moved on too: the catch-up
  /// it is doing may have been read before the master's solo write.
  mutating func markSlavesOutOfSync(_ clusterID: ClusterID) {
    guard var cluster = clusters[clusterID] else { return }
    markSlavesOutOfSync(in: &cluster)
    clusters[clusterID] = cluster
  }

  func markSlavesOutOfSync(in cluster: inout ClusterRecord) {
    for id in cluster.servers.keys where id != cluster.master {
      cluster.servers[id]?.inSync = false
      cluster.servers[id]?.syncGeneration += 1
    }
  }

  func isAlive(_ record: ServerRecord, now: Timestamp) -> Bool {
    now - record.lastHeartbeat < configuration.failureTimeout
  }

  func liveServers(of cluster: ClusterRecord, now: Timestamp) -> [ServerID] {
    cluster.servers.keys.sorted().filter { id in cluster.servers[id].map { isAlive($0, now: now) } ?? false }
  }
}
