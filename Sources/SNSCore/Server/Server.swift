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
  /// Writes that may be acknowledged without the slave (see ``SoloWrites``): a catch-up waits for them.
  var soloWrites = SoloWrites()
  /// Where an interrupted pull (catch-up or reconcile) goes on.
  var resumablePull: (pull: Pull, position: CatchUpPosition)?

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

  /// As a freshly started master, pulls what the slave holds (see ``ServerState/Action/reconcile(from:epoch:)``).
  func reconcile(from slave: ServerDescriptor, epoch: Epoch) async {
    let succeeded = await pull(
      from: slave, epoch: epoch, authoritative: false, what: "pull from the slave after starting as master")
    state.onReconcileFinished(epoch: epoch, succeeded: succeeded, now: clock.now())
  }

  /// As a (re)joining slave, pulls what the master wrote.
  func catchUp(from master: ServerDescriptor, epoch: Epoch) async {
    let succeeded = await pull(
      from: master, epoch: epoch, authoritative: true, what: "catch-up from the master")
    state.onCatchUpFinished(epoch: epoch, succeeded: succeeded, now: clock.now())
  }

  /// Fetches `peer`'s own records through `CatchUp` and appends them (idempotently); a failure is retried at
  /// the next heartbeat answer. From the master (`authoritative`) they also replace different records under
  /// the same keys; from a slave, this server's own records win.
  func pull(from peer: ServerDescriptor, epoch: Epoch, authoritative: Bool, what: String) async -> Bool {
    // Page by page; a pull that failed goes on where it stopped, if it is the same pull. A catch-up of a newer
    // sync generation starts over: pages read before the generation changed may miss a solo write.
    let pull = Pull(
      peer: peer.id, epoch: epoch, authoritative: authoritative,
      generation: authoritative ? state.catchingUpGeneration : 0)
    var position = resumablePull?.pull == pull ? resumablePull?.position : nil
    var applied = 0
    var pages = 0
    do {
      repeat {
        let request = CatchUpRequest(
          epoch: epoch, after: position, maxBytes: state.configuration.transferPageBytes)
        let reply = try await dialer.serverPeer(at: peer.endpoint).catchUp(request)
        let appended =
          authoritative ? try await applyFromMaster(reply.records) : try await store.append(reply.records)
        applied += appended.count
        pages += 1
        position = reply.next
        resumablePull = position.map { (pull, $0) }
      } while position != nil
      logger.notice(
        "\(what) done",
        metadata: [
          "peer": "\(peer.endpoint)", "epoch": "\(epoch)", "records": "\(applied)", "pages": "\(pages)",
        ])
      return true
    } catch {
      logger.warning(
        "\(what) failed; going on at the next heartbeat",
        metadata: ["error": "\(error)", "pages": "\(pages)"])
      return false
    }
  }

  /// Which pull a saved position belongs to.
  struct Pull: Hashable {
    let peer: ServerID
    let epoch: Epoch
    let authoritative: Bool
    let generation: UInt64
  }
}
