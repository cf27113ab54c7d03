import Logging
import ServiceLifecycle

/// An HTTP/2 gRPC server (plaintext, or TLS only) serving a fixed table of method handlers.
///
/// `run()` serves until a graceful shutdown (ServiceLifecycle's, or ``beginGracefulShutdown()``) or until its
/// task is cancelled, and returns once every call has ended: each call's handler is a child task of `run()`.
/// A graceful shutdown stops accepting calls, lets those in flight finish for up to the grace period, then
/// cancels the rest; cancelling `run()` cancels them at once.
public final class GRPCServer: Service, Sendable {
  private let core: ServerCore
  private let gracePeriod: Duration

  /// Binds `address` ("host:port"; port 0 picks a free port). Nothing is served before `run()`.
  ///
  /// With `tls` (which needs `certificateChainPEM` and `privateKeyPEM`, see
  /// ``GRPCTLSConfiguration``) the port speaks TLS only: plaintext clients cannot connect.
  ///
  /// Throws `GRPCTransportError.bindFailed` when the address is in use or not bindable, and
  /// `GRPCTransportError.invalidTLSConfiguration` when gRPC cannot use the key or certificate.
  public init(
    listen address: String, handlers: [String: GRPCMethodHandler], logger: Logger,
    tls: GRPCTLSConfiguration? = nil, gracePeriod: Duration = .seconds(2)
  ) throws {
    core = try ServerCore(address: address, handlers: handlers, logger: logger, tls: tls)
    self.gracePeriod = gracePeriod
  }

  /// A server that never ran releases its port and its queue here; one that ran did so in `run()`.
  deinit { core.releaseIfNeverStarted() }

  /// The port actually bound (useful after binding port 0).
  public var boundPort: Int { core.boundPort }

  /// Serves calls until a graceful shutdown or cancellation; returns when every call has ended and the
  /// listener is closed. A server runs once: a second `run()` returns at once.
  public func run() async {
    guard core.start() else { return }
    await withTaskGroup(of: Void.self) { group in
      // Past the grace period, cancel what is still running; shutdown then completes promptly.
      group.addTask { [core] in
        let grace = await core.shutdownBegan.value
        try? await Task.sleep(for: grace)
        if !Task.isCancelled { core.cancelAllCalls(reason: "grace period over") }
      }
      await withGracefulShutdownHandler {
        await withTaskCancellationHandler {
          await serveAcceptedCalls()
        } onCancel: { [core] in
          core.beginShutdown(gracePeriod: .zero)
          core.cancelAllCalls(reason: "server task cancelled")
        }
      } onGracefulShutdown: { [core, gracePeriod] in
        core.beginShutdown(gracePeriod: gracePeriod)
      }
      group.cancelAll()  // every call has ended: the grace timer has nothing left to cancel
    }
    await core.finish()
  }

  /// Stops accepting calls; those in flight get the grace period before they are cancelled.
  public func beginGracefulShutdown() { core.beginShutdown(gracePeriod: gracePeriod) }

  /// Runs `body` while the server serves, then shuts it down gracefully and waits until it stopped.
  public func withRunning<T>(_ body: () async throws -> T) async rethrows -> T {
    try await withThrowingTaskGroup(of: Void.self) { group in
      group.addTask { await self.run() }
      defer { beginGracefulShutdown() }
      return try await body()
    }
  }

  /// One child task per accepted call, until the shutdown notification ends the queue of accepted calls
  /// (gRPC delivers it after every call it accepted before it, so no call is left out).
  private func serveAcceptedCalls() async {
    await withDiscardingTaskGroup { group in
      while let call = await core.accepted.next() {
        // Where available the call starts on this task's thread and only moves at its first suspension.
        if #available(macOS 26.0, *) {
          group.addImmediateTask { await call.serve() }
        } else {
          group.addTask { await call.serve() }
        }
      }
    }
  }
}
