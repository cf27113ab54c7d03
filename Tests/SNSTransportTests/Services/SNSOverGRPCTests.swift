import Foundation
import Logging
import SNSCore
import SNSTestSupport
import SNSTransport
import Testing

/// The core actors behind real gRPC listeners on loopback, in one process: the mapping and the services,
/// end to end, with real files and short intervals.
@Suite("SNS over gRPC")
struct SNSOverGRPCTests {
  static let logger = Logger.quiet("sns-over-grpc")

  /// A coordinator, one cluster with master + slave + synchronizer, all over gRPC on 127.0.0.1. Tests send
  /// heartbeats themselves, so the interval is long: a loaded machine must not let the lease lapse mid-test.
  final class Deployment: Sendable {
    let listeners: [GRPCServer]
    private let serving: GRPCServerGroup
    let coordinatorEndpoint: Endpoint
    let servers: [Server]
    let synchronizer: Synchronizer
    let dialer: GRPCDialer
    let root: String

    init(root: String, secret: String? = nil) throws {
      self.root = root
      let clock = SystemClock()
      let dialer = GRPCDialer(options: CallOptions(timeout: .seconds(10), secret: secret))
      self.dialer = dialer
      let check = SecretCheck(secret: secret)
      let coordinator = Coordinator(
        configuration: CoordinatorConfiguration(
          clusterCount: 1, heartbeatInterval: .seconds(300), missCount: 2),
        clock: clock, logger: SNSOverGRPCTests.logger)
      let coordinatorListener = try GRPCServer(
        listen: "127.0.0.1:0", handlers: CoordinatorService.handlers(coordinator, secret: check),
        logger: SNSOverGRPCTests.logger, gracePeriod: .milliseconds(200))
      coordinatorEndpoint = try Endpoint(host: "127.0.0.1", port: coordinatorListener.boundPort)
      var listeners = [coordinatorListener]
      var servers: [Server] = []
      for id in 1...2 {
        // Bind first (port 0), then tell the server the port it got: the handlers reach it through a box.
        let box = LateBoundServer()
        let listener = try GRPCServer(
          listen: "127.0.0.1:0", handlers: ServerService.handlers(box, secret: check),
          logger: SNSOverGRPCTests.logger, gracePeriod: .milliseconds(200))
        let endpoint = try Endpoint(host: "127.0.0.1", port: listener.boundPort)
        let serverID = try ServerID(id)
        let (server, _) = try Assembly.server(
          ServerConfiguration(
            cluster: try ClusterID(1), id: serverID, endpoint: endpoint, clusterCount: 1,
            heartbeatInterval: .seconds(300), missCount: 2, timelinePollInterval: .milliseconds(20)),
          machine: root, roleIfNew: ServerDirectoryLayout.firstRole(of: serverID),
          coordinator: dialer.coordinator(at: coordinatorEndpoint), dialer: dialer, clock: clock,
          logger: SNSOverGRPCTests.logger)
        box.set(server)
        listeners.append(listener)
        servers.append(server)
      }
      let syncListenerBox = LateBoundSynchronizer()
      let syncListener = try GRPCServer(
        listen: "127.0.0.1:0", handlers: SynchronizerService.handlers(syncListenerBox, secret: check),
        logger: SNSOverGRPCTests.logger, gracePeriod: .milliseconds(200))
      synchronizer = try Assembly.synchronizer(
        SynchronizerConfiguration(
          cluster: try ClusterID(1), endpoint: try Endpoint(host: "127.0.0.1", port: syncListener.boundPort),
          clusterCount: 1),
        machine: root, coordinator: dialer.coordinator(at: coordinatorEndpoint), dialer: dialer, clock: clock,
        logger: SNSOverGRPCTests.logger)
      syncListenerBox.set(synchronizer)
      listeners.append(syncListener)
      self.listeners = listeners
      self.servers = servers
      serving = GRPCServerGroup(listeners)
      serving.start()
    }

    /// Heartbeats until server 1 is master and server 2 its caught-up slave. One heartbeat each is not enough
    /// on a loaded machine: an answer that misses its deadline leaves a server registering.
    func settleRoles() async {
      let deadline = ContinuousClock.now + .seconds(20)
      while ContinuousClock.now < deadline {
        for server in servers { await server.heartbeat() }
        if case .master = await servers[0].phase, case .slave(_, _, true) = await servers[1].phase { return }
        try? await Task.sleep(for: .milliseconds(20))
      }
    }

    func client(_ user: Int) throws -> SNSClient {
      SNSClient(
        user: try UserID(user), coordinator: dialer.coordinator(at: coordinatorEndpoint), dialer: dialer,
        clock: SystemClock(),
        logger: SNSOverGRPCTests.logger, failoverTimeout: .seconds(2), retryDelay: .milliseconds(20))
    }

    func stop() async {
      await serving.stop()
      dialer.close()
    }
  }

  @Test("login, follow, post, sync, list and a streamed timeline, all over gRPC")
  func endToEnd() async throws {
    try await withTemporaryDirectory { root in
      let deployment = try Deployment(root: root)
      await deployment.settleRoles()
      let one = try deployment.client(1)
      let two = try deployment.client(2)
      #expect(try await one.execute(.login) == .success)
      #expect(try await two.execute(.login) == .success)
      #expect(try await one.execute(.follow(try UserID(2))) == .success)
      #expect(try await one.execute(.follow(try UserID(2))) == Reply(.alreadyExists))
      #expect(try await one.execute(.follow(try UserID(9))) == Reply(.invalidUsername))
      #expect(try await one.execute(.unfollow(try UserID(9))) == Reply(.invalidUsername))
      try await deployment.synchronizer.round()
      let subscription = try await one.timeline()
      #expect(try await two.execute(.post(try PostText("over the wire"))) == .success)
      try await deployment.synchronizer.round()
      var iterator = subscription.updates.makeAsyncIterator()
      let received = try await iterator.next()
      #expect(received?.text.value == "over the wire")
      #expect(received?.author == (try UserID(2)))
      let list = try await two.execute(.list)
      #expect(list.allUsers == [try UserID(1), try UserID(2)])
      #expect(list.followers == [try UserID(1)])
      await deployment.stop()
    }
  }

  @Test("internal calls need the cluster secret when one is configured")
  func secretRequired() async throws {
    try await withTemporaryDirectory { root in
      let deployment = try Deployment(root: root, secret: "s3cret")
      await deployment.settleRoles()
      #expect(try await deployment.client(1).execute(.login) == .success)
      let stranger = GRPCDialer(options: CallOptions(timeout: .seconds(10), secret: "wrong"))
      await #expect(throws: SNSError.unauthenticated) {
        _ = try await stranger.coordinator(at: deployment.coordinatorEndpoint).heartbeat(
          ServerHeartbeat(
            cluster: try ClusterID(1), server: try ServerID(7), endpoint: try Endpoint(parsing: "127.0.0.1:1")
          ))
      }
      let anonymous = GRPCDialer(options: CallOptions(timeout: .seconds(10)))
      await #expect(throws: SNSError.unauthenticated) {
        _ = try await anonymous.synchronizer(
          at: try Endpoint(parsing: "127.0.0.1:\(deployment.listeners[3].boundPort)")
        )
        .deliver(SyncBatch(from: try ClusterID(1), users: [try UserID(5)]))
      }
      stranger.close()
      anonymous.close()
      await deployment.stop()
    }
  }
}
