import SNSCore
import Testing

@Suite("CoordinatorState")
struct CoordinatorStateTests {
  let t0 = Timestamp(milliseconds: 1_000_000)
  let configuration = CoordinatorConfiguration(clusterCount: 3, heartbeatInterval: .seconds(10), missCount: 2)

  func beat(_ clusterNumber: Int, _ id: Int, epoch: UInt64 = 0, caughtUp generation: UInt64 = 0)
    -> ServerHeartbeat
  {
    ServerHeartbeat(
      cluster: cluster(clusterNumber), server: server(id),
      endpoint: endpoint("10.0.0.\(clusterNumber):\(9000 + id)"), epoch: Epoch(epoch),
      caughtUpGeneration: generation)
  }

  func query(_ clusterNumber: Int, _ id: Int, epoch: UInt64) -> SlaveQuery {
    SlaveQuery(cluster: cluster(clusterNumber), server: server(id), epoch: Epoch(epoch))
  }

  func assign(_ state: inout CoordinatorState, _ beat: ServerHeartbeat, at time: Timestamp) throws
    -> RoleAssignment
  {
    try state.onHeartbeat(beat, now: time).get().0
  }

  @Test(
    "cluster of a user is ((u-1) mod N)+1",
    arguments: [(1, 1), (2, 2), (3, 3), (4, 1), (5, 2), (6, 3), (2_147_483_647, 1)])
  func clusterOfUser(userValue: Int, expected: Int) {
    #expect(ClusterID.of(user(userValue), clusterCount: 3) == cluster(expected))
  }

  @Test("first server is master of epoch 1, the next its slave")
  func firstRegistrations() throws {
    var state = CoordinatorState(configuration: configuration)
    let first = try assign(&state, beat(1, 1), at: t0)
    #expect(first.role == .master)
    #expect(first.epoch == Epoch(1))
    let second = try assign(&state, beat(1, 2), at: t0)
    #expect(second.role == .slave)
    #expect(second.master?.id == server(1))
    #expect(try state.master(forUser: user(4), now: t0).get().id == server(1))
    #expect(try state.slave(ofCluster: cluster(1), now: t0).get().id == server(2))
  }

  @Test("promotion only after missCount × interval of master silence, with epoch + 1")
  func promotion() throws {
    var state = CoordinatorState(configuration: configuration)
    _ = try assign(&state, beat(1, 1), at: t0)
    let joined = try assign(&state, beat(1, 2), at: t0)
    // The slave reports its catch-up of the generation it was given: now it may be promoted.
    _ = try assign(&state, beat(1, 2, epoch: 1, caughtUp: joined.syncGeneration), at: t0 + .seconds(10))
    #expect(state.checkLiveness(now: t0 + .seconds(19)).isEmpty)
    _ = try assign(&state, beat(1, 2, epoch: 1, caughtUp: joined.syncGeneration), at: t0 + .seconds(19))
    let events = state.checkLiveness(now: t0 + .seconds(20))
    #expect(
      events == [
        .serverLost(cluster(1), server(1)), .promoted(cluster(1), from: server(1), to: server(2), Epoch(2)),
      ])
    #expect(try state.master(forUser: user(1), now: t0 + .seconds(20)).get().id == server(2))
    // The old master comes back: it is told it is slave of epoch 2.
    let back = try assign(&state, beat(1, 1), at: t0 + .seconds(30))
    #expect(back.role == .slave)
    #expect(back.epoch == Epoch(2))
    #expect(back.master?.id == server(2))
  }

  @Test("a slave that has not reported a catch-up of its current generation is never promoted")
  func onlyCaughtUpSlavesArePromoted() throws {
    var state = CoordinatorState(configuration: configuration)
    _ = try assign(&state, beat(1, 1), at: t0)
    let joined = try assign(&state, beat(1, 2), at: t0)
    // Never caught up: the master dies, the cluster waits (UNAVAILABLE) rather than lose acknowledged writes.
    _ = try assign(&state, beat(1, 2, epoch: 1), at: t0 + .seconds(15))
    #expect(state.checkLiveness(now: t0 + .seconds(21)).isEmpty)
    #expect(throws: SNSError.self) { try state.master(forUser: user(1), now: t0 + .seconds(21)).get() }
    // It catches up: promotion follows.
    _ = try assign(&state, beat(1, 2, epoch: 1, caughtUp: joined.syncGeneration), at: t0 + .seconds(22))
    #expect(try state.master(forUser: user(1), now: t0 + .seconds(22)).get().id == server(2))
  }

  @Test("a slave considered dead must catch up again: its master may have acknowledged writes without it")
  func revivedSlaveMustCatchUpAgain() throws {
    var state = CoordinatorState(configuration: configuration)
    _ = try assign(&state, beat(1, 1), at: t0)
    let joined = try assign(&state, beat(1, 2), at: t0)
    _ = try assign(&state, beat(1, 2, epoch: 1, caughtUp: joined.syncGeneration), at: t0 + .seconds(5))
    // The slave goes silent; the master hears "no slave" and may acknowledge alone.
    _ = try assign(&state, beat(1, 1), at: t0 + .seconds(26))
    #expect(try state.slave(for: query(1, 1, epoch: 1), now: t0 + .seconds(26)).get() == .noLiveSlave)
    // It comes back still claiming its old catch-up: a newer generation is demanded, and the old claim
    // does not make it promotable.
    let back = try assign(
      &state, beat(1, 2, epoch: 1, caughtUp: joined.syncGeneration), at: t0 + .seconds(30))
    #expect(back.syncGeneration > joined.syncGeneration)
    _ = try assign(&state, beat(1, 2, epoch: 1, caughtUp: joined.syncGeneration), at: t0 + .seconds(40))
    _ = try assign(&state, beat(1, 2, epoch: 1, caughtUp: joined.syncGeneration), at: t0 + .seconds(50))
    #expect(
      state.checkLiveness(now: t0 + .seconds(50)).isEmpty, "the master is silent but the slave is stale")
    _ = try assign(&state, beat(1, 2, epoch: 1, caughtUp: back.syncGeneration), at: t0 + .seconds(51))
    #expect(try state.master(forUser: user(1), now: t0 + .seconds(51)).get().id == server(2))
  }

  @Test(
    "a slave that only missed heartbeats, while its master was never told it had no slave, stays promotable")
  func briefSilenceKeepsSync() throws {
    var state = CoordinatorState(configuration: configuration)
    _ = try assign(&state, beat(1, 1), at: t0)
    let joined = try assign(&state, beat(1, 2), at: t0)
    _ = try assign(&state, beat(1, 2, epoch: 1, caughtUp: joined.syncGeneration), at: t0 + .seconds(1))
    // A missed heartbeat, within the failure timeout: nobody held it dead, so it missed nothing.
    let back = try assign(
      &state, beat(1, 2, epoch: 1, caughtUp: joined.syncGeneration), at: t0 + .seconds(15))
    #expect(back.syncGeneration == joined.syncGeneration)
    #expect(try state.master(forUser: user(1), now: t0 + .seconds(25)).get().id == server(2))
  }

  @Test("a slave held dead catches up again before it can be promoted: a synchronizer may have skipped it")
  func heldDeadCatchesUpAgain() throws {
    var state = CoordinatorState(configuration: configuration)
    _ = try assign(&state, beat(1, 1), at: t0)
    let joined = try assign(&state, beat(1, 2), at: t0)
    _ = try assign(&state, beat(1, 2, epoch: 1, caughtUp: joined.syncGeneration), at: t0 + .seconds(1))
    // Silent past the failure timeout: synchronizers skip the directory of a server held dead.
    let back = try assign(
      &state, beat(1, 2, epoch: 1, caughtUp: joined.syncGeneration), at: t0 + .seconds(25))
    #expect(back.syncGeneration > joined.syncGeneration)
    #expect(state.checkLiveness(now: t0 + .seconds(35)).isEmpty, "promoted before catching up again")
    _ = try assign(&state, beat(1, 2, epoch: 1, caughtUp: back.syncGeneration), at: t0 + .seconds(36))
    #expect(try state.master(forUser: user(1), now: t0 + .seconds(36)).get().id == server(2))
  }

  @Test("only the master of the current epoch may be told to go alone; GetSlave itself marks nobody")
  func slaveQueries() throws {
    var state = CoordinatorState(configuration: configuration)
    _ = try assign(&state, beat(1, 1), at: t0)
    let joined = try assign(&state, beat(1, 2), at: t0)
    _ = try assign(&state, beat(1, 2, epoch: 1, caughtUp: joined.syncGeneration), at: t0 + .seconds(1))
    #expect(
      try state.slave(for: query(1, 1, epoch: 1), now: t0 + .seconds(1)).get()
        == .slave(
          ServerDescriptor(
            cluster: cluster(1), id: server(2), endpoint: endpoint("10.0.0.1:9002"), role: .slave)))
    // The slave is silent: a plain GetSlave says so but marks nobody, so the slave stays promotable.
    _ = try assign(&state, beat(1, 1), at: t0 + .seconds(25))
    #expect(throws: SNSError.self) { try state.slave(ofCluster: cluster(1), now: t0 + .seconds(25)).get() }
    // Back after being held dead, it catches up again (see `heldDeadCatchesUpAgain`); the query itself
    // marked nobody, so one generation more is all it needs.
    let back = try assign(
      &state, beat(1, 2, epoch: 1, caughtUp: joined.syncGeneration), at: t0 + .seconds(26))
    #expect(back.syncGeneration == joined.syncGeneration + 1)
    _ = try assign(&state, beat(1, 2, epoch: 1, caughtUp: back.syncGeneration), at: t0 + .seconds(27))
    // The slave is promoted (the master fell silent); the old master, still asking as master of epoch 1, is
    // told the epoch moved on instead of "no live slave", and nobody is marked.
    _ = try assign(&state, beat(1, 2, epoch: 1, caughtUp: back.syncGeneration), at: t0 + .seconds(40))
    #expect(try state.master(forUser: user(1), now: t0 + .seconds(46)).get().id == server(2))
    #expect(throws: SNSError.staleEpoch(current: Epoch(2))) {
      try state.slave(for: query(1, 1, epoch: 1), now: t0 + .seconds(46)).get()
    }
    #expect(throws: SNSError.staleEpoch(current: Epoch(2))) {
      try state.slave(for: query(1, 2, epoch: 1), now: t0 + .seconds(46)).get()
    }
    #expect(try state.slave(for: query(1, 2, epoch: 2), now: t0 + .seconds(46)).get() == .noLiveSlave)
  }

  @Test("a slave in the middle of a catch-up is moved to a new generation too when its master goes alone")
  func catchingUpSlaveIsMarked() throws {
    var state = CoordinatorState(configuration: configuration)
    _ = try assign(&state, beat(1, 1), at: t0)
    let joined = try assign(&state, beat(1, 2), at: t0)
    // The slave has not reported its catch-up yet when the master, not seeing it, is told to go alone.
    _ = try assign(&state, beat(1, 1), at: t0 + .seconds(25))
    #expect(try state.slave(for: query(1, 1, epoch: 1), now: t0 + .seconds(25)).get() == .noLiveSlave)
    // Its catch-up of the old generation (read before the solo write) no longer makes it promotable.
    let back = try assign(
      &state, beat(1, 2, epoch: 1, caughtUp: joined.syncGeneration), at: t0 + .seconds(26))
    #expect(back.syncGeneration > joined.syncGeneration)
    _ = try assign(&state, beat(1, 2, epoch: 1, caughtUp: joined.syncGeneration), at: t0 + .seconds(40))
    #expect(state.checkLiveness(now: t0 + .seconds(46)).isEmpty)
  }

  @Test("no live slave: no promotion, GetServer is UNAVAILABLE, and the returning master is master again")
  func onlyServerReturns() throws {
    var state = CoordinatorState(configuration: configuration)
    _ = try assign(&state, beat(2, 1), at: t0)
    #expect(state.checkLiveness(now: t0 + .seconds(60)).isEmpty)
    #expect(throws: SNSError.self) { try state.master(forUser: user(2), now: t0 + .seconds(60)).get() }
    let back = try assign(&state, beat(2, 1), at: t0 + .seconds(61))
    #expect(back.role == .master)
  }

  @Test("unknown cluster, missing synchronizer and missing slave are errors, not blank answers")
  func errors() throws {
    var state = CoordinatorState(configuration: configuration)
    #expect(throws: SNSError.self) { try state.onHeartbeat(beat(4, 1), now: t0).get() }
    #expect(throws: SNSError.self) { try state.synchronizer(forUser: user(1)).get() }
    #expect(throws: SNSError.self) { try state.slave(ofCluster: cluster(1), now: t0).get() }
    #expect(throws: SNSError.self) { try state.slave(ofCluster: cluster(9), now: t0).get() }
    #expect(throws: SNSError.self) {
      try state.onSynchronizerRegistration(
        SynchronizerDescriptor(cluster: cluster(7), endpoint: endpoint("h:1"))
      ).get()
    }
  }

  @Test("synchronizers are listed by cluster")
  func synchronizers() throws {
    var state = CoordinatorState(configuration: configuration)
    for number in [3, 1, 2] {
      try state.onSynchronizerRegistration(
        SynchronizerDescriptor(cluster: cluster(number), endpoint: endpoint("s\(number):1"))
      ).get()
    }
    #expect(state.synchronizers().map(\.cluster) == [cluster(1), cluster(2), cluster(3)])
    #expect(try state.synchronizer(forUser: user(5)).get().cluster == cluster(2))
  }
}
