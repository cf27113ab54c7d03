extension Server {
  public func execute(_ command: Command, for user: UserID) async throws -> Reply {
    SNSMetrics.request(command)
    let view = try await currentView(of: user)
    switch state.onCommand(command, for: user, view: view, now: clock.now()) {
    case .reply(var reply):
      reply.masterEpoch = state.epoch
      return reply
    case .refuse(let error):
      throw error
    case .write(let plan):
      defer { state.onWriteEnded(plan) }
      do {
        return try await perform(plan)
      } catch SNSError.storage(let why) where plan.retriesEarlierAttempt {
        // A refusal is final only for a first attempt: an earlier one of this write may be stored already.
        throw SNSError.unavailable("storage error (\(why)); an earlier attempt may be stored: try again")
      }
    }
  }

  /// Mirrors and persists a planned write, and answers as ``ServerState/onWriteFinished(_:mirror:now:)`` says.
  func perform(_ plan: ServerState.WritePlan) async throws -> Reply {
    // Writes the slave has but this server's disk refused come first. While a file still refuses them, new
    // writes to that file are refused before they reach the slave, so the refusal is final and nothing of
    // them is anywhere; writes to other files go on (one broken file must not stop the whole cluster).
    if let refusal = owedLocally.refusal(of: plan.records, failing: await storeOwedLocally()) {
      throw refusal
    }
    // Mirror first, then persist locally; acknowledge only when both are durable. A write the slave did not
    // take is never written here: left in this server's files under a sequence that the next master reuses
    // for an acknowledged write, it would win this server's idempotent catch-up over the acknowledged record,
    // which would be lost once this server became master again.
    // The planted bug (simulation self-test only) skips the slave as if there were none.
    // Without a known slave the write may be acknowledged alone: catch-ups wait until it is in the files.
    let mayGoAlone = plan.slave == nil
    if mayGoAlone { soloWrites.begin() }
    defer { if mayGoAlone { soloWrites.end() } }
    let mirrored =
      state.configuration.plantedBugs.contains(.acknowledgeBeforeMirror)
      ? .noSlave
      : await mirror(records: plan.records, to: plan.slave, epoch: plan.epoch)
    switch mirrored {
    case .mirrored, .noSlave: break
    case .slaveUnreachable, .slaveStorageFailed, .staleEpoch:
      if case .refuse(let error) = state.onWriteFinished(plan, mirror: mirrored, now: clock.now()) {
        throw error
      }
    }
    let conflicting: [PlacedRecord]
    do {
      conflicting = try await conflicts(with: plan.records, appended: try await store.append(plan.records))
    } catch {
      logger.error("write refused by storage", metadata: ["error": "\(error)"])
      guard case .mirrored = mirrored else {
        // Nothing went out: the refusal is final (a solo write's copy queued for the slave goes too).
        unmirrored.remove(plan.records)
        throw error as? SNSError ?? SNSError.storage("\(error)")
      }
      // The slave has it: the write is in doubt, and this server stores it as soon as its disk lets it
      // (before any new write, and at every heartbeat), so that master and slave agree again.
      owedLocally.owe(plan.records)
      throw SNSError.unavailable(
        "the slave stored the write, this server could not yet (\(error)); it will, once it can: try again")
    }
    // A different record already holds the key here: one a pull from the slave brought in after this write
    // was planned (an orphan of a write that died with this server's previous process). The
    // slave refuses such a mirror for the same reason; a solo write is refused here.
    guard conflicting.isEmpty else {
      // Nor may the slave get it later with the backlog: it holds the other record too (this server pulled
      // it from there), and would refuse every mirror carrying this one.
      unmirrored.remove(conflicting)
      throw SNSError.unavailable("a different record holds \(conflicting[0].record.key); try again")
    }
    switch state.onWriteFinished(plan, mirror: mirrored, now: clock.now()) {
    case .acknowledge(var reply):
      reply.masterEpoch = plan.epoch
      return reply
    case .refuse(let error): throw error
    }
  }

  /// Appends the writes this server owes its own files (see ``perform(_:)``), file by file; the storage
  /// error of each file that still refuses them (empty once nothing is owed).
  func storeOwedLocally() async -> [ContextFile: SNSError] {
    guard !owedLocally.isEmpty else { return [:] }
    var failing: [ContextFile: SNSError] = [:]
    for (file, owed) in owedLocally.byFile {
      do {
        try await store.append(owed)
        owedLocally.stored(owed)
        logger.notice(
          "stored writes the disk had refused", metadata: ["file": "\(file)", "records": "\(owed.count)"])
      } catch {
        failing[file] = error as? SNSError ?? .storage("\(error)")
      }
    }
    return failing
  }

  /// The user's view, loaded again while one of the user's writes ended during the load: the files read may
  /// predate that write, and a retry of it decided on them would be written a second time.
  func currentView(of user: UserID) async throws -> UserView {
    for _ in 0..<Self.viewLoadAttempts {
      let ended = state.endedWrites[user, default: 0]
      let view = try await loadView(of: user)
      if state.endedWrites[user, default: 0] == ended { return view }
    }
    throw SNSError.unavailable("user \(user)'s writes keep ending while their files are read; try again")
  }

  static let viewLoadAttempts = 8

  func loadView(of user: UserID) async throws -> UserView {
    // Only the users appended since the last command are hashed (see ``KnownUsers``).
    knownUsers.update(from: try await store.records(in: .users))
    return try await refreshedFold(of: user).view(knownUsers: knownUsers.users)
  }

  /// The user's fold brought up to date: only what was appended to their files since it was last folded is
  /// read (see ``UserFold``). Without `file`, both files; with it, only that one.
  func refreshedFold(of user: UserID, only file: ContextFile? = nil) async throws -> UserFold {
    var fold = userFolds[user] ?? UserFold(user: user)
    if file == nil || file == .follows(user) {
      let follows = try await store.records(in: .follows(user), after: fold.followsPosition)
      fold.foldFollows(follows.records, next: follows.next)
    }
    if file == nil || file == .timeline(user) {
      let timeline = try await store.records(in: .timeline(user), after: fold.timelinePosition)
      fold.foldTimeline(timeline.records, next: timeline.next)
    }
    userFolds[user] = fold
    return fold
  }

  /// Mirrors `records` (after any the slave missed) and says how it went.
  func mirror(records: [PlacedRecord], to slave: ServerDescriptor?, epoch: Epoch) async
    -> ServerState.MirrorOutcome
  {
    // A slave that registered after this master's last heartbeat is found through the coordinator, so
    // writes are not acknowledged by the master alone for up to a heartbeat interval.
    var target = slave
    if target == nil {
      switch await discoverSlave(epoch: epoch) {
      case .found(let found):
        // Started alone and a slave appeared: pull its records before mirroring, so that later plans do not
        // reuse their sequences (this one, if it does, is refused by the slave as a conflicting mirror).
        if state.reconciling { await reconcile(from: found, epoch: epoch) }
        target = found
      case .none:
        unmirrored.queue(records)
        return .noSlave
      case .replaced(let newer):
        return .staleEpoch(newer)
      case .unknown:
        // Without the coordinator's word that there is no slave, acknowledging alone could lose the write
        // (a slave may have come back and caught up meanwhile, and be promoted without it).
        return .slaveUnreachable
      }
    }
    guard let slave = target else { return .slaveUnreachable }
    let batch = unmirrored.take(with: records)
    // A backlog can be any size (writes acknowledged while there was no slave): it goes in pages, oldest
    // first, this write in the last one.
    var sent = 0
    do {
      for page in PlacedRecord.pages(of: batch.records, maxBytes: state.configuration.transferPageBytes) {
        let request = MirrorRequest(cluster: state.configuration.cluster, epoch: epoch, records: Array(page))
        try await SNSMetrics.mirrorLatency.measure {
          try await dialer.serverPeer(at: slave.endpoint).mirror(request)
        }
        sent += page.count
      }
      return .mirrored
    } catch SNSError.staleEpoch(let newer) {
      return .staleEpoch(newer)
    } catch SNSError.storage(let why) {
      // The slave's disk refused it (and kept none of it): a final refusal, not an unreachable slave.
      unmirrored.putBack(batch, sent: sent)
      logger.warning(
        "the slave could not store a mirror", metadata: ["slave": "\(slave.endpoint)", "error": "\(why)"])
      return .slaveStorageFailed(why)
    } catch {
      // Keep what it missed (not this write: it is refused and never persisted here); it goes out with the
      // next write or heartbeat.
      unmirrored.putBack(batch, sent: sent)
      logger.warning("mirror to slave failed", metadata: ["slave": "\(slave.endpoint)", "error": "\(error)"])
      return .slaveUnreachable
    }
  }

  /// What the coordinator says of this cluster's slave.
  enum SlaveLookup {
    case found(ServerDescriptor)
    /// The coordinator answered that there is no live slave (and marked the slaves out of sync).
    case none
    /// This server is no longer the master of `epoch`: the coordinator knows a newer epoch.
    case replaced(Epoch)
    /// The coordinator could not be asked.
    case unknown
  }

  func discoverSlave(epoch: Epoch) async -> SlaveLookup {
    let query = SlaveQuery(cluster: state.configuration.cluster, server: state.configuration.id, epoch: epoch)
    do {
      switch try await coordinator.slave(for: query) {
      case .slave(let slave):
        state.onSlaveDiscovered(slave)
        return .found(slave)
      case .noLiveSlave:
        return .none
      }
    } catch SNSError.staleEpoch(let current) {
      return .replaced(current)
    } catch {
      return .unknown
    }
  }

  public func timeline(for user: UserID) async throws -> TimelineSubscription {
    let view = try await loadView(of: user)
    // Entering timeline mode is a read; it is decided like LIST so the same refusals apply.
    switch state.onCommand(.list, for: user, view: view, now: clock.now()) {
    case .refuse(let error): throw error
    case .write: preconditionFailure("LIST never writes")
    case .reply(let reply) where reply.status != .success:
      throw SNSError.invalidArgument("\(reply.status.rawValue)")
    case .reply: break
    }
    // The stamp before the read: an append landing in between then shows as a change at the first poll (and
    // is read from `position`), instead of being hidden behind a stamp that already counts it.
    let stamp = try await store.stamp(of: .timeline(user))
    let (records, position) = try await store.records(in: .timeline(user), after: .start)
    let posts = records.compactMap { record -> Post? in
      if case .post(let post) = record { post } else { nil }
    }
    // Timeline mode shows followees' posts only (the MP2.2 sheet), never the user's own.
    let initial = Array(
      posts.filter { $0.author != user }.sorted(by: >).prefix(state.configuration.timelineInitialCount))
    let feed = TimelineFeed(
      user: user, store: store, clock: clock, pollInterval: state.configuration.timelinePollInterval,
      position: position, stamp: stamp, seen: Set(posts.map(\.id)),
      serving: { [weak self] in await self?.servesAsMaster() ?? false })
    return TimelineSubscription(initial: initial, updates: feed.stream())
  }

  /// Whether this server may serve clients now: master, and its lease holds.
  func servesAsMaster() -> Bool {
    guard case .master = state.phase, let expiry = state.leaseExpiry else { return false }
    return clock.now() < expiry
  }
}
