import CGRPCCore
import Logging
import Synchronization

/// Serves one accepted call as a child task of `GRPCServer.run()`: reads the request(s), runs the handler
/// and sends the response(s) and the final status.
final class ServerCallRunner: Sendable {
  private let handle: CallHandle
  private let context: GRPCServerContext
  private let handler: GRPCMethodHandler?
  private let prefetched: Prefetched
  private let logger: Logger
  /// Fulfilled when gRPC reports the call cancelled, or when its handler returned: either way the
  /// handler's task is cancelled (a no-op once it returned).
  private let stop = Promise<Void>()

  /// A unary request that gRPC may already have read along with the call.
  enum Prefetched {
    case notRead
    case message([UInt8])
    case missing
  }

  init(
    handle: CallHandle, context: GRPCServerContext, handler: GRPCMethodHandler?, prefetched: Prefetched,
    logger: Logger
  ) {
    self.handle = handle
    self.context = context
    self.handler = handler
    self.prefetched = prefetched
    self.logger = logger
  }

  /// RECV_CLOSE_ON_SERVER completes when the call ends. If it ended by cancellation (client
  /// cancel, deadline exceeded, server shutdown) the handler's task is cancelled. Called once, on the
  /// completion-queue thread, as the call is accepted.
  func watchForCancellation() {
    handle.start(
      BatchOperation({ sns_batch_recv_close_on_server($0) }) { [stop] operation, success in
        guard operation.wasCancelled || !success else { return }
        stop.fulfill(())
      })
  }

  /// Serves the call to its end.
  func serve() async {
    switch handler {
    case nil:
      finish(GRPCStatus(.unimplemented, "Method not found: \(context.method)"))
    case .unary(let body):
      let request: [UInt8]
      switch prefetched {
      case .message(let message): request = message
      case .missing:
        return finish(GRPCStatus(.internalError, "unary call without a readable request message"))
      case .notRead:
        switch await receiveRequest() {
        case .gone: return  // the call is already gone; nobody to answer
        case .missing:
          return finish(GRPCStatus(.internalError, "unary call without a readable request message"))
        case .message(let message): request = message
        }
      }
      await runCancellable { [self] in
        do {
          let response = try await body(request, context)
          finish(.ok, response: response)
        } catch {
          finish(status(for: error))
        }
      }
    case .bidirectionalStream(let body):
      // Headers go out at once so the client sees the stream open before the first message.
      handle.enqueueSend({ sns_batch_send_initial_metadata($0) })
      let reader = MessageReader(handle: handle, status: nil)
      let requests = AsyncThrowingStream { try await reader.next() }
      let writer = GRPCServerStreamWriter(handle: handle)
      await runCancellable { [self] in
        do {
          try await body(requests, writer, context)
          finish(.ok, initialMetadataSent: true)
        } catch {
          finish(status(for: error), initialMetadataSent: true)
        }
      }
    }
  }

  private enum Received {
    case message([UInt8])
    case missing
    case gone
  }

  private func receiveRequest() async -> Received {
    await withCheckedContinuation { (continuation: CheckedContinuation<Received, Never>) in
      let operation = BatchOperation({ sns_batch_recv_message($0) }) { operation, success in
        guard success else { return continuation.resume(returning: .gone) }
        guard operation.storage.pointee.recv_message != nil, let request = operation.receivedMessage else {
          return continuation.resume(returning: .missing)
        }
        continuation.resume(returning: .message(request))
      }
      if handle.start(operation) != GRPC_CALL_OK { continuation.resume(returning: .gone) }
    }
  }

  /// Runs the handler in a task of its own, so that this call alone can be cancelled. Where available it
  /// starts on this thread and only moves at its first suspension: simple handlers then answer without a
  /// thread hop, which is most of a loopback call's latency.
  private func runCancellable(_ work: @escaping @Sendable () async -> Void) async {
    await withDiscardingTaskGroup { group in
      let stop = self.stop
      if #available(macOS 26.0, *) {
        group.addImmediateTask {
          await work()
          stop.fulfill(())
        }
      } else {
        group.addTask {
          await work()
          stop.fulfill(())
        }
      }
      await stop.value
      group.cancelAll()
    }
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
