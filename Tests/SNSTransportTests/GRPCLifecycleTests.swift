import Foundation
import Logging
import SNSTransport
import Testing

@Suite("gRPC server lifecycle and resources")
struct GRPCLifecycleTests {
  @Test func shutdownWithCallsInFlightCompletesAndClientsGetAStatus() async throws {
    let started = Flag()
    let handlers: [String: GRPCMethodHandler] = [
      echo: .unary { request, _ in
        started.set()
        try await Task.sleep(for: .seconds(30))
        return request
      },
      echoStream: .bidirectionalStream { requests, _, _ in
        started.set()
        for try await _ in requests {}
      },
    ]
    let server = try GRPCServer(listen: "127.0.0.1:0", handlers: handlers, logger: Logger(label: "test"))
    server.start()
    let channel = GRPCChannel(target: "127.0.0.1:\(server.boundPort)")
    defer { channel.close() }
    let unaryCall = Task { await statusOf { _ = try await channel.unary(method: echo, request: [1]) } }
    let stream = try await channel.bidirectionalStream(method: echoStream)
    try await stream.send([1])
    let streamCall = Task { await statusOf { for try await _ in stream.messages {} } }
    for _ in 0..<3000 where !started.isSet { try await Task.sleep(for: .milliseconds(10)) }

    let clock = ContinuousClock()
    let begin = clock.now
    await server.shutdown(gracePeriod: .milliseconds(200))
    // The calls would never end by themselves: any bound shows that shutdown ended them.
    #expect(clock.now - begin < .seconds(30))
    let unaryStatus = await unaryCall.value
    let streamStatus = await streamCall.value
    #expect(unaryStatus != nil && unaryStatus?.code != .ok)
    #expect(streamStatus != nil && streamStatus?.code != .ok)
  }

  @Test func shutdownLetsShortCallsFinishWithinTheGracePeriod() async throws {
    let started = Flag()
    let handlers: [String: GRPCMethodHandler] = [
      echo: .unary { request, _ in
        started.set()
        try await Task.sleep(for: .milliseconds(300))
        return request
      }
    ]
    let server = try GRPCServer(listen: "127.0.0.1:0", handlers: handlers, logger: Logger(label: "test"))
    server.start()
    let channel = GRPCChannel(target: "127.0.0.1:\(server.boundPort)")
    defer { channel.close() }
    let call = Task { try await channel.unary(method: echo, request: [7]) }
    // Shut down only once the call is in the handler (a fixed sleep raced the connect on a loaded machine).
    let deadline = ContinuousClock.now + .seconds(10)
    while !started.isSet && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
    #expect(started.isSet)
    await server.shutdown(gracePeriod: .seconds(5))
    #expect(try await call.value == [7])
  }

  @Test func shutdownOfAnUnstartedServerAndRepeatedCloseAreSafe() async throws {
    let server = try GRPCServer(listen: "127.0.0.1:0", handlers: [:], logger: Logger(label: "test"))
    await server.shutdown(gracePeriod: .zero)
    await server.shutdown(gracePeriod: .zero)
    let channel = GRPCChannel(target: "127.0.0.1:1")
    channel.close()
    channel.close()
    let status = await statusOf { _ = try await channel.unary(method: echo, request: []) }
    #expect(status?.code == .unavailable)
  }

  @Test func channelReconnectsWhenTheServerComesBackOnTheSamePort() async throws {
    let handlers: [String: GRPCMethodHandler] = [echo: .unary { request, _ in request }]
    let first = try GRPCServer(listen: "127.0.0.1:0", handlers: handlers, logger: Logger(label: "test"))
    let port = first.boundPort
    first.start()
    let channel = GRPCChannel(target: "127.0.0.1:\(port)")
    defer { channel.close() }
    #expect(try await channel.unary(method: echo, request: [1]) == [1])
    await first.shutdown(gracePeriod: .zero)
    let down = await statusOf { _ = try await channel.unary(method: echo, request: [2]) }
    #expect(down?.code == .unavailable)

    let second = try GRPCServer(
      listen: "127.0.0.1:\(port)", handlers: handlers, logger: Logger(label: "test"))
    second.start()
    let clock = ContinuousClock()
    let begin = clock.now
    var response: [UInt8]?
    while response == nil, clock.now - begin < .seconds(30) {
      response = try? await channel.unary(method: echo, request: [3])
      if response == nil { try await Task.sleep(for: .milliseconds(20)) }
    }
    // The channel's reconnect backoff is at most 2 s (plus jitter), so an idle machine reconnects within a few
    // seconds; the bound only has to be finite. How fast is a benchmark's business, not a test's.
    #expect(response == [3], "not reconnected after \(clock.now - begin)")
    await second.shutdown(gracePeriod: .zero)
  }

  /// In a process of its own (an exit test): the tests running beside it in this one move its RSS too.
  @Test func tenThousandSequentialUnaryCallsKeepMemoryFlat() async {
    await #expect(processExitsWith: .success) {
      let grown: Int? = try await withServer([echo: .unary { request, _ in request }]) { _, channel in
        let payload = [UInt8](repeating: 42, count: 256)
        for _ in 0..<1_000 { _ = try await channel.unary(method: echo, request: payload) }
        guard let before = residentKilobytes() else { return nil }
        for _ in 0..<10_000 {
          let response = try await channel.unary(method: echo, request: payload)
          guard response == payload else { throw GRPCStatus(.dataLoss, "corrupted echo") }
        }
        return residentKilobytes().map { $0 - before }
      }
      guard let grown, grown < 20 * 1024 else {
        print("RSS grew by \(grown.map { "\($0) kB" } ?? "an unknown amount") over 10,000 calls")
        exit(1)
      }
    }
  }
}
