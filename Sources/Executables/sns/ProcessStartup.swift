import Logging
import SNSCore
import SNSTransport

/// What a server or synchronizer has once it may build its role: its logger, the cluster secret, a dialer that
/// carries it, and the coordinator, which has answered with its status.
struct ClusterMemberStartup {
  let logger: Logger
  let secret: String?
  let dialer: GRPCDialer
  let coordinator: any CoordinatorPort
  let status: CoordinatorStatus
}

extension ProcessOptions {
  /// Makes the logger and the dialer, and waits (at most `timeout`) until the coordinator at `endpoint`
  /// answers; exits with one clear line if it never does. The caller closes the dialer.
  func joinCluster(label: String, coordinator endpoint: Endpoint, timeout: Duration) async throws
    -> ClusterMemberStartup
  {
    let logger = try logging.makeLogger(label: label)
    let secret = try secret()
    let dialer = GRPCDialer(options: CallOptions(secret: secret, tls: tls.client()))
    let coordinator = dialer.coordinator(at: endpoint)
    let status = await waitForCoordinator(coordinator, at: endpoint, timeout: timeout, logger: logger)
    return ClusterMemberStartup(
      logger: logger, secret: secret, dialer: dialer, coordinator: coordinator, status: status)
  }

  /// Serves `handlers` on `endpoint` (and metrics, if asked) while `loop` runs, until SIGTERM or SIGINT;
  /// exits with one clear line if it cannot listen.
  func serve(
    role: String, handlers: [String: GRPCMethodHandler], on endpoint: Endpoint, logger: Logger,
    loop: @escaping @Sendable () async throws -> Void
  ) async throws {
    let listener = openListener(on: endpoint, handlers: handlers, logger: logger, tls: tls.server())
    let metricsListener = await metrics.start(role: role, logger: logger)
    try await ProcessService.runUntilSignalled(
      ProcessService(listener: listener, loop: loop, metrics: metricsListener, logger: logger), logger: logger
    )
  }
}
