import SwiftProtobuf

extension GRPCChannel {
  /// Performs a unary call with SwiftProtobuf messages.
  ///
  /// Throws `GRPCStatus` like the raw `unary`, and `.internalError` if the response cannot be decoded.
  public func unary<Request: Message, Response: Message>(
    method: String, request: Request, responseType: Response.Type = Response.self,
    metadata: GRPCMetadata = GRPCMetadata(), timeout: Duration? = nil
  ) async throws -> Response {
    let requestBytes: [UInt8]
    do {
      requestBytes = try request.serializedBytes()
    } catch {
      throw GRPCStatus(.internalError, "cannot serialize request: \(error)")
    }
    let responseBytes = try await unary(
      method: method, request: requestBytes, metadata: metadata, timeout: timeout)
    do {
      return try Response(serializedBytes: responseBytes)
    } catch {
      throw GRPCStatus(.internalError, "cannot decode \(Response.protoMessageName) response: \(error)")
    }
  }
}

extension GRPCMethodHandler {
  /// A unary handler with SwiftProtobuf messages; an undecodable request gets `.invalidArgument`.
  public static func unary<Request: Message, Response: Message>(
    _ body: @escaping @Sendable (Request, GRPCServerContext) async throws -> Response
  ) -> GRPCMethodHandler {
    .unary { bytes, context in
      let request: Request
      do {
        request = try Request(serializedBytes: bytes)
      } catch {
        throw GRPCStatus(.invalidArgument, "cannot decode \(Request.protoMessageName): \(error)")
      }
      return try encode(try await body(request, context))
    }
  }

  /// A bidirectional-streaming handler with SwiftProtobuf messages. An undecodable request ends
  /// the request sequence with `.invalidArgument`, which the call reports unless handled.
  public static func bidirectionalStream<Request: Message, Response: Message>(
    _ requestType: Request.Type, _ responseType: Response.Type,
    _ body:
      @escaping @Sendable (
        AsyncThrowingStream<Request, Error>, GRPCTypedStreamWriter<Response>, GRPCServerContext
      )
      async throws -> Void
  ) -> GRPCMethodHandler {
    .bidirectionalStream { requests, responses, context in
      let reader = UncheckedBox(requests.makeAsyncIterator())
      let typed = AsyncThrowingStream<Request, Error> {
        guard let bytes = try await reader.value.next() else { return nil }
        do {
          return try Request(serializedBytes: bytes)
        } catch {
          throw GRPCStatus(.invalidArgument, "cannot decode \(Request.protoMessageName): \(error)")
        }
      }
      try await body(typed, GRPCTypedStreamWriter(raw: responses), context)
    }
  }
}

/// Sends SwiftProtobuf messages on a server stream.
public struct GRPCTypedStreamWriter<Message: SwiftProtobuf.Message>: Sendable {
  private let raw: GRPCServerStreamWriter

  init(raw: GRPCServerStreamWriter) { self.raw = raw }

  /// Serializes and sends one message; throws like `GRPCServerStreamWriter.send`.
  public func send(_ message: Message) async throws {
    try await raw.send(try encode(message))
  }
}

private func encode(_ message: some Message) throws -> [UInt8] {
  do {
    return try message.serializedBytes()
  } catch {
    throw GRPCStatus(.internalError, "cannot serialize \(type(of: message).protoMessageName): \(error)")
  }
}

/// Holds an async iterator for the typed request stream's unfolding closure.
private final class UncheckedBox<Value>: @unchecked Sendable {
  // @unchecked Sendable: request streams are iterated by one task at a time (documented contract).
  var value: Value
  init(_ value: Value) { self.value = value }
}
