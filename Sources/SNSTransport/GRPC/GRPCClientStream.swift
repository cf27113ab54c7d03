import CGRPCCore

/// The client side of a bidirectional-streaming call.
public final class GRPCClientStream: Sendable {
  private let lifetime: StreamLifetime
  private let status = Promise<GRPCStatus>()

  /// The responses. Finishes normally on an OK status and throws the `GRPCStatus` otherwise.
  /// Messages are read from the network on demand; iterate it from one task at a time.
  public let messages: AsyncThrowingStream<[UInt8], Error>

  init(handle: CallHandle, metadata: GRPCMetadata) {
    let lifetime = StreamLifetime(handle: handle)
    self.lifetime = lifetime
    let status = self.status
    // Completes when the call ends, for whatever reason; it is the call's single source of truth.
    handle.start(
      BatchOperation({ batch in
        sns_batch_recv_initial_metadata(batch)
        sns_batch_recv_status_on_client(batch)
      }) { operation, _ in
        status.fulfill(operation.receivedStatus)
      })
    handle.enqueueSend({ batch in
      metadata.append(to: batch)
      sns_batch_send_initial_metadata(batch)
    }) { success in
      // Refused headers (e.g. invalid metadata) mean the call can never proceed: end it, so
      // the status batch above completes instead of waiting for a deadline.
      if !success { handle.cancel() }
    }
    let reader = MessageReader(handle: handle, status: status)
    // The closure keeps `lifetime` alive while someone still iterates the messages.
    messages = AsyncThrowingStream {
      _ = lifetime
      return try await reader.next()
    }
  }

  /// Sends one message; waits until gRPC has taken it (flow control applies).
  /// Throws the call's status (or `.unavailable`) when the call has already ended.
  public func send(_ message: [UInt8]) async throws {
    if await !lifetime.handle.send({ $0.sendMessage(message) }) { throw failure() }
  }

  /// Half-closes the stream: tells the server no more messages will follow.
  public func closeSend() async throws {
    if await !lifetime.handle.send({ sns_batch_send_close_from_client($0) }) { throw failure() }
  }

  /// Cancels the call; `messages` then throws `.cancelled`.
  public func cancel() { lifetime.handle.cancel() }

  private func failure() -> GRPCStatus {
    if let final = status.current, final.code != .ok { return final }
    return GRPCStatus(.unavailable, "the stream has already ended")
  }
}

/// Cancels the call once neither the stream object nor its `messages` sequence is referenced,
/// so an abandoned stream does not keep the call (and the channel) alive.
private final class StreamLifetime: Sendable {
  let handle: CallHandle
  init(handle: CallHandle) { self.handle = handle }
  deinit { handle.cancel() }
}
