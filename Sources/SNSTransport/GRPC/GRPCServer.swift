import CGRPCCore
import Logging
import Synchronization

/// An HTTP/2 gRPC server (plaintext, or TLS only) serving a fixed table of method handlers.
///
/// Call `start()` to begin serving and `shutdown(gracePeriod:)` when done.
public final class GRPCServer: Sendable {
  private let core: ServerCore

  /// Binds `address` ("host:port"; port 0 picks a free port).
  ///
  /// With `tls` (which needs `certificateChainPEM` and `privateKeyPEM`, see
  /// ``GRPCTLSConfiguration``) the port speaks TLS only: plaintext clients cannot connect.
  ///
  /// Throws `GRPCTransportError.bindFailed` when the address is in use or not bindable, and
  /// `GRPCTransportError.invalidTLSConfiguration` when gRPC cannot use the key or certificate.
  public init(
    listen address: String, handlers: [String: GRPCMethodHandler], logger: Logger,
    tls: GRPCTLSConfiguration? = nil
  ) throws {
    core = try ServerCore(address: address, handlers: handlers, logger: logger, tls: tls)
  }

  /// A server dropped without `shutdown` is shut down in the background, without grace.
  deinit {
    let core = core
    Task { await core.shutdown(gracePeriod: .zero) }
  }

  /// The port actually bound (useful after binding port 0).
  public var boundPort: Int { core.boundPort }

  /// Starts accepting calls. Calling it more than once has no effect.
  public func start() { core.start() }

  /// Stops accepting calls, lets in-flight calls finish for up to `gracePeriod`, then cancels
  /// the rest (their handlers' tasks are cancelled); returns when everything is released.
  public func shutdown(gracePeriod: Duration) async { await core.shutdown(gracePeriod: gracePeriod) }
}

/// Owns the `grpc_server`, its completion queue and the pool of posted `request_call`s.
final class ServerCore: CallOwner, @unchecked Sendable {
  // @unchecked Sendable: the immutable pointers are used through gRPC's thread-safe server API,
  // and `server` is only used under `state`'s lock once shutdown may have destroyed it.
  private struct State {
    var started = false
    var shutdownStarted = false
    var destroyed = false
    var activeCalls = 0
    /// Waiting for `activeCalls` to reach zero (shutdown).
    var drainWaiters: [CheckedContinuation<Void, Never>] = []
  }

  /// How many requests for new calls are kept posted per registered method, and for unknown
  /// methods: enough that bursts of calls do not wait for a re-post, few enough to be cheap.
  private static let postedPerMethod = 8
  private static let postedForUnknownMethods = 4

  let boundPort: Int
  let logger: Logger
  private let server: OpaquePointer
  private let queue: CompletionQueue
  private let handlers: [String: GRPCMethodHandler]
  private let routes: [Route]
  private let state = Mutex(State())
  private let finished = Promise<Void>()

  init(
    address: String, handlers: [String: GRPCMethodHandler], logger: Logger, tls: GRPCTLSConfiguration? = nil
  ) throws {
    GRPCRuntime.ensureInitialized()
    guard let server = sns_server_create() else {
      throw GRPCTransportError.resourceCreationFailed("grpc_server_create failed")
    }
    let port: Int32
    if let tls {
      guard let chain = tls.certificateChainPEM, let key = tls.privateKeyPEM else {
        grpc_server_destroy(server)
        throw GRPCTransportError.invalidTLSConfiguration(
          "a TLS listener needs a certificate chain and a private key")
      }
      port = withOptionalCString(tls.trustRootsPEM) { roots in
        sns_server_add_tls_port(server, address, chain, key, roots, tls.requireClientCertificate ? 1 : 0)
      }
      if port <= 0, sns_server_can_bind_insecure(address) != 0 {
        grpc_server_destroy(server)
        throw GRPCTransportError.invalidTLSConfiguration(
          "gRPC cannot use the TLS certificate chain and private key (not PEM, or not a matching pair)")
      }
    } else {
      port = sns_server_add_insecure_port(server, address)
    }
    guard port > 0 else {
      grpc_server_destroy(server)  // never started, so it can be destroyed right away
      throw GRPCTransportError.bindFailed(
        "cannot listen on \(address): the address is in use or not bindable")
    }
    // Registered methods skip gRPC's generic lookup, and unary ones get their request message
    // delivered with the call. Anything that fails to register is served by the generic path.
    routes = handlers.compactMap { method, handler in
      let readsRequest = if case .unary = handler { true } else { false }
      return sns_server_register_method(server, method, readsRequest ? 1 : 0).map {
        Route(method: method, registration: $0, readsRequest: readsRequest)
      }
    }
    self.server = server
    self.boundPort = Int(port)
    self.handlers = handlers
    self.logger = logger
    queue = CompletionQueue(name: "grpc-server-cq")
    grpc_server_register_completion_queue(server, queue.queue, nil)
  }

  func start() {
    let first = state.withLock { state in
      guard !state.started, !state.shutdownStarted else { return false }
      state.started = true
      return true
    }
    guard first else { return }
    grpc_server_start(server)
    logger.info("gRPC server listening", metadata: ["port": "\(boundPort)"])
    for route in routes {
      for _ in 0..<Self.postedPerMethod { postRequest(route) }
    }
    for _ in 0..<Self.postedForUnknownMethods { postRequest(nil) }
  }

  /// Posts one request for a new call: for `route`'s method, or for any unregistered method.
  private func postRequest(_ route: Route?) {
    let request = RequestOperation { [self] request, success in
      // On failure the server is shutting down: the request is simply not re-posted.
      guard success, let call = request.storage.pointee.call else { return }
      postRequest(route)
      accept(call: call, request: request.storage.pointee, route: route)
    }
    state.withLock { state in
      guard !state.shutdownStarted else { return }
      let tag = request.retainedPointer()
      let result =
        if let route {
          sns_request_post_registered(
            server, route.registration, route.readsRequest ? 1 : 0, request.storage, queue.queue, tag)
        } else {
          sns_request_post(server, request.storage, queue.queue, tag)
        }
      if result != GRPC_CALL_OK {
        CompletionTag.releaseUnstarted(tag)
        logger.error("grpc_server_request_call failed", metadata: ["error": "\(result.rawValue)"])
      }
    }
  }

  /// Takes ownership of a new call (runs on the queue thread).
  private func accept(call: OpaquePointer, request: sns_request, route: Route?) {
    state.withLock { $0.activeCalls += 1 }
    let handle = CallHandle(call: call, id: 0, owner: self)
    let method = route?.method ?? String(slice: request.details.method)
    let context = GRPCServerContext(
      method: method, metadata: GRPCMetadata(copying: request.metadata), peer: handle.peer)
    let prefetched: ServerCallRunner.Prefetched =
      if route?.readsRequest != true {
        .notRead
      } else if let payload = request.payload, let bytes = copyBytes(of: payload) {
        .message(bytes)
      } else {
        .missing
      }
    ServerCallRunner(handle: handle, context: context, logger: logger).run(handlers[method], prefetched)
  }

  func releaseCall(id: UInt64, call: OpaquePointer) {
    grpc_call_unref(call)
    let waiters = state.withLock { state in
      state.activeCalls -= 1
      guard state.activeCalls == 0 else { return [CheckedContinuation<Void, Never>]() }
      defer { state.drainWaiters = [] }
      return state.drainWaiters
    }
    for waiter in waiters { waiter.resume() }
  }

  /// Returns once no accepted call is left (their handlers returned and gRPC released them).
  private func waitUntilNoActiveCalls() async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
      let idle = state.withLock { state in
        if state.activeCalls > 0 { state.drainWaiters.append(continuation) }
        return state.activeCalls == 0
      }
      if idle { continuation.resume() }
    }
  }

  func shutdown(gracePeriod: Duration) async {
    let first = state.withLock { state in
      defer { state.shutdownStarted = true }
      return !state.shutdownStarted
    }
    guard first else { return await finished.value }

    let notified = Promise<Void>()
    let tag = ShutdownOperation(notified).retainedPointer()
    grpc_server_shutdown_and_notify(server, queue.queue, tag)
    // Past the grace period, cancel what is still running; shutdown then completes promptly.
    let canceller = Task { [self] in
      try? await Task.sleep(for: gracePeriod)
      if Task.isCancelled { return }
      state.withLock { state in
        // Also when no call was accepted yet: gRPC may hold calls that never reached a handler.
        guard !state.destroyed else { return }
        logger.info(
          "gRPC server grace period over; cancelling calls", metadata: ["calls": "\(state.activeCalls)"])
        grpc_server_cancel_all_calls(server)
      }
    }
    // The notification is handled on the queue thread after every call gRPC accepted before it,
    // so no call can be added once it has arrived.
    await notified.value
    // Waits for handlers to return: past the grace period they run as cancelled tasks.
    await waitUntilNoActiveCalls()
    canceller.cancel()
    state.withLock { state in
      state.destroyed = true
      grpc_server_destroy(server)
    }
    queue.shutdown()
    await queue.waitUntilFinished()
    logger.info("gRPC server stopped", metadata: ["port": "\(boundPort)"])
    finished.fulfill(())
  }
}

/// A method registered with `grpc_server_register_method`.
private struct Route: @unchecked Sendable {
  // @unchecked Sendable: `registration` is an opaque handle gRPC only reads; it lives as long as
  // the server.
  let method: String
  let registration: UnsafeMutableRawPointer
  let readsRequest: Bool
}

/// A posted `grpc_server_request_call`; owns the slots gRPC fills in for the new call.
private final class RequestOperation: CompletionTag, @unchecked Sendable {
  // @unchecked Sendable: see CompletionTag; gRPC fills `storage` before the tag is returned.
  let storage: UnsafeMutablePointer<sns_request>
  private let onComplete: (RequestOperation, Bool) -> Void

  init(onComplete: @escaping (RequestOperation, Bool) -> Void) {
    guard let storage = sns_request_create() else { fatalError("sns_request_create: out of memory") }
    self.storage = storage
    self.onComplete = onComplete
  }

  deinit { sns_request_destroy(storage) }  // the call itself was handed to a CallHandle

  override func complete(success: Bool) { onComplete(self, success) }
}

/// The tag of `grpc_server_shutdown_and_notify`.
private final class ShutdownOperation: CompletionTag, @unchecked Sendable {
  // @unchecked Sendable: see CompletionTag; it only holds a Sendable promise.
  private let done: Promise<Void>
  init(_ done: Promise<Void>) { self.done = done }
  override func complete(success: Bool) { done.fulfill(()) }
}
