import CGRPCCore

/// What a server handler learns about the call it serves.
public struct GRPCServerContext: Sendable {
  /// The full method path, e.g. "/csce438.SNSService/Login".
  public let method: String
  /// The client's initial metadata.
  public let metadata: GRPCMetadata
  /// The client's address as gRPC reports it, e.g. "ipv4:127.0.0.1:53412".
  public let peer: String
}

/// The server's half of a bidirectional stream: sends response messages to the client.
public final class GRPCServerStreamWriter: Sendable {
  private let handle: CallHandle

  init(handle: CallHandle) { self.handle = handle }

  /// Sends one message; waits until gRPC has taken it (flow control applies).
  /// Throws `.cancelled` when the call is gone (client cancelled, deadline, server shutdown).
  public func send(_ message: [UInt8]) async throws {
    if await !handle.send({ $0.sendMessage(message) }) {
      throw GRPCStatus(.cancelled, "the call has ended")
    }
  }
}

/// The implementation of one RPC method, keyed by its full path in `GRPCServer`'s handlers.
///
/// Handlers run as tasks that are cancelled when the call is cancelled (client cancel, deadline
/// exceeded, server shutdown). A thrown `GRPCStatus` or `GRPCStatusConvertible` is sent as the
/// call's status; any other error becomes `.unknown` with the error's description.
public enum GRPCMethodHandler: Sendable {
  /// One request message in, one response message out. The handler starts on the server's
  /// completion-queue thread and runs there until its first suspension (so trivial handlers
  /// answer without a thread hop); do long synchronous work after an `await` or elsewhere.
  case unary(@Sendable (_ request: [UInt8], _ context: GRPCServerContext) async throws -> [UInt8])
  /// Messages both ways; the call ends with OK when the handler returns. Requests are read from
  /// the network on demand, so iterate `requests` from one task at a time.
  case bidirectionalStream(
    @Sendable (
      _ requests: AsyncThrowingStream<[UInt8], Error>, _ responses: GRPCServerStreamWriter,
      _ context: GRPCServerContext
    ) async throws -> Void)
}
