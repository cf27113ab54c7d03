import Logging
import SNSCore
import SNSTransport
import ServiceLifecycle

/// One `sns` process: its gRPC listener, its actor's timer loop and its metrics endpoint (if any), stopped
/// gracefully on SIGTERM/SIGINT: the loop is cancelled and the listener drains its calls.
struct ProcessService: Service {
  let listener: GRPCServer
  let loop: @Sendable () async throws -> Void
  var metrics: MetricsListener?
  let logger: Logger

  func run() async throws {
    logger.notice("listening", metadata: ["port": "\(listener.boundPort)"])
    try await withThrowingTaskGroup(of: Void.self) { group in
      // On graceful shutdown the listener drains its calls (a 2 s grace) and returns once they ended.
      group.addTask { await listener.run() }
      do {
        try await cancelWhenGracefulShutdown { try await loop() }
      } catch is CancellationError {
        // Graceful shutdown cancels the loop; that is the normal way out.
      }
      logger.notice("shutting down")
      listener.beginGracefulShutdown()  // also when the loop ended by itself
      try await group.waitForAll()
    }
    await metrics?.stop()
  }

  /// Runs the service until SIGTERM or SIGINT, or until the supervising `cluster up` is gone.
  static func runUntilSignalled(_ service: ProcessService, logger: Logger) async throws {
    var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: service)]
    if let watch = ParentWatch.fromEnvironment(logger: logger) {
      services.append(.init(service: watch, successTerminationBehavior: .gracefullyShutdownGroup))
    }
    let group = ServiceGroup(
      configuration: ServiceGroupConfiguration(
        services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    try await group.run()
  }
}

/// Opens the listener or exits with one clear line (port in use, address not local, …).
func openListener(
  on endpoint: Endpoint, handlers: [String: GRPCMethodHandler], logger: Logger,
  tls: GRPCTLSConfiguration? = nil
) -> GRPCServer {
  do {
    return try GRPCServer(listen: endpoint.description, handlers: handlers, logger: logger, tls: tls)
  } catch {
    fail("cannot listen on \(endpoint): \(error)")
  }
}

/// Asks the coordinator for its status until it answers or `timeout` passes; exits with one clear line then.
func waitForCoordinator(
  _ coordinator: any CoordinatorPort, at endpoint: Endpoint, timeout: Duration, logger: Logger
) async
  -> CoordinatorStatus
{
  let clock = SystemClock()
  let deadline = clock.now() + timeout
  while true {
    do {
      return try await coordinator.status()
    } catch {
      guard clock.now() < deadline else { fail("cannot reach the coordinator at \(endpoint): \(error)") }
      logger.info(
        "waiting for the coordinator", metadata: ["coordinator": "\(endpoint)", "error": "\(error)"])
      try? await clock.sleep(for: .milliseconds(200))
    }
  }
}
