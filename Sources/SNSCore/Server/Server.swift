import Logging

/// A master/slave server: owns a ``ServerState`` and performs its actions through ports.
/// Serves clients (``ClientPort``) while master and its master's mirror writes (``ServerPeerPort``) while slave.
public actor Server: ClientPort, ServerPeerPort {
  var state: ServerState
  let store: any ContextStore
  let coordinator: any CoordinatorPort
  let dialer: any Dialer
  let clock: any SNSClock
  let logger: Logger
  /// Writes the slave did not get (it was unreachable); sent ahead of the next mirror so it catches up.
  var unmirrored: [PlacedRecord] = []
  /// The users file folded into a set, updated incrementally by each command (see ``KnownUsers``).
  var knownUsers = KnownUsers()

  public init(
    configuration: ServerConfiguration, store: any ContextStore, coordinator: any CoordinatorPort,
    dialer: any Dialer, clock: any SNSClock, logger: Logger
  ) {
    self.state = ServerState(configuration: configuration)
    self.store = store
    self.coordinator = coordinator
    self.dialer = dialer
    self.clock = clock
    var logger = logger
    logger[metadataKey: "cluster"] = "\(configuration.cluster)"
    logger[metadataKey: "server"] = "\(configuration.id)"
    self.logger = logger
  }

  /// The current phase (role and epoch), for status and tests.
  public var phase: ServerState.Phase { state.phase }

  /// Heartbeats on schedule until cancelled.
  public func run() async throws {
    var actions = state.onStart(now: clock.now())
    while !Task.isCancelled {
      var next: Duration?
      for action in actions {
        if case .schedule(_, let delay) = action { next = delay }
      }
      await perform(actions)
      try await clock.sleep(for: next ?? state.configuration.heartbeatInterval)
      actions = state.onTimer(.heartbeat, now: clock.now())
    }
  }

  /// Sends one heartbeat now and applies the answer (tests drive time with this).
  public func heartbeat() async {
    await perform(
      state.onTimer(.heartbeat, now: clock.now()).filter { if case .schedule = $0 { false } else { true } })
  }

  func perform(_ actions: [ServerState.Action]) async {
    for action in actions {
      switch action {
      case .sendHeartbeat(let beat):
        let sentAt = clock.now()
        do {
          let assignment = try await coordinator.heartbeat(beat)
          await perform(state.onHeartbeatReply(assignment, sentAt: sentAt, now: clock.now()))
          if case .master(_, let slave?) = state.phase, !unmirrored.isEmpty {
            _ = await mirror(records: [], to: slave, epoch: state.epoch)
          }
        } catch {
          logger.warning("heartbeat failed", metadata: ["error": "\(error)"])
        }
      case .schedule:
        continue  // the run loop sleeps for it
      case .catchUp(let master, let epoch):
        await catchUp(from: master, epoch: epoch)
      case .reconcile(let slave, let epoch):
        await reconcile(from: slave, epoch: epoch)
      case .roleChanged(let from, let to):
        logger.notice("role changed", metadata: ["from": "\(from)", "to": "\(to)"])
      }
    }
  }

  func reconcile(from slave: ServerDescriptor, epoch: Epoch) async {
    do {
      let reply = try await dialer.serverPeer(at: slave.endpoint).catchUp(epoch: epoch)
      let appended = try await store.append(reply.records)
      state.onReconcileFinished(epoch: epoch, succeeded: true, now: clock.now())
      logger.notice(
        "pulled the slave's records after starting as master",
        metadata: ["slave": "\(slave.endpoint)", "epoch": "\(epoch)", "records": "\(appended.count)"])
    } catch {
      state.onReconcileFinished(epoch: epoch, succeeded: false, now: clock.now())
      logger.warning(
        "pull from the slave failed; retrying at the next heartbeat", metadata: ["error": "\(error)"])
    }
  }

  func catchUp(from master: ServerDescriptor, epoch: Epoch) async {
    do {
      let reply = try await dialer.serverPeer(at: master.endpoint).catchUp(epoch: epoch)
      let appended = try await store.append(reply.records)
      state.onCatchUpFinished(epoch: epoch, succeeded: true, now: clock.now())
      logger.notice(
        "caught up from master",
        metadata: ["master": "\(master.endpoint)", "epoch": "\(epoch)", "records": "\(appended.count)"])
    } catch {
      state.onCatchUpFinished(epoch: epoch, succeeded: false, now: clock.now())
      logger.warning("catch-up failed; retrying at the next heartbeat", metadata: ["error": "\(error)"])
    }
  }
}
