/// A master/slave server's decisions as a value: its role and epoch from the coordinator, its write lease,
/// and what each client command, mirror request and heartbeat answer leads to. No I/O, no clock.
/// ``Server`` wraps it and performs the actions through ports.
public struct ServerState: Sendable {
  public let configuration: ServerConfiguration

  /// Where the server is in its life. Exhaustive switches only: each case says where it may go next.
  public enum Phase: Hashable, Sendable {
    /// No answer from the coordinator yet. Can go to `master` or `slave`.
    case registering
    /// Takes client writes of `epoch` while its lease holds, mirroring them to `slave`.
    /// Can go to `slave` when the coordinator (or a newer-epoch mirror) says it was replaced.
    case master(epoch: Epoch, slave: ServerDescriptor?)
    /// Applies its master's mirror writes; `caughtUp` once it applied the master's catch-up.
    /// Can go to `master` when promoted, or stay `slave` of a new master (and catch up again).
    case slave(epoch: Epoch, master: ServerDescriptor?, caughtUp: Bool)
  }

  public internal(set) var phase: Phase = .registering
  /// Writes are taken only before this instant: the send time of the last heartbeat the coordinator
  /// confirmed, plus the lease. The coordinator promotes no earlier than that, so two masters never overlap.
  public internal(set) var leaseExpiry: Timestamp?
  /// Sequence numbers handed out but maybe not yet visible in the files (commands run concurrently).
  var lastAssignedPostSequence: [UserID: UInt64] = [:]
  /// Keys of writes being written now: a retry that arrives meanwhile must not write a second copy.
  var keysInFlight: Set<RequestKey> = []
  /// (follower, followee) pairs whose follow or unfollow is being written: a retry of it meanwhile would read
  /// the files from before it and store the change twice.
  var followsInFlight: Set<FollowPair> = []
  /// Per user, how many writes of theirs have ended (see ``onWriteEnded(_:)``): a view loaded while one ended
  /// may have read the files from before it, and must be loaded again before a command is decided on it.
  public internal(set) var endedWrites: [UserID: UInt64] = [:]
  /// Keyed writes planned but not acknowledged (yet): a retry writes the same record again.
  var attemptedWrites = AttemptedWrites()
  /// The coordinator's heartbeat interval and miss count, once it said them (see ``RoleAssignment``).
  var coordinatorTiming: (interval: Duration, misses: Int)?

  /// The interval to heartbeat at: the coordinator's, once known.
  public var heartbeatInterval: Duration { coordinatorTiming?.interval ?? configuration.heartbeatInterval }

  /// How long a confirmed heartbeat lets a master take writes: the coordinator's failure timeout, once known.
  public var lease: Duration {
    coordinatorTiming.map { $0.interval * $0.misses } ?? configuration.lease
  }
  /// The coordinator's sync generation of the last catch-up this server completed as slave (0: none), and the
  /// one a catch-up under way will complete. Reported in heartbeats: only a caught-up slave may be promoted.
  var caughtUpGeneration: UInt64 = 0
  public internal(set) var catchingUpGeneration: UInt64 = 0
  /// Started as master and has not yet pulled a slave's records (see ``Action/reconcile(from:epoch:)``). While
  /// it knows a slave it takes no writes; knowing none, it writes alone and pulls as soon as one appears.
  public internal(set) var reconciling = false
  var lastAssignedFollowSequence: [UserID: UInt64] = [:]

  public init(configuration: ServerConfiguration) {
    self.configuration = configuration
  }

  public var epoch: Epoch {
    switch phase {
    case .registering: .zero
    case .master(let epoch, _), .slave(let epoch, _, _): epoch
    }
  }

  // MARK: Heartbeats

  public enum Timer: Hashable, Sendable {
    case heartbeat
  }

  /// What the server must do after an input.
  public enum Action: Hashable, Sendable {
    case sendHeartbeat(ServerHeartbeat)
    case schedule(Timer, after: Duration)
    /// Fetch the master's records and apply them; then report ``onCatchUpFinished(epoch:succeeded:now:)``.
    case catchUp(from: ServerDescriptor, epoch: Epoch)
    /// As a freshly started master, fetch the slave's records and apply them; then report
    /// ``onReconcileFinished(epoch:succeeded:now:)``.
    case reconcile(from: ServerDescriptor, epoch: Epoch)
    /// A role change, for the log and metrics.
    case roleChanged(from: Phase, to: Phase)
  }

  /// Starts the heartbeat cycle.
  public mutating func onStart(now: Timestamp) -> [Action] {
    onTimer(.heartbeat, now: now)
  }

  public mutating func onTimer(_ timer: Timer, now: Timestamp) -> [Action] {
    switch timer {
    case .heartbeat:
      var reported: UInt64 = 0
      if case .slave(_, _, true) = phase { reported = caughtUpGeneration }
      let role: Role? =
        switch phase {
        case .registering: nil
        case .master: .master
        case .slave: .slave
        }
      let beat = ServerHeartbeat(
        cluster: configuration.cluster, server: configuration.id, endpoint: configuration.endpoint,
        epoch: epoch, caughtUpGeneration: reported, role: role)
      return [.sendHeartbeat(beat), .schedule(.heartbeat, after: heartbeatInterval)]
    }
  }

  /// The coordinator answered the heartbeat sent at `sentAt`.
  public mutating func onHeartbeatReply(_ assignment: RoleAssignment, sentAt: Timestamp, now: Timestamp)
    -> [Action]
  {
    guard assignment.epoch >= epoch else { return [] }  // a late answer from before a newer one
    if let interval = assignment.heartbeatInterval, let misses = assignment.missCount {
      coordinatorTiming = (interval, misses)
    }
    let old = phase
    var actions: [Action] = []
    switch assignment.role {
    case .master:
      phase = .master(epoch: assignment.epoch, slave: assignment.slave)
      leaseExpiry = sentAt + lease
      // A process that starts as master may have died mid-write last time: its slave can hold records it lacks
      // (mirroring comes before the local append). It pulls them before taking writes, or it would hand out
      // their sequence numbers again. A promoted slave has everything already. A master that starts alone
      // pulls when a slave appears: giving up because it was told "no slave" for a moment would let it reuse
      // a sequence its slave holds for a write that died with the old process, and the slave's idempotent
      // append would drop the new, acknowledged write.
      if case .registering = old { reconciling = true }
      if reconciling, let slave = assignment.slave {
        actions.append(.reconcile(from: slave, epoch: assignment.epoch))
      }
    case .slave, .synchronizer:
      leaseExpiry = nil
      reconciling = false  // it catches up from its master instead
      let sameMaster: Bool
      let caughtUp: Bool
      switch old {
      case .slave(let oldEpoch, let oldMaster, let wasCaughtUp):
        sameMaster = oldEpoch == assignment.epoch && oldMaster?.id == assignment.master?.id
        // A newer generation means the coordinator thinks this slave may have missed writes: catch up again.
        caughtUp = sameMaster && wasCaughtUp && caughtUpGeneration >= assignment.syncGeneration
      case .registering, .master:
        sameMaster = false
        caughtUp = false
      }
      phase = .slave(epoch: assignment.epoch, master: assignment.master, caughtUp: caughtUp)
      if !caughtUp, let master = assignment.master, master.id != configuration.id {
        catchingUpGeneration = assignment.syncGeneration
        actions.append(.catchUp(from: master, epoch: assignment.epoch))
      }
    }
    if roleName(old) != roleName(phase) || old.epoch != phase.epoch {
      actions.insert(.roleChanged(from: old, to: phase), at: 0)
    }
    return actions
  }

  /// The pull from the slave after starting as master finished. A failed one is retried at the next heartbeat
  /// answer; until one succeeds the master takes no writes.
  public mutating func onReconcileFinished(epoch reconciledEpoch: Epoch, succeeded: Bool, now: Timestamp) {
    guard succeeded, case .master(let epoch, _) = phase, epoch == reconciledEpoch else { return }
    reconciling = false
  }

  /// The catch-up of `epoch` finished. A failed one is retried at the next heartbeat answer.
  ///
  /// `generation`: the sync generation the catch-up started in (``catchingUpGeneration`` when it began). A
  /// catch-up that ran while heartbeats went on may have been overtaken by a newer generation (the master
  /// wrote alone meanwhile): it then counts for nothing, and the newer one runs next.
  public mutating func onCatchUpFinished(
    epoch caughtUpEpoch: Epoch, generation: UInt64? = nil, succeeded: Bool, now: Timestamp
  ) {
    guard succeeded, case .slave(let epoch, let master, _) = phase, epoch == caughtUpEpoch else { return }
    if let generation, generation != catchingUpGeneration { return }
    phase = .slave(epoch: epoch, master: master, caughtUp: true)
    caughtUpGeneration = catchingUpGeneration
  }

  /// The coordinator named a slave between heartbeats: mirror to it from now on.
  public mutating func onSlaveDiscovered(_ slave: ServerDescriptor) {
    guard case .master(let epoch, _) = phase, slave.id != configuration.id else { return }
    phase = .master(epoch: epoch, slave: slave)
  }

  /// Whether the server may take a client write now.
  public func mayWrite(now: Timestamp) -> Bool {
    guard case .master(_, let slave) = phase, let leaseExpiry, !(reconciling && slave != nil) else {
      return false
    }
    return now < leaseExpiry
  }

  private func roleName(_ phase: Phase) -> String {
    switch phase {
    case .registering: "registering"
    case .master: "master"
    case .slave: "slave"
    }
  }
}

extension ServerState.Phase {
  var epoch: Epoch {
    switch self {
    case .registering: .zero
    case .master(let epoch, _), .slave(let epoch, _, _): epoch
    }
  }
}

/// A follower and a followee: what a follow or unfollow changes.
struct FollowPair: Hashable, Sendable {
  var follower: UserID
  var followee: UserID
}
