import SNSCore
import Testing

@Suite("ServerState")
struct ServerStateTests {
  let t0 = Timestamp(milliseconds: 5_000_000)
  let me = ServerDescriptor(
    cluster: cluster(1), id: server(1), endpoint: endpoint("127.0.0.2:9001"), role: .master)
  let other = ServerDescriptor(
    cluster: cluster(1), id: server(2), endpoint: endpoint("127.0.0.2:9002"), role: .slave)

  func configuration() -> ServerConfiguration {
    ServerConfiguration(
      cluster: cluster(1), id: server(1), endpoint: me.endpoint, clusterCount: 3,
      heartbeatInterval: .seconds(10), missCount: 2)
  }

  /// A master of `epoch` that has pulled its slave's records (as every freshly started master does first).
  func master(epoch: UInt64 = 1) -> ServerState {
    var state = ServerState(configuration: configuration())
    _ = state.onHeartbeatReply(
      RoleAssignment(role: .master, epoch: Epoch(epoch), master: me, slave: other), sentAt: t0, now: t0)
    state.onReconcileFinished(epoch: Epoch(epoch), succeeded: true, now: t0)
    return state
  }

  @Test("a process that starts as master pulls its slave's records before it takes writes")
  func reconcileFirst() {
    var state = ServerState(configuration: configuration())
    let actions = state.onHeartbeatReply(
      RoleAssignment(role: .master, epoch: Epoch(1), master: me, slave: other), sentAt: t0, now: t0)
    #expect(actions.contains(.reconcile(from: other, epoch: Epoch(1))))
    #expect(!state.mayWrite(now: t0))
    state.onReconcileFinished(epoch: Epoch(1), succeeded: false, now: t0)
    #expect(!state.mayWrite(now: t0))
    // Retried at the next heartbeat answer.
    #expect(
      state.onHeartbeatReply(
        RoleAssignment(role: .master, epoch: Epoch(1), master: me, slave: other), sentAt: t0, now: t0
      ).contains(.reconcile(from: other, epoch: Epoch(1))))
    state.onReconcileFinished(epoch: Epoch(1), succeeded: true, now: t0)
    #expect(state.mayWrite(now: t0))
    // A lone master has no one to ask, so it writes alone; when a slave appears it pulls from it first.
    var lone = ServerState(configuration: configuration())
    _ = lone.onHeartbeatReply(
      RoleAssignment(role: .master, epoch: Epoch(1), master: me, slave: nil), sentAt: t0, now: t0)
    #expect(lone.mayWrite(now: t0))
    #expect(
      lone.onHeartbeatReply(
        RoleAssignment(role: .master, epoch: Epoch(1), master: me, slave: other), sentAt: t0, now: t0
      ).contains(.reconcile(from: other, epoch: Epoch(1))))
    #expect(!lone.mayWrite(now: t0))
    lone.onReconcileFinished(epoch: Epoch(1), succeeded: true, now: t0)
    #expect(lone.mayWrite(now: t0))
    // A slave discovered between heartbeats stops writes as well until the pull is done.
    var alone = ServerState(configuration: configuration())
    _ = alone.onHeartbeatReply(
      RoleAssignment(role: .master, epoch: Epoch(1), master: me, slave: nil), sentAt: t0, now: t0)
    alone.onSlaveDiscovered(other)
    #expect(!alone.mayWrite(now: t0))
  }

  @Test("a slave reports its catch-up generation, and catches up again when the coordinator raises it")
  func syncGenerations() {
    var state = ServerState(configuration: configuration())
    let master = ServerDescriptor(cluster: cluster(1), id: server(2), endpoint: other.endpoint, role: .master)
    #expect(
      state.onHeartbeatReply(
        RoleAssignment(role: .slave, epoch: Epoch(1), master: master, slave: nil, syncGeneration: 3),
        sentAt: t0, now: t0
      ).contains(.catchUp(from: master, epoch: Epoch(1))))
    state.onCatchUpFinished(epoch: Epoch(1), succeeded: true, now: t0)
    guard case .sendHeartbeat(let beat) = state.onTimer(.heartbeat, now: t0).first else {
      Issue.record("expected a heartbeat")
      return
    }
    #expect(beat.caughtUpGeneration == 3 && beat.epoch == Epoch(1))
    #expect(
      !state.onHeartbeatReply(
        RoleAssignment(role: .slave, epoch: Epoch(1), master: master, slave: nil, syncGeneration: 3),
        sentAt: t0, now: t0
      ).contains(.catchUp(from: master, epoch: Epoch(1))))
    #expect(
      state.onHeartbeatReply(
        RoleAssignment(role: .slave, epoch: Epoch(1), master: master, slave: nil, syncGeneration: 4),
        sentAt: t0, now: t0
      ).contains(.catchUp(from: master, epoch: Epoch(1))))
  }

  /// User 1 (cluster 1) registered; 2, 4 known; 1 follows 4.
  var view: UserView {
    UserView(
      knownUsers: [user(1), user(2), user(4)], following: [user(4)], followers: [user(2)],
      lastFollowSequence: 3, lastPostSequence: 7)
  }

  @Test(
    "course replies for follow and unfollow (the MP1 sheet)",
    arguments: [
      (Command.follow(user(1)), ReplyStatus.alreadyExists),  // self
      (.follow(user(4)), .alreadyExists),  // already following
      (.follow(user(99)), .invalidUsername),  // unknown
      (.unfollow(user(2)), .notAFollower),
      (.unfollow(user(99)), .invalidUsername),  // unknown
      (.unfollow(user(1)), .invalidUsername),  // self
    ])
  func refusals(command: Command, expected: ReplyStatus) {
    var state = master()
    #expect(state.onCommand(command, for: user(1), view: view, now: t0) == .reply(Reply(expected)))
  }

  @Test("a user of another cluster or one who never logged in is an invalid username")
  func wrongUser() {
    var state = master()
    #expect(state.onCommand(.list, for: user(2), view: view, now: t0) == .reply(Reply(.invalidUsername)))
    #expect(state.onCommand(.list, for: user(7), view: view, now: t0) == .reply(Reply(.invalidUsername)))
  }

  @Test("writes are planned with the next sequence, the epoch and the slave")
  func writes() {
    var state = master()
    let follow = state.onCommand(.follow(user(2)), for: user(1), view: view, now: t0)
    let event = FollowEvent(kind: .follow, follower: user(1), followee: user(2), sequence: 4, time: t0)
    guard case .write(let plan) = follow else {
      Issue.record("expected a write, got \(follow)")
      return
    }
    #expect(plan.records == [PlacedRecord(.following(event), in: .follows(user(1)))])
    #expect(plan.epoch == Epoch(1))
    #expect(plan.slave == other)
    // Two posts decided before either reached the files still get distinct sequences.
    let first = state.onCommand(.post(text("a")), for: user(1), view: view, now: t0)
    let second = state.onCommand(.post(text("b")), for: user(1), view: view, now: t0)
    guard case .write(let a) = first, case .write(let b) = second else {
      Issue.record("expected writes")
      return
    }
    #expect(
      a.records.first?.record
        == .post(Post(id: PostID(author: user(1), sequence: 8), time: t0, text: text("a"))))
    #expect(
      b.records.first?.record
        == .post(Post(id: PostID(author: user(1), sequence: 9), time: t0, text: text("b"))))
  }

  @Test("LIST answers from the view; login of a new user writes it once")
  func reads() {
    var state = master()
    #expect(
      state.onCommand(.list, for: user(1), view: view, now: t0)
        == .reply(Reply(.success, allUsers: [user(1), user(2), user(4)], followers: [user(2)])))
    #expect(state.onCommand(.login, for: user(1), view: view, now: t0) == .reply(.success))
    guard case .write(let plan) = state.onCommand(.login, for: user(7), view: view, now: t0) else {
      Issue.record("login of a new user must write")
      return
    }
    #expect(plan.records == [PlacedRecord(.user(user(7)), in: .users)])
  }

  @Test("the coordinator's heartbeat interval and miss count set the lease and the heartbeat schedule")
  func leaseFromTheCoordinator() {
    var state = ServerState(configuration: configuration())  // started with 10 s × 2
    _ = state.onHeartbeatReply(
      RoleAssignment(
        role: .master, epoch: Epoch(1), master: me, slave: nil, heartbeatInterval: .seconds(1), missCount: 3),
      sentAt: t0, now: t0)
    #expect(state.lease == .seconds(3))
    #expect(state.leaseExpiry == t0 + .seconds(3))
    #expect(state.onTimer(.heartbeat, now: t0).contains(.schedule(.heartbeat, after: .seconds(1))))
  }

  @Test("a server still registering refuses mirrors of any epoch: it cannot tell a deposed master's")
  func registeringRefusesMirrors() {
    var registering = ServerState(configuration: configuration())
    for epoch in [UInt64(1), 7] {
      let request = MirrorRequest(
        cluster: cluster(1), epoch: Epoch(epoch), records: [PlacedRecord(.user(user(7)), in: .users)])
      guard case .refuse(.unavailable) = registering.onMirror(request, now: t0) else {
        Issue.record("a registering server applied a mirror of epoch \(epoch)")
        return
      }
    }
  }

  @Test("no writes before registration, as slave, or after the lease lapsed")
  func refusedWhenNotMaster() {
    var registering = ServerState(configuration: configuration())
    #expect(
      registering.onCommand(.login, for: user(1), view: view, now: t0)
        == .refuse(.notMaster("server 1 of cluster 1 is not master")))
    var state = master()
    #expect(state.mayWrite(now: t0 + .milliseconds(19_999)))
    #expect(!state.mayWrite(now: t0 + .seconds(20)))
    guard
      case .refuse(.unavailable) = state.onCommand(.login, for: user(1), view: view, now: t0 + .seconds(20))
    else {
      Issue.record("expected a refusal after the lease")
      return
    }
    _ = state.onHeartbeatReply(
      RoleAssignment(role: .slave, epoch: Epoch(2), master: other, slave: nil), sentAt: t0, now: t0)
    guard case .refuse(.notMaster) = state.onCommand(.login, for: user(1), view: view, now: t0) else {
      Issue.record("a slave must refuse")
      return
    }
  }

  @Test("a replaced master becomes slave and catches up from the new master")
  func deposed() {
    var state = master()
    let newMaster = ServerDescriptor(
      cluster: cluster(1), id: server(2), endpoint: other.endpoint, role: .master)
    let actions = state.onHeartbeatReply(
      RoleAssignment(role: .slave, epoch: Epoch(2), master: newMaster, slave: nil), sentAt: t0, now: t0)
    #expect(actions.contains(.catchUp(from: newMaster, epoch: Epoch(2))))
    #expect(state.phase == .slave(epoch: Epoch(2), master: newMaster, caughtUp: false))
    state.onCatchUpFinished(epoch: Epoch(2), succeeded: true, now: t0)
    #expect(state.phase == .slave(epoch: Epoch(2), master: newMaster, caughtUp: true))
    // A repeated answer of the same epoch does not catch up again.
    #expect(
      !state.onHeartbeatReply(
        RoleAssignment(role: .slave, epoch: Epoch(2), master: newMaster, slave: nil), sentAt: t0, now: t0
      ).contains(.catchUp(from: newMaster, epoch: Epoch(2))))
  }

  @Test("mirror epochs: older refused, same accepted, newer demotes a master")
  func mirrorEpochs() {
    var slave = ServerState(configuration: configuration())
    _ = slave.onHeartbeatReply(
      RoleAssignment(role: .slave, epoch: Epoch(3), master: other, slave: nil), sentAt: t0, now: t0)
    let records = [PlacedRecord(.user(user(1)), in: .users)]
    #expect(
      slave.onMirror(MirrorRequest(cluster: cluster(1), epoch: Epoch(2), records: records), now: t0)
        == .refuse(.staleEpoch(current: Epoch(3))))
    #expect(
      slave.onMirror(MirrorRequest(cluster: cluster(1), epoch: Epoch(3), records: records), now: t0)
        == .apply(records))
    #expect(
      slave.onMirror(MirrorRequest(cluster: cluster(2), epoch: Epoch(3), records: records), now: t0)
        != .apply(records))
    var oldMaster = master(epoch: 1)
    #expect(
      oldMaster.onMirror(MirrorRequest(cluster: cluster(1), epoch: Epoch(2), records: records), now: t0)
        == .apply(records))
    #expect(!oldMaster.mayWrite(now: t0))
  }

  @Test("a stale epoch at the slave means no acknowledgement")
  func staleMirror() {
    var state = master()
    guard case .write(let plan) = state.onCommand(.post(text("x")), for: user(1), view: view, now: t0) else {
      Issue.record("expected a write")
      return
    }
    guard case .refuse(.notMaster) = state.onWriteFinished(plan, mirror: .staleEpoch(Epoch(2)), now: t0)
    else {
      Issue.record("must not acknowledge")
      return
    }
    #expect(!state.mayWrite(now: t0))
    var other = master()
    guard case .write(let plan2) = other.onCommand(.post(text("y")), for: user(1), view: view, now: t0) else {
      return
    }
    #expect(other.onWriteFinished(plan2, mirror: .noSlave, now: t0) == .acknowledge(.success))
    // A live slave that did not confirm must not let the master acknowledge alone (simulation seed 95).
    #expect(
      other.onWriteFinished(plan2, mirror: .slaveUnreachable, now: t0)
        == .refuse(.unavailable("the slave did not confirm the write")))
  }

  @Test("a follow retried while its first attempt is being written is refused, so it is stored once")
  func followRetryInFlight() {
    var state = master()
    let view = UserView(knownUsers: [user(1), user(2)])
    guard case .write(let first) = state.onCommand(.follow(user(2)), for: user(1), view: view, now: t0) else {
      Issue.record("the first follow was not planned as a write")
      return
    }
    // The files do not show the first attempt yet: only the in-flight pair keeps the retry from a second event.
    guard case .refuse(.unavailable) = state.onCommand(.follow(user(2)), for: user(1), view: view, now: t0)
    else {
      Issue.record("a retry during the first attempt was planned again")
      return
    }
    // Another pair is not held up.
    let third = UserView(knownUsers: [user(1), user(2), user(4)])
    guard case .write = state.onCommand(.follow(user(4)), for: user(1), view: third, now: t0) else {
      Issue.record("a follow of another user was held up")
      return
    }
    state.onWriteEnded(first)
    let after = UserView(knownUsers: [user(1), user(2)], following: [user(2)], lastFollowSequence: 1)
    #expect(
      state.onCommand(.follow(user(2)), for: user(1), view: after, now: t0) == .reply(Reply(.alreadyExists)))
    guard case .write = state.onCommand(.unfollow(user(2)), for: user(1), view: after, now: t0) else {
      Issue.record("an unfollow after the follow ended was not planned")
      return
    }
  }

  @Test("a keyed follow retried after its first attempt was stored is answered SUCCESS, not a second event")
  func keyedFollowRetryStored() {
    var state = master()
    let key = RequestKey(0x51)
    let stored = UserView(
      knownUsers: [user(1), user(2)], following: [user(2)], lastFollowSequence: 1,
      followKeys: Set([key].compactMap { $0 }))
    #expect(
      state.onCommand(.follow(user(2), key: key), for: user(1), view: stored, now: t0) == .reply(.success))
    // Without the key, the same state answers what the course sheet says of a second follow.
    #expect(
      state.onCommand(.follow(user(2)), for: user(1), view: stored, now: t0) == .reply(Reply(.alreadyExists)))
    let unfollowed = UserView(
      knownUsers: [user(1), user(2)], lastFollowSequence: 2, followKeys: Set([key].compactMap { $0 }))
    #expect(
      state.onCommand(.unfollow(user(2), key: key), for: user(1), view: unfollowed, now: t0)
        == .reply(.success))
  }

  @Test("a keyed follow retried after a refused attempt is the very same event while nothing came after it")
  func keyedFollowRetryReusesEvent() {
    var state = master()
    let key = RequestKey(0x52)
    let view = UserView(knownUsers: [user(1), user(2), user(3)])
    guard
      case .write(let first) = state.onCommand(.follow(user(2), key: key), for: user(1), view: view, now: t0)
    else {
      Issue.record("the first follow was not planned as a write")
      return
    }
    #expect(!first.retriesEarlierAttempt)
    // While it is written, a retry is refused: its outcome is not known yet.
    guard
      case .refuse(.unavailable) = state.onCommand(
        .follow(user(2), key: key), for: user(1), view: view, now: t0)
    else {
      Issue.record("a retry during the first attempt was planned")
      return
    }
    // The slave did not confirm: refused, in doubt (the slave may hold it).
    #expect(state.onWriteFinished(first, mirror: .slaveUnreachable, now: t0) != .acknowledge(.success))
    state.onWriteEnded(first)
    let later = t0 + .seconds(1)
    guard
      case .write(let retry) = state.onCommand(
        .follow(user(2), key: key), for: user(1), view: view, now: later)
    else {
      Issue.record("the retry was not planned as a write")
      return
    }
    #expect(retry.records == first.records, "the retry is not the first attempt's event")
    #expect(retry.retriesEarlierAttempt)
    state.onWriteEnded(retry)
    // Once another event of the user was planned, the earlier one cannot come back in its place.
    guard case .write(let other) = state.onCommand(.follow(user(3)), for: user(1), view: view, now: later)
    else {
      Issue.record("a follow of another user was not planned")
      return
    }
    state.onWriteEnded(other)
    guard
      case .write(let third) = state.onCommand(
        .follow(user(2), key: key), for: user(1), view: view, now: later),
      case .following(let event) = third.records.first?.record
    else {
      Issue.record("the third attempt was not planned as a write")
      return
    }
    #expect(event.sequence == 3 && event.key == key && event.time == later)
  }
}
