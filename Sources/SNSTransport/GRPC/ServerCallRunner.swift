import CGRPCCore
import Logging
import Synchronization

/// Drives one accepted server call: watches for cancellation, reads the request(s), runs the
/// handler as a task and sends the response(s) and the final status.
final class ServerCallRunner: Sendable {
  private let handle: CallHandle
  private let context: GRPCServerContext
  private let logger: Logger
  /// The handler task, and whether gRPC already reported the call as cancelled.
  private let state = Mutex<(task: Task<Void, Never>?, cancelled: Bool)>((nil, false))

  init(handle: CallHandle, context: GRPCServerContext, logger: Logger) {
    self.handle = handle
    self.context = context
    self.logger = logger
  }

  /// A unary request that gRPC may already have read along with the call.
  enum Prefetched {
    case notRead
    case message([UInt8])
    case missing
  }

  /// Starts serving (called on the completion-queue thread, so nothing here may block).
  func run(_ handler: GRPCMethodHandler?, _ prefetched: Prefetched = .notRead) {
    watchForCancellation()
    switch handler {
    case nil:
      finish(GRPCStatus(.unimplemented, "Method not found: \(context.method)"))
    case .unary(let body):
      switch prefetched {
      case .notRead: runUnary(body)
      case .message(let request): runUnary(body, request: request)
      case .missing: finish(GRPCStatus(.internalError, "unary call without a readable request message"))
      }
    case .bidirectionalStream(let body):
      runBidirectionalStream(body)
    }
  }

  /// RECV_CLOSE_ON_SERVER completes when the call ends. If it ended by cancellation (client
  /// cancel, deadline exceeded, server shutdown) the handler task is cancelled.
  private func watchForCancellation() {
    handle.start(
      BatchOperation({ sns_batch_recv_close_on_server($0) }) { [self] operation, success in
        guard operation.wasCancelled || !success else { return }
        let task = state.withLock { state in
          state.cancelled = true
          return state.task
        }
        task?.cancel()
      })
  }

  private func attach(_ task: Task<Void, Never>) {
    let cancelled = state.withLock { state in
      state.task = task
      return state.cancelled
    }
    if cancelled { task.cancel() }
  }

  private func runUnary(_ body: @escaping @Sendable ([UInt8], GRPCServerContext) async throws -> [UInt8]) {
    handle.start(
      BatchOperation({ sns_batch_recv_message($0) }) { [self] operation, success in
        guard success else { return }  // the call is already gone; nobody to answer
        guard operation.storage.pointee.recv_message != nil, let request = operation.receivedMessage else {
          return finish(GRPCStatus(.internalError, "unary call without a readable request message"))
        }
        runUnary(body, request: request)
      })
  }

  private func runUnary(
    _ body: @escaping @Sendable ([UInt8], GRPCServerContext) async throws -> [UInt8], request: [UInt8]
  ) {
    attach(
      startHandlerTask { [self] in
        do {
          let response = try await body(request, context)
          finish(.ok, response: response)
        } catch {
          finish(status(for: error))
        }
      })
  }

  private func runBidirectionalStream(
    _ body:
      @escaping @Sendable (AsyncThrowingStream<[UInt8], Error>, GRPCServerStreamWriter, GRPCServerContext)
      async throws -> Void
  ) {
    // Headers go out at once so the client sees the stream open before the first message.
    handle.enqueueSend({ sns_batch_send_initial_metadata($0) })
    let reader = MessageReader(handle: handle, status: nil)
    let requests = AsyncThrowingStream { try await reader.next() }
    let writer = GRPCServerStreamWriter(handle: handle)
    attach(
      Task { [self] in
        do {
          try await body(requests, writer, context)
          finish(.ok, initialMetadataSent: true)
        } catch {
          finish(status(for: error), initialMetadataSent: true)
        }
      })
  }

  /// Starts a handler task. Where available it starts immediately on this (queue) thread and
  /// only moves to the global executor at its first suspension: simple handlers then answer
  /// without a thread hop, which is most of a loopback call's latency.
  private func startHandlerTask(_ body: sending @escaping @isolated(any) () async -> Void) -> Task<
    Void, Never
  > {
    if #available(macOS 26.0, *) {
      return Task.immediate(operation: body)
    }
    return Task(operation: body)
  }

  private func status(for error: any Error) -> GRPCStatus {
    let status = GRPCStatus(from: error)
    logger.debug(
      "gRPC handler failed", metadata: ["method": "\(context.method)", "status": "\(status)"])
    return status
  }

  /// Sends the response (if any) and the final status, queued behind any pending sends.
  private func finish(_ status: GRPCStatus, response: [UInt8]? = nil, initialMetadataSent: Bool = false) {
    handle.enqueueSend({ batch in
      if !initialMetadataSent { sns_batch_send_initial_metadata(batch) }
      if let response { batch.sendMessage(response) }
      batch.sendStatus(status)
    })
  }
}
