import Logging
import SNSTestSupport
import SNSTransport
import SwiftProtobuf
import Testing

@Suite("gRPC unary calls")
struct GRPCUnaryTests {
  @Test func unaryRoundTripCarriesBytesAndMetadata() async throws {
    let handlers: [String: GRPCMethodHandler] = [
      echo: .unary { request, context in
        request + Array((context.metadata["x-user"] ?? "?").utf8) + Array(context.method.utf8)
      }
    ]
    try await withServer(handlers) { _, channel in
      let response = try await channel.unary(
        method: echo, request: [1, 2, 3], metadata: GRPCMetadata([("X-User", "alice")]))
      #expect(response == [1, 2, 3] + Array("alice".utf8) + Array(echo.utf8))
      #expect(try await channel.unary(method: echo, request: []) == Array("?".utf8) + Array(echo.utf8))
    }
  }

  @Test func typedProtobufRoundTrip() async throws {
    let handlers: [String: GRPCMethodHandler] = [
      echo: .unary { (request: Google_Protobuf_StringValue, _) in
        Google_Protobuf_Int64Value(Int64(request.value.count))
      }
    ]
    try await withServer(handlers) { _, channel in
      let response = try await channel.unary(
        method: echo, request: Google_Protobuf_StringValue("hello"),
        responseType: Google_Protobuf_Int64Value.self)
      #expect(response.value == 5)
      // Bytes that are not a StringValue are rejected by the typed handler.
      let status = await statusOf { _ = try await channel.unary(method: echo, request: [0xFF, 0xFF]) }
      #expect(status?.code == .invalidArgument)
    }
  }

  @Test func errorStatusWithMessageSurvivesTheTrip() async throws {
    struct Domain: GRPCStatusConvertible {
      var grpcStatus: GRPCStatus { GRPCStatus(.notFound, "no such user") }
    }
    struct Plain: Error {}
    let handlers: [String: GRPCMethodHandler] = [
      "/t/Status": .unary { _, _ in throw GRPCStatus(.failedPrecondition, "why") },
      "/t/Domain": .unary { _, _ in throw Domain() },
      "/t/Plain": .unary { _, _ in throw Plain() },
    ]
    try await withServer(handlers) { _, channel in
      let status = await statusOf { _ = try await channel.unary(method: "/t/Status", request: []) }
      #expect(status == GRPCStatus(.failedPrecondition, "why"))
      let domain = await statusOf { _ = try await channel.unary(method: "/t/Domain", request: []) }
      #expect(domain == GRPCStatus(.notFound, "no such user"))
      let plain = await statusOf { _ = try await channel.unary(method: "/t/Plain", request: []) }
      #expect(plain?.code == .unknown)
      #expect(plain?.message.contains("Plain") == true)
    }
  }

  @Test func invalidMetadataFailsTheCallInsteadOfHanging() async throws {
    try await withServer([echo: .unary { request, _ in request }]) { _, channel in
      let bad = GRPCMetadata([("bad key", "x")])
      let status = await statusOf { _ = try await channel.unary(method: echo, request: [], metadata: bad) }
      #expect(status?.code == .internalError)
      let stream = try await channel.bidirectionalStream(method: echoStream, metadata: bad)
      let streamStatus = await statusOf { for try await _ in stream.messages {} }
      #expect(streamStatus != nil && streamStatus?.code != .ok)
    }
  }

  @Test func metadataKeysAreLowerCasedAndLookedUpCaseInsensitively() {
    let metadata = GRPCMetadata([("X-Trace", "1"), ("x-trace", "2")])
    #expect(metadata.pairs.map(\.key) == ["x-trace", "x-trace"])
    #expect(metadata["X-TRACE"] == "1")
    #expect(metadata == GRPCMetadata([("x-trace", "1"), ("X-Trace", "2")]))
  }

  @Test func unknownMethodIsUnimplemented() async throws {
    try await withServer([:]) { _, channel in
      let status = await statusOf { _ = try await channel.unary(method: "/t/Nope", request: [1]) }
      #expect(status?.code == .unimplemented)
      #expect(status?.message.contains("/t/Nope") == true)
    }
  }

  @Test func nobodyListeningIsUnavailable() async throws {
    // Bind then stop a server to get a port that (almost certainly) nobody listens on.
    let server = try GRPCServer(listen: "127.0.0.1:0", handlers: [:], logger: Logger(label: "test"))
    let port = server.boundPort
    await server.withRunning {}
    let channel = GRPCChannel(target: "127.0.0.1:\(port)")
    defer { channel.close() }
    let status = await statusOf {
      _ = try await channel.unary(method: echo, request: [], timeout: .seconds(5))
    }
    #expect(status?.code == .unavailable)
  }

  @Test func clientTimeoutIsDeadlineExceededAndEndsTheHandler() async throws {
    let (handlers, handlerStarted, handlerCancelled) = sleepingEcho()
    try await withServer(handlers) { _, channel in
      let clock = ContinuousClock()
      let start = clock.now
      let status = await statusOf {
        _ = try await channel.unary(method: echo, request: [1], timeout: .milliseconds(200))
      }
      #expect(status?.code == .deadlineExceeded)
      // The deadline ended the call, not the handler: a bound far from both, not a speed goal (a run whose
      // cooperative threads were busy with simulation sweeps took 49 s to see a 200 ms deadline).
      #expect(clock.now - start < .seconds(300))
      // A loaded server may see the deadline pass before it reads the request, and then never runs the
      // handler; one that did run it cancels it (long before its sleep ends, which would leave the flag unset).
      guard handlerStarted.isSet else { return }
      #expect(await handlerCancelled.wait(within: .seconds(180)))
    }
  }

  @Test func aCallEndedByItsClientCancelsTheRunningHandler() async throws {
    let (handlers, handlerStarted, handlerCancelled) = sleepingEcho()
    try await withServer(handlers) { _, channel in
      let call = Task { await statusOf { _ = try await channel.unary(method: echo, request: [1]) } }
      try #require(await handlerStarted.wait(within: .seconds(120)))
      call.cancel()
      #expect(await call.value?.code == .cancelled)
      #expect(await handlerCancelled.wait(within: .seconds(180)))
    }
  }

  @Test func bindingAPortInUseFailsClearly() async throws {
    let first = try GRPCServer(listen: "127.0.0.1:0", handlers: [:], logger: Logger(label: "test"))
    #expect {
      _ = try GRPCServer(listen: "127.0.0.1:\(first.boundPort)", handlers: [:], logger: Logger(label: "test"))
    } throws: { error in
      guard case .bindFailed(let message) = error as? GRPCTransportError else { return false }
      return message.contains("in use")
    }
    await first.withRunning {}
  }
}

/// An echo handler that sleeps 200 s first, flagging when it starts and when its task is cancelled (long
/// before the sleep ends, if the server cancels it at all).
func sleepingEcho() -> ([String: GRPCMethodHandler], started: Flag, cancelled: Flag) {
  let started = Flag()
  let cancelled = Flag()
  let handlers: [String: GRPCMethodHandler] = [
    echo: .unary { request, _ in
      started.set()
      do {
        try await Task.sleep(for: .seconds(200))
      } catch {
        cancelled.set()
        throw error
      }
      return request
    }
  ]
  return (handlers, started, cancelled)
}
