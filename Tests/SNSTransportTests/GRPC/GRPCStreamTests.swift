import SNSTestSupport
import SNSTransport
import SwiftProtobuf
import Testing

@Suite("gRPC bidirectional streams")
struct GRPCStreamTests {
  /// Echoes every request, then sends a final count once the client half-closes.
  static let countingEcho: GRPCMethodHandler = .bidirectionalStream { requests, responses, _ in
    var count = 0
    for try await request in requests {
      count += 1
      try await responses.send(request.reversed())
    }
    try await responses.send([UInt8(count)])
  }

  @Test func bidiRoundTripSeveralMessagesEachWay() async throws {
    try await withServer([echoStream: Self.countingEcho]) { _, channel in
      let stream = try await channel.bidirectionalStream(method: echoStream)
      var received: [[UInt8]] = []
      var iterator = stream.messages.makeAsyncIterator()
      for index in 0..<5 {
        try await stream.send([UInt8(index), 100])
        // Lock-step: each response arrives before the next request is sent.
        if let response = try await iterator.next() { received.append(response) }
      }
      try await stream.closeSend()
      while let response = try await iterator.next() { received.append(response) }
      #expect(received == (0..<5).map { [100, UInt8($0)] } + [[5]])
    }
  }

  @Test func serverErrorEndsTheStreamWithItsStatus() async throws {
    let handlers: [String: GRPCMethodHandler] = [
      echoStream: .bidirectionalStream { requests, responses, _ in
        for try await request in requests {
          try await responses.send(request)
          throw GRPCStatus(.aborted, "stop after one")
        }
      }
    ]
    try await withServer(handlers) { _, channel in
      let stream = try await channel.bidirectionalStream(method: echoStream)
      try await stream.send([9])
      var received: [[UInt8]] = []
      let status = await statusOf {
        for try await message in stream.messages { received.append(message) }
      }
      #expect(received == [[9]])
      #expect(status == GRPCStatus(.aborted, "stop after one"))
    }
  }

  @Test func typedBidiStream() async throws {
    let handlers: [String: GRPCMethodHandler] = [
      echoStream: .bidirectionalStream(Google_Protobuf_StringValue.self, Google_Protobuf_StringValue.self) {
        requests, responses, context in
        for try await request in requests {
          try await responses.send(Google_Protobuf_StringValue(request.value.uppercased()))
        }
        try await responses.send(Google_Protobuf_StringValue("bye \(context.metadata["user"] ?? "")"))
      }
    ]
    try await withServer(handlers) { _, channel in
      let stream = try await channel.bidirectionalStream(
        method: echoStream, metadata: GRPCMetadata([("user", "bob")]))
      for word in ["a", "b", "c"] {
        try await stream.send(try Google_Protobuf_StringValue(word).serializedBytes())
      }
      try await stream.closeSend()
      var received: [String] = []
      for try await bytes in stream.messages {
        received.append(try Google_Protobuf_StringValue(serializedBytes: bytes).value)
      }
      #expect(received == ["A", "B", "C", "bye bob"])
    }
  }

  @Test func clientCancelEndsTheStreamAndTheHandler() async throws {
    let handlerEnded = Flag()
    let handlers: [String: GRPCMethodHandler] = [
      echoStream: .bidirectionalStream { requests, _, _ in
        defer { handlerEnded.set() }
        for try await _ in requests {}
      }
    ]
    try await withServer(handlers) { _, channel in
      let stream = try await channel.bidirectionalStream(method: echoStream)
      try await stream.send([1])
      stream.cancel()
      let status = await statusOf { for try await _ in stream.messages {} }
      #expect(status?.code == .cancelled)
      #expect(await handlerEnded.wait(within: .seconds(30)))
    }
  }

  @Test func streamTimeoutIsDeadlineExceeded() async throws {
    try await withServer([echoStream: Self.countingEcho]) { _, channel in
      let stream = try await channel.bidirectionalStream(method: echoStream, timeout: .milliseconds(200))
      // On a loaded machine the deadline can pass before the send completes: it then fails the same way.
      let status = await statusOf {
        try await stream.send([1])
        for try await _ in stream.messages {}
      }
      #expect(status?.code == .deadlineExceeded)
    }
  }
}
