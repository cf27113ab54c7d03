import SNSCore
import Testing

/// A coordinator keeps its state in memory: after a restart it learns epochs and masters from heartbeats,
/// never hands out an epoch lower than one a server reports, and keeps the master of that epoch.
@Suite("CoordinatorState after a restart")
struct CoordinatorRestartTests {
  let t0 = Timestamp(milliseconds: 1_000_000)
  let configuration = CoordinatorConfiguration(clusterCount: 1, heartbeatInterval: .seconds(10), missCount: 2)

  func beat(_ id: Int, epoch: UInt64, role: Role?, caughtUp generation: UInt64 = 0) -> ServerHeartbeat {
    ServerHeartbeat(
      cluster: cluster(1), server: server(id), endpoint: endpoint("10.0.0.1:\(9000 + id)"),
      epoch: Epoch(epoch),
      caughtUpGeneration: generation, role: role)
  }

  func assign(_ state: inout CoordinatorState, _ beat: ServerHeartbeat, at time: Timestamp) throws
    -> RoleAssignment
  {
    try state.onHeartbeat(beat, now: time).get().0
  }

  @Test("the master of epoch 2 stays master of epoch 2; its slave stays slave and must catch up again")
  func masterKeepsItsEpoch() throws {
    var state = CoordinatorState(configuration: configuration)
    let master = try assign(&state, beat(2, epoch: 2, role: .master), at: t0)
    #expect(master.role == .master && master.epoch == Epoch(2))
    let slave = try assign(&state, beat(1, epoch: 2, role: .slave, caughtUp: 5), at: t0)
    #expect(slave.role == .slave && slave.epoch == Epoch(2) && slave.master?.id == server(2))
    #expect(slave.syncGeneration > 5, "a catch-up from before the restart does not count")
    #expect(try state.master(forUser: user(1), now: t0).get().id == server(2))
  }

  @Test("a slave that reports first is not made master while the master may still speak up")
  func slaveFirst() throws {
    var state = CoordinatorState(configuration: configuration)
    let early = try assign(&state, beat(1, epoch: 2, role: .slave, caughtUp: 3), at: t0)
    #expect(early.role == .slave && early.epoch == Epoch(2) && early.master == nil)
    let master = try assign(&state, beat(2, epoch: 2, role: .master), at: t0 + .seconds(5))
    #expect(master.role == .master && master.epoch == Epoch(2))
  }

  @Test("no master within a failure timeout: a server is elected in a newer epoch than any reported")
  func electsAfterTheGrace() throws {
    var state = CoordinatorState(configuration: configuration)
    _ = try assign(&state, beat(1, epoch: 3, role: .slave), at: t0)
    #expect(try assign(&state, beat(1, epoch: 3, role: .slave), at: t0 + .seconds(19)).role == .slave)
    let elected = try assign(&state, beat(1, epoch: 3, role: .slave), at: t0 + .seconds(20))
    #expect(elected.role == .master && elected.epoch == Epoch(4))
  }

  @Test("a master of an older epoch adopted first gives way to the master of a newer one")
  func newerMasterWins() throws {
    var state = CoordinatorState(configuration: configuration)
    #expect(try assign(&state, beat(1, epoch: 1, role: .master), at: t0).role == .master)
    let newer = try assign(&state, beat(2, epoch: 2, role: .master), at: t0 + .seconds(1))
    #expect(newer.role == .master && newer.epoch == Epoch(2))
    let deposed = try assign(&state, beat(1, epoch: 1, role: .master), at: t0 + .seconds(2))
    #expect(deposed.role == .slave && deposed.epoch == Epoch(2) && deposed.master?.id == server(2))
  }

  @Test("a slave reveals a newer epoch than an adopted master's: that master is master no more")
  func slaveRevealsNewerEpoch() throws {
    var state = CoordinatorState(configuration: configuration)
    _ = try assign(&state, beat(1, epoch: 1, role: .master), at: t0)
    _ = try assign(&state, beat(3, epoch: 2, role: .slave), at: t0 + .seconds(1))
    let stale = try assign(&state, beat(1, epoch: 1, role: .master), at: t0 + .seconds(2))
    #expect(stale.role == .slave && stale.epoch == Epoch(2), "two masters could claim epoch 2")
  }

  @Test("a new deployment elects at once: servers that never had a role report epoch 0")
  func freshDeployment() throws {
    var state = CoordinatorState(configuration: configuration)
    let first = try assign(&state, beat(1, epoch: 0, role: nil), at: t0)
    #expect(first.role == .master && first.epoch == Epoch(1))
  }

  @Test(
    "a restarted server (epoch 0, its files hold data) reporting first is not made master within the grace")
  func restartedServerWaits() throws {
    var state = CoordinatorState(configuration: configuration)
    var restarted = beat(1, epoch: 0, role: nil)
    restarted.holdsData = true
    #expect(try assign(&state, restarted, at: t0).role == .slave)
    // The master of epoch 4 speaks up within the grace and keeps its role.
    let master = try assign(&state, beat(2, epoch: 4, role: .master), at: t0 + .seconds(10))
    #expect(master.role == .master && master.epoch == Epoch(4))
    #expect(try assign(&state, restarted, at: t0 + .seconds(11)).role == .slave)
  }

  @Test("within the grace a master cannot write alone: it may be a paused, deposed one")
  func noSoloWritesWithinTheGrace() throws {
    var state = CoordinatorState(configuration: configuration)
    _ = try assign(&state, beat(2, epoch: 1, role: .master), at: t0)
    let query = SlaveQuery(cluster: cluster(1), server: server(2), epoch: Epoch(1))
    guard case .failure(.unavailable) = state.slave(for: query, now: t0 + .seconds(19)) else {
      Issue.record("a master adopted within the grace was told to write alone")
      return
    }
    _ = try assign(&state, beat(2, epoch: 1, role: .master), at: t0 + .seconds(20))
    #expect(try state.slave(for: query, now: t0 + .seconds(20)).get() == .noLiveSlave)
  }

  @Test(
    "a restarted coordinator's epochs start above its previous run's: a fresh server first, then the old master"
  )
  func epochsAboveThePreviousRun() throws {
    var restarted = configuration
    restarted.firstEpoch = CoordinatorConfiguration.startingEpoch(at: t0)
    var state = CoordinatorState(configuration: restarted)
    let fresh = try assign(&state, beat(2, epoch: 0, role: nil), at: t0)
    #expect(fresh.role == .master && fresh.epoch == Epoch(UInt64(t0.milliseconds)))
    // The previous run's master of epoch 1 (nothing in its files yet) is a slave now, not a second master.
    let old = try assign(&state, beat(1, epoch: 1, role: .master), at: t0 + .seconds(1))
    #expect(old.role == .slave && old.epoch == fresh.epoch && old.master?.id == server(2))
  }
}
