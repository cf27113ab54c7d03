import CGRPCCore
import Logging
import Synchronization

/// Owns the `grpc_server`, its completion queue and the pool of posted `request_call`s.
final class ServerCore: CallOwner, @unchecked Sendable {
  // @unchecked Sendable: the immutable pointers are used through gRPC's thread-safe server API,
  // and `server` is only used under `state`'s lock once shutdown may have destroyed it.
  private struct State {
    /// `start()` or `releaseIfNeverStarted()` ran: the server's fate is decided.
    var started = false
    /// `grpc_server_start` ran.
    var serving = false
    /// A shutdown was asked for; with `serving`, `grpc_server_shutdown_and_notify` was called.
    var shutdownRequested = false
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
  /// Calls accepted and not yet handed to `run()`; finished by the shutdown notification.
  let accepted = AcceptedCalls()
  /// The grace period of the first shutdown request, delivered when it is made.
  let shutdownBegan = Promise<Duration>()
  private let server: OpaquePointer
  private let queue: CompletionQueue
  private let handlers: [String: GRPCMethodHandler]
  private let routes: [Route]
  private let state = Mutex(State())

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

  /// Starts accepting calls (unless a shutdown was requested first); false if the server ran before.
  func start() -> Bool {
    let (first, serve) = state.withLock { state in
      let first = !state.started
      state.started = true
      state.serving = first && !state.shutdownRequested
      // Under the lock, so that a concurrent shutdown request comes strictly before or after it.
      if state.serving { grpc_server_start(server) }
      return (first, state.serving)
    }
    guard first else { return false }
    if serve {
      logger.info("gRPC server listening", metadata: ["port": "\(boundPort)"])
      for route in routes {
        for _ in 0..<Self.postedPerMethod { postRequest(route) }
      }
      for _ in 0..<Self.postedForUnknownMethods { postRequest(nil) }
    } else {
      notifyShutdown()  // asked to shut down before it ran: nothing will be accepted
    }
    return true
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
      guard !state.shutdownRequested else { return }
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

  /// Takes ownership of a new call and queues it for `run()` (runs on the queue thread).
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
    let runner = ServerCallRunner(
      handle: handle, context: context, handler: handlers[method], prefetched: prefetched, logger: logger)
    // Cancellation is watched from here on, so a call cancelled while it waits in the queue is seen too.
    runner.watchForCancellation()
    accepted.push(runner)
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

  /// Stops accepting calls: gRPC refuses new ones and, once every call accepted before has been queued,
  /// delivers the notification that ends `accepted`. Only the first request counts.
  func beginShutdown(gracePeriod: Duration) {
    let issue = state.withLock { state in
      defer { state.shutdownRequested = true }
      return !state.shutdownRequested && state.serving
    }
    shutdownBegan.fulfill(gracePeriod)
    if issue { notifyShutdown() }  // otherwise already issued, or `start()` sees the request
  }

  /// Asks gRPC to stop; its notification, after every call accepted before it, ends `accepted`.
  private func notifyShutdown() {
    let tag = ShutdownOperation { [accepted] in accepted.finish() }.retainedPointer()
    grpc_server_shutdown_and_notify(server, queue.queue, tag)
  }

  /// Cancels every call gRPC still holds; their handlers' tasks are cancelled through their watchers.
  func cancelAllCalls(reason: String) {
    state.withLock { state in
      // Also when no call was accepted yet: gRPC may hold calls that never reached a handler.
      guard state.shutdownRequested, state.serving, !state.destroyed else { return }
      logger.info(
        "gRPC server cancelling calls", metadata: ["reason": "\(reason)", "calls": "\(state.activeCalls)"])
      grpc_server_cancel_all_calls(server)
    }
  }

  /// After every handler returned: waits until gRPC released the calls, then destroys the server and queue.
  func finish() async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
      let idle = state.withLock { state in
        if state.activeCalls > 0 { state.drainWaiters.append(continuation) }
        return state.activeCalls == 0
      }
      if idle { continuation.resume() }
    }
    destroy()
    await queue.waitUntilFinished()
    logger.info("gRPC server stopped", metadata: ["port": "\(boundPort)"])
  }

  /// A server that never ran: shut down and destroyed from the queue thread once gRPC confirms it.
  func releaseIfNeverStarted() {
    let unused = state.withLock { state in
      defer { state.started = true }
      return !state.started
    }
    guard unused else { return }
    let tag = ShutdownOperation { [self] in destroy() }.retainedPointer()
    grpc_server_shutdown_and_notify(server, queue.queue, tag)
  }

  private func destroy() {
    state.withLock { state in
      guard !state.destroyed else { return }
      state.destroyed = true
      grpc_server_destroy(server)
    }
    queue.shutdown()
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
  // @unchecked Sendable: see CompletionTag; it only holds a Sendable closure.
  private let done: @Sendable () -> Void
  init(_ done: @escaping @Sendable () -> Void) { self.done = done }
  override func complete(success: Bool) { done() }
}
