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
  var unmirrored = MirrorBacklog()
  /// Writes the slave stored but this server's disk refused (see ``perform(_:)``), to append here first.
  var owedLocally = OwedWrites()
  /// Whether ``holdsData()`` found a record once (files are never emptied, so it stays true).
  var knownToHoldData = false
  /// The users file folded into a set, updated incrementally by each command (see ``KnownUsers``).
  var knownUsers = KnownUsers()
  /// Each user's follow file and timeline folded so far (see ``UserFold``), updated by each command.
  var userFolds: [UserID: UserFold] = [:]
  /// Writes that may be acknowledged without the slave (see ``SoloWrites``): a catch-up waits for them.
  var soloWrites = SoloWrites()
  /// Where in its file each catch-up page this server served ended (see ``CatchUpCursors``).
  var catchUpCursors = CatchUpCursors()
  /// Where an interrupted pull (catch-up or reconcile) goes on.
  var resumablePull: (pull: Pull, position: CatchUpPosition)?
  /// The pull ``runPulls()`` should do next, the one it is doing, and its wake-up call.
  var wantedPull: PullJob?
  var runningPull: PullJob?
  let (pullRequests, pullRequested) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
  /// The wake-up call of ``runBacklogFlushes()``, given after each heartbeat answer.
  let (flushRequests, flushRequested) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))

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

  /// Heartbeats on schedule until cancelled. Catch-ups and reconcile pulls run beside the heartbeats, one at
  /// a time, so a long one (a slave joining a master with a million posts) never looks like a dead server.
  public func run() async throws {
    try await withThrowingDiscardingTaskGroup { group in
      group.addTask { try await self.runPulls() }
      group.addTask { try await self.runBacklogFlushes() }
      var actions = state.onStart(now: clock.now())
      while !Task.isCancelled {
        var next: Duration?
        for action in actions {
          if case .schedule(_, let delay) = action { next = delay }
        }
        await perform(actions, pullsAside: true)
        try await clock.sleep(for: next ?? state.heartbeatInterval)
        actions = state.onTimer(.heartbeat, now: clock.now())
      }
      group.cancelAll()
    }
  }

  /// Sends one heartbeat now and applies the answer, a catch-up included (tests drive time with this).
  public func heartbeat() async {
    await perform(
      state.onTimer(.heartbeat, now: clock.now()).filter { if case .schedule = $0 { false } else { true } },
      pullsAside: false)
  }

  /// Performs `actions`; with `pullsAside`, a catch-up or reconcile is handed to ``runPulls()``, and the
  /// backlog flush after a heartbeat answer to ``runBacklogFlushes()``, instead of being awaited here.
  func perform(_ actions: [ServerState.Action], pullsAside: Bool) async {
    for action in actions {
      switch action {
      case .sendHeartbeat(var beat):
        beat.holdsData = await holdsData()
        let sentAt = clock.now()
        do {
          let assignment = try await coordinator.heartbeat(beat)
          await perform(
            state.onHeartbeatReply(assignment, sentAt: sentAt, now: clock.now()), pullsAside: pullsAside)
          if pullsAside { flushRequested.yield() } else { await flushBacklog() }
        } catch {
          logger.warning("heartbeat failed", metadata: ["error": "\(error)"])
        }
      case .schedule:
        continue  // the run loop sleeps for it
      case .catchUp(let master, let epoch):
        let job = PullJob.catchUp(master, epoch, generation: state.catchingUpGeneration)
        if pullsAside { want(job) } else { await run(job) }
      case .reconcile(let slave, let epoch):
        if pullsAside { want(.reconcile(slave, epoch)) } else { await run(.reconcile(slave, epoch)) }
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

  /// Whether this server's files hold any record (remembered once true: files are never emptied). A store
  /// that cannot be listed counts as holding data: the coordinator then waits, which is the safe side.
  func holdsData() async -> Bool {
    if knownToHoldData { return true }
    guard let files = try? await store.files() else { return true }
    knownToHoldData = files.contains { $0 != .cursors }
    return knownToHoldData
  }

  /// As a (re)joining slave, pulls what the master holds, in the sync generation it was asked in.
  func catchUp(from master: ServerDescriptor, epoch: Epoch, generation: UInt64) async {
    let succeeded = await pull(
      from: master, epoch: epoch, authoritative: true, what: "catch-up from the master")
    state.onCatchUpFinished(epoch: epoch, generation: generation, succeeded: succeeded, now: clock.now())
  }

  /// Fetches `peer`'s own records through `CatchUp` and appends them (idempotently); a failure is retried at
  /// the next heartbeat answer. From the master (`authoritative`) they also replace different records under
  /// the same keys, and this server's copies of its client writes under other sequences; from a slave, this
  /// server's own records win, in both ways.
  func pull(from peer: ServerDescriptor, epoch: Epoch, authoritative: Bool, what: String) async -> Bool {
    // Page by page; a pull that failed goes on where it stopped, if it is the same pull. A catch-up of a newer
    // sync generation starts over: pages read before the generation changed may miss a solo write.
    let pull = Pull(
      peer: peer.id, epoch: epoch, authoritative: authoritative,
      generation: authoritative ? state.catchingUpGeneration : 0)
    var position = resumablePull?.pull == pull ? resumablePull?.position : nil
    var applied = 0
    var pages = 0
    let peerPort = dialer.serverPeer(at: peer.endpoint)
    let pageBytes = state.configuration.transferPageBytes
    @Sendable func fetch(after position: CatchUpPosition?) async throws -> CatchUpReply {
      try await peerPort.catchUp(CatchUpRequest(epoch: epoch, after: position, maxBytes: pageBytes))
    }
    do {
      // The next page is on its way (a child task) while this one is stored: the peer reads and sends while
      // this server writes and fsyncs, instead of each waiting for the other. When storing fails, the group
      // waits for the page in flight before the error goes on: nothing of a pull outlives it.
      try await withThrowingTaskGroup(of: CatchUpReply.self) { group in
        group.addTask { [position] in try await fetch(after: position) }
        while let reply = try await group.next() {
          if let after = reply.next { group.addTask { try await fetch(after: after) } }
          let appended =
            authoritative
            ? try await applyFromMaster(reply.records)
            : try await store.append(try await withoutRetryCopies(reply.records))
          applied += appended.count
          pages += 1
          position = reply.next
          resumablePull = position.map { (pull, $0) }
        }
      }
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
