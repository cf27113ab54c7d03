import Foundation
import Logging
import SNSCore
import SNSTestSupport
import Synchronization
import Testing

/// A master whose slave answers mirrors slowly keeps heartbeating on schedule: the coordinator must not count
/// it dead while it only waits for its slave.
@Suite("Heartbeats beside a slow mirror")
struct HeartbeatDuringSlowMirrorTests {
  /// The coordinator as the master sees it, counting the master's heartbeats.
  final class CountingCoordinator: CoordinatorPort {
    let inner: Coordinator
    let beats = Mutex(0)
    init(_ inner: Coordinator) { self.inner = inner }
    func heartbeat(_ beat: ServerHeartbeat) async throws -> RoleAssignment {
      beats.withLock { $0 += 1 }
      return try await inner.heartbeat(beat)
    }
    func registerSynchronizer(_ synchronizer: SynchronizerDescriptor) async throws {
      try await inner.registerSynchronizer(synchronizer)
    }
    func master(forUser user: UserID) async throws -> ServerDescriptor {
      try await inner.master(forUser: user)
    }
    func slave(ofCluster cluster: ClusterID) async throws -> ServerDescriptor {
      try await inner.slave(ofCluster: cluster)
    }
    func slave(for query: SlaveQuery) async throws -> SlaveAnswer { try await inner.slave(for: query) }
    func synchronizer(forUser user: UserID) async throws -> SynchronizerDescriptor {
      try await inner.synchronizer(forUser: user)
    }
    func synchronizers() async throws -> [SynchronizerDescriptor] { try await inner.synchronizers() }
    func status() async throws -> CoordinatorStatus { try await inner.status() }
  }

  /// A slave that takes `delay` to answer each mirror, and has nothing to give a pull.
  struct SlowSlave: ClientPort, ServerPeerPort {
    let delay: Duration
    func execute(_ command: Command, for user: UserID) async throws -> Reply {
      throw SNSError.notMaster("a slave")
    }
    func timeline(for user: UserID) async throws -> TimelineSubscription {
      throw SNSError.notMaster("a slave")
    }
    func mirror(_ request: MirrorRequest) async throws {
      try? await Task.sleep(for: delay)
      throw SNSError.unavailable("too slow")
    }
    func catchUp(_ request: CatchUpRequest) async throws -> CatchUpReply {
      CatchUpReply(epoch: request.epoch, records: [])
    }
  }

  @Test("a master with a backlog for a slave that needs 3 s per mirror still heartbeats every interval")
  func heartbeatsGoOnWhileTheBacklogWaits() async throws {
    try await withTemporaryDirectory { root in
      let network = InMemoryNetwork()
      let interval = Duration.milliseconds(200)
      let coordinator = CountingCoordinator(
        Coordinator(
          // The coordinator's interval is the one its answers tell the servers to keep; 20 misses (4 s) keep
          // the master's lease through a loaded machine's pauses.
          configuration: CoordinatorConfiguration(
            clusterCount: 1, heartbeatInterval: interval, missCount: 20),
          clock: SystemClock(), logger: quietLogger))
      let masterAt = endpoint("master:1")
      let slaveAt = endpoint("slave:2")
      let (master, _) = try Assembly.server(
        ServerConfiguration(
          cluster: cluster(1), id: server(1), endpoint: masterAt, clusterCount: 1, heartbeatInterval: interval
        ),
        machine: root, roleIfNew: .master, coordinator: coordinator, dialer: network, clock: SystemClock(),
        logger: quietLogger)
      network.bind(master, at: masterAt)
      network.bind(SlowSlave(delay: .seconds(3)), at: slaveAt)
      await master.heartbeat()
      // Alone, the master acknowledges by itself and keeps the write for a slave to come.
      #expect(try await master.execute(.login, for: user(1)).status == .success)
      // A slave registers: from the next heartbeat answer on, the master owes it the backlog.
      _ = try await coordinator.inner.heartbeat(
        ServerHeartbeat(cluster: cluster(1), server: server(2), endpoint: slaveAt))
      let running = Task { try await master.run() }
      // 5 heartbeats take about 1 s on schedule. A heartbeat loop that waits for the 3 s mirror sends its
      // third only after 3 s: the bound (2.5 s) lies between, with room for a loaded machine on both sides.
      let onSchedule = await eventually(within: .milliseconds(2500)) {
        coordinator.beats.withLock { $0 } >= 5
      }
      let beats = coordinator.beats.withLock { $0 }
      running.cancel()
      _ = await running.result
      #expect(onSchedule, "\(beats) heartbeats in 2.5 s at a 200 ms interval")
    }
  }
}
