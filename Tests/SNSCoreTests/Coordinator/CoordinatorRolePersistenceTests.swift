import Foundation
import Logging
import SNSCore
import SNSTestSupport
import Synchronization
import Testing

/// A coordinator with a roles file restarts knowing every epoch, master and sync generation it handed out.
@Suite("Coordinator roles across a restart")
struct CoordinatorRolePersistenceTests {
  let configuration = CoordinatorConfiguration(
    clusterCount: 1, heartbeatInterval: .milliseconds(100), missCount: 2)
  let logger = Logger(label: "test")

  func beat(_ id: Int, epoch: Epoch, role: Role?, caughtUp generation: UInt64 = 0) -> ServerHeartbeat {
    ServerHeartbeat(
      cluster: cluster(1), server: server(id), endpoint: endpoint("127.0.0.2:\(9000 + id)"), epoch: epoch,
      caughtUpGeneration: generation, role: role)
  }

  /// Server 1 registers as master, server 2 as its slave, which then reports a catch-up.
  func register(_ coordinator: Coordinator) async throws -> (master: RoleAssignment, slave: RoleAssignment) {
    let master = try await coordinator.heartbeat(beat(1, epoch: .zero, role: nil))
    let slave = try await coordinator.heartbeat(beat(2, epoch: .zero, role: nil))
    _ = try await coordinator.heartbeat(
      beat(2, epoch: master.epoch, role: .slave, caughtUp: slave.syncGeneration))
    return (master, slave)
  }

  /// Only server `id` heartbeats, `times` heartbeat intervals in a row; the coordinator checks liveness.
  func onlyHeartbeats(
    _ id: Int, as role: Role, of pair: (master: RoleAssignment, slave: RoleAssignment), times: Int,
    to coordinator: Coordinator, clock: ManualClock
  ) async throws {
    for _ in 0..<times {
      clock.advance(by: .milliseconds(100))
      _ = try await coordinator.heartbeat(
        beat(id, epoch: pair.master.epoch, role: role, caughtUp: id == 2 ? pair.slave.syncGeneration : 0))
      await coordinator.checkLiveness()
    }
  }

  /// A coordinator restarted over `store` hears only from the slave, which reports its catch-up from before;
  /// the master stays master of its epoch: the slave is not promoted.
  func expectNoPromotionAfterRestart(
    over store: FileCoordinatorRoleStore, of pair: (master: RoleAssignment, slave: RoleAssignment),
    clock: ManualClock
  ) async throws {
    let after = try await Coordinator.resuming(
      configuration: configuration, clock: clock, logger: logger, roleStore: store)
    try await onlyHeartbeats(2, as: .slave, of: pair, times: 5, to: after, clock: clock)
    let cluster = try await after.status().clusters[0]
    #expect(cluster.master == server(1) && cluster.epoch == pair.master.epoch, "\(cluster)")
  }

  /// Server 1 master, server 2 its caught-up slave; then server 1 falls silent and server 2 is promoted.
  func failOver(_ coordinator: Coordinator, clock: ManualClock) async throws -> Epoch {
    let pair = try await register(coordinator)
    let first = pair.master
    try await onlyHeartbeats(2, as: .slave, of: pair, times: 3, to: coordinator, clock: clock)
    let promoted = try await coordinator.status().clusters[0]
    #expect(promoted.master == server(2) && promoted.epoch > first.epoch)
    return promoted.epoch
  }

  @Test("a deposed master that reports first after the restart is told it is slave of the newer epoch")
  func deposedMasterReportsFirst() async throws {
    try await withTemporaryDirectory { directory in
      let clock = ManualClock()
      let store = try FileCoordinatorRoleStore(directory: directory)
      let before = Coordinator(configuration: configuration, clock: clock, logger: logger, roleStore: store)
      let epoch = try await failOver(before, clock: clock)

      clock.advance(by: .milliseconds(50))
      let after = try await Coordinator.resuming(
        configuration: configuration, clock: clock, logger: logger,
        roleStore: try FileCoordinatorRoleStore(directory: directory))
      let deposed = try await after.heartbeat(beat(1, epoch: Epoch(1), role: .master))
      #expect(deposed.role == .slave && deposed.epoch == epoch && deposed.master?.id == server(2))
      await #expect(throws: SNSError.staleEpoch(current: epoch)) {
        try await after.slave(for: SlaveQuery(cluster: cluster(1), server: server(1), epoch: Epoch(1)))
      }
      #expect(try await after.master(forUser: user(1)).id == server(2))
    }
  }

  @Test("a slave marked out of sync before the restart is not promoted after it")
  func outOfSyncStaysOutOfSync() async throws {
    try await withTemporaryDirectory { directory in
      let clock = ManualClock()
      let store = try FileCoordinatorRoleStore(directory: directory)
      let before = Coordinator(configuration: configuration, clock: clock, logger: logger, roleStore: store)
      let pair = try await register(before)
      let master = pair.master
      // The slave falls silent; the master is told it may write alone, so the slave misses writes.
      try await onlyHeartbeats(1, as: .master, of: pair, times: 3, to: before, clock: clock)
      let answer = try await before.slave(
        for: SlaveQuery(cluster: cluster(1), server: server(1), epoch: master.epoch))
      #expect(answer == .noLiveSlave)

      // Only the slave speaks, still reporting its old catch-up; the master is gone for good.
      try await expectNoPromotionAfterRestart(over: store, of: pair, clock: clock)
    }
  }

  @Test(
    "a slave reported dead is out of sync at once: a restart before its next heartbeat does not make it promotable"
  )
  func reportedDeadStaysOutOfSync() async throws {
    try await withTemporaryDirectory { directory in
      let clock = ManualClock()
      let store = try FileCoordinatorRoleStore(directory: directory)
      let before = Coordinator(configuration: configuration, clock: clock, logger: logger, roleStore: store)
      let pair = try await register(before)
      // The slave's heartbeats stop arriving; a synchronizer asks and hears it is dead (and skips its files).
      try await onlyHeartbeats(1, as: .master, of: pair, times: 3, to: before, clock: clock)
      let seen = try await before.status().clusters[0].servers.first { $0.id == server(2) }
      #expect(seen?.alive == false)

      // The coordinator restarts before the slave's next heartbeat; then the master dies.
      try await expectNoPromotionAfterRestart(over: store, of: pair, clock: clock)
    }
  }

  @Test("no answer is given before the change it depends on is stored")
  func answersWaitForTheSave() async throws {
    let clock = ManualClock()
    let store = FlakyRoleStore()
    let coordinator = Coordinator(
      configuration: configuration, clock: clock, logger: logger, roleStore: store)
    store.failing.withLock { $0 = true }
    await #expect(throws: SNSError.self) { try await coordinator.heartbeat(beat(1, epoch: .zero, role: nil)) }
    #expect(store.saved.withLock { $0 } == nil)
    store.failing.withLock { $0 = false }
    let master = try await coordinator.heartbeat(beat(1, epoch: .zero, role: nil))
    #expect(master.role == .master)
    #expect(store.saved.withLock { $0 }?.clusters[cluster(1)]?.master == server(1))
  }

  @Test("the roles file reads back as it was written, and a damaged one is a clear error")
  func roundTrip() async throws {
    try await withTemporaryDirectory { directory in
      let store = try FileCoordinatorRoleStore(directory: directory)
      #expect(try await store.load() == nil)
      let roles = CoordinatorRoles(clusters: [
        cluster(1): CoordinatorRoles.Cluster(
          epoch: Epoch(1_764_000_000_123), master: server(2),
          servers: [
            server(1): CoordinatorRoles.Server(
              endpoint: endpoint("127.0.0.2:9001"), syncGeneration: 4, inSync: false),
            server(2): CoordinatorRoles.Server(
              endpoint: endpoint("127.0.0.2:9002"), syncGeneration: 1, inSync: true),
          ])
      ])
      try await store.save(roles)
      #expect(try await store.load() == roles)
      let path = "\(directory)/roles.json"
      try Data("{\"clusters\": [{\"id\": 0}]}".utf8).write(to: URL(fileURLWithPath: path))
      await #expect(throws: SNSError.self) { try await store.load() }
    }
  }
}

/// A role store whose saves fail while `failing` is set.
final class FlakyRoleStore: CoordinatorRoleStore {
  let failing = Mutex(false)
  let saved = Mutex<CoordinatorRoles?>(nil)

  func load() async throws -> CoordinatorRoles? { saved.withLock { $0 } }

  func save(_ roles: CoordinatorRoles) async throws {
    if failing.withLock({ $0 }) { throw SNSError.storage("disk full") }
    saved.withLock { $0 = roles }
  }
}
