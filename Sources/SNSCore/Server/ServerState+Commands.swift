extension ServerState {
  /// A write the actor must persist locally and mirror to `slave` (when there is one) before replying.
  public struct WritePlan: Hashable, Sendable {
    public let records: [PlacedRecord]
    public let epoch: Epoch
    public let slave: ServerDescriptor?
    public let reply: Reply
    /// The write repeats an earlier attempt this server did not acknowledge (same request key), which may be
    /// stored somewhere already: a refusal of this one is not final.
    public var retriesEarlierAttempt = false
  }

  /// What to do with a client command.
  public enum CommandDecision: Hashable, Sendable {
    /// Answer now: reads, and refusals the course defines (FAILURE_…).
    case reply(Reply)
    /// The server cannot take the command (not master, lease lapsed): the client should ask the coordinator.
    case refuse(SNSError)
    /// Persist and mirror, then report ``ServerState/onWriteFinished(_:mirror:now:)``.
    case write(WritePlan)
  }

  /// Decides a client command for `user`, given what the server's files say (`view`).
  public mutating func onCommand(_ command: Command, for user: UserID, view: UserView, now: Timestamp)
    -> CommandDecision
  {
    guard case .master(let epoch, let slave) = phase else {
      return .refuse(
        .notMaster("server \(configuration.id) of cluster \(configuration.cluster) is not master"))
    }
    guard mayWrite(now: now) else {
      if reconciling && slave != nil {
        return .refuse(
          .unavailable(
            "server \(configuration.id) is pulling its slave's records before it serves; try again"))
      }
      return .refuse(.unavailable("server \(configuration.id) lost contact with the coordinator"))
    }
    guard ClusterID.of(user, clusterCount: configuration.clusterCount) == configuration.cluster else {
      return .reply(Reply(.invalidUsername))
    }
    func write(_ record: ContextRecord, in file: ContextFile) -> CommandDecision {
      .write(
        WritePlan(records: [PlacedRecord(record, in: file)], epoch: epoch, slave: slave, reply: .success))
    }
    let registered = view.knownUsers.contains(user)
    switch command {
    case .login:
      return registered ? .reply(.success) : write(.user(user), in: .users)
    case .list:
      guard registered else { return .reply(Reply(.invalidUsername)) }
      return .reply(Reply(.success, allUsers: view.knownUsers.sorted(), followers: view.followers.sorted()))
    case .follow(let target, let proposedKey), .unfollow(let target, let proposedKey):
      let kind: FollowEvent.Kind = if case .follow = command { .follow } else { .unfollow }
      guard registered else { return .reply(Reply(.invalidUsername)) }
      // Following yourself is refused as "already exists": your own posts are on your timeline already.
      // Unfollowing yourself is an invalid username (the course's MP1 sheet).
      guard target != user else { return .reply(Reply(kind == .follow ? .alreadyExists : .invalidUsername)) }
      // The course's MP1 sheet: a user this master does not know is an invalid username.
      guard view.knownUsers.contains(target) else { return .reply(Reply(.invalidUsername)) }
      let key = configuration.plantedBugs.contains(.ignoreFollowKeys) ? nil : proposedKey
      if let key, let answer = answerToRetry(key, stored: view.followKeys.contains(key)) { return answer }
      switch kind {
      case .follow: guard !view.following.contains(target) else { return .reply(Reply(.alreadyExists)) }
      case .unfollow: guard view.following.contains(target) else { return .reply(Reply(.notAFollower)) }
      }
      guard followsInFlight.insert(FollowPair(follower: user, followee: target)).inserted else {
        return .refuse(.unavailable("a follow change of \(target) is still being written; try again"))
      }
      if let key {
        keysInFlight.insert(key)
        // A retry of an attempt this server refused, while that attempt is still the user's latest planned
        // event: the very same event again (its slave may hold it already). Once a later event was planned,
        // the earlier one cannot come back in its place: the retry is a new event.
        if case .following(let earlier)? = attemptedWrites.record(for: key), earlier.follower == user,
          earlier.followee == target, earlier.kind == kind,
          lastAssignedFollowSequence[user] == earlier.sequence, view.lastFollowSequence < earlier.sequence
        {
          return .write(
            WritePlan(
              records: [PlacedRecord(.following(earlier), in: .follows(user))], epoch: epoch, slave: slave,
              reply: .success, retriesEarlierAttempt: true))
        }
      }
      let event = FollowEvent(
        kind: kind, follower: user, followee: target, sequence: nextFollowSequence(user, view), time: now,
        key: key)
      if let key { attemptedWrites.remember(.following(event), key: key) }
      return write(.following(event), in: .follows(user))
    case .post(let text, let proposedKey):
      guard registered else { return .reply(Reply(.invalidUsername)) }
      let key = configuration.plantedBugs.contains(.ignoreRequestKeys) ? nil : proposedKey
      if let key {
        // A retry: the first attempt's post is stored (its outcome was, or would have been, success), or
        // it is still being written and its outcome is not known yet.
        if let answer = answerToRetry(key, stored: view.postKeys.contains(key)) { return answer }
        keysInFlight.insert(key)
        // A retry of an attempt this server refused: the very same post again. Its slave may hold that
        // attempt already (it mirrored, then the reply was lost); the same record is idempotent to append
        // there, where a new post id would be a second copy.
        if case .post(let earlier)? = attemptedWrites.record(for: key), earlier.author == user,
          earlier.text == text
        {
          return .write(
            WritePlan(
              records: [PlacedRecord(.post(earlier), in: .timeline(user))], epoch: epoch, slave: slave,
              reply: .success, retriesEarlierAttempt: true))
        }
      }
      let sequence = max(view.lastPostSequence, lastAssignedPostSequence[user] ?? 0) + 1
      lastAssignedPostSequence[user] = sequence
      let post = Post(id: PostID(author: user, sequence: sequence), time: now, text: text, key: key)
      if let key { attemptedWrites.remember(.post(post), key: key) }
      return write(.post(post), in: .timeline(user))
    }
  }

  /// The answer to a keyed write whose key is `stored` in the user's files already (the first attempt's
  /// outcome was, or would have been, success) or is still being written (its outcome is not known yet);
  /// nil when the write is to be planned.
  private func answerToRetry(_ key: RequestKey, stored: Bool) -> CommandDecision? {
    if stored { return .reply(.success) }
    guard !keysInFlight.contains(key) else {
      return .refuse(.unavailable("the first attempt of this write is still being written; try again"))
    }
    return nil
  }

  /// A write planned by ``onCommand(_:for:view:now:)`` ended, however it ended (acknowledged, refused, or an
  /// error on the way): its key, or its follow pair, may be tried again.
  public mutating func onWriteEnded(_ plan: WritePlan) {
    for owner in Set(plan.records.compactMap(\.record.owner)) { endedWrites[owner, default: 0] += 1 }
    for record in plan.records.map(\.record) {
      if let key = record.requestKey { keysInFlight.remove(key) }
      if case .following(let event) = record {
        followsInFlight.remove(FollowPair(follower: event.follower, followee: event.followee))
      }
    }
  }

  private mutating func nextFollowSequence(_ user: UserID, _ view: UserView) -> UInt64 {
    let sequence = max(view.lastFollowSequence, lastAssignedFollowSequence[user] ?? 0) + 1
    lastAssignedFollowSequence[user] = sequence
    return sequence
  }

  /// How mirroring a write to the slave went.
  public enum MirrorOutcome: Hashable, Sendable {
    case mirrored
    /// The coordinator named no live slave: the master acknowledges alone; the slave catches up on return.
    case noSlave
    /// The slave did not answer, though the master believes it alive: the write is not acknowledged (it stays
    /// queued for the slave), since a master crash now would promote a slave that lacks it.
    case slaveUnreachable
    /// The slave answered that its storage refused the write (a full or failing disk); it kept none of it, so
    /// the refusal is final. Writes work again once the slave's disk does.
    case slaveStorageFailed(String)
    /// The slave knows a newer epoch: this server was replaced and must not acknowledge.
    case staleEpoch(Epoch)
  }

  /// What the client hears after a write was persisted locally and mirrored (or not).
  public enum WriteOutcome: Hashable, Sendable {
    case acknowledge(Reply)
    case refuse(SNSError)
  }

  /// Finishes a write. A newer epoch at the slave means this server is no longer master: it steps down
  /// and refuses, so the client retries at the real master.
  public mutating func onWriteFinished(_ plan: WritePlan, mirror: MirrorOutcome, now: Timestamp)
    -> WriteOutcome
  {
    switch mirror {
    case .mirrored, .noSlave:
      for key in plan.records.compactMap(\.record.requestKey) { attemptedWrites.forget(key) }
      return .acknowledge(plan.reply)
    case .slaveUnreachable:
      // Acknowledging here would lose the write if the master crashed before its next heartbeat re-sent it:
      // the slave, alive all along, would be promoted without it. Only a slave the coordinator declared dead
      // (`noSlave`) lets the master acknowledge alone.
      return .refuse(.unavailable("the slave did not confirm the write"))
    case .slaveStorageFailed(let why):
      return .refuse(.storage("the slave could not store the write: \(why)"))
    case .staleEpoch(let newer):
      if newer > epoch {
        phase = .slave(epoch: newer, master: nil, caughtUp: false)
        leaseExpiry = nil
      }
      return .refuse(.notMaster("replaced by a master of epoch \(newer)"))
    }
  }
}
