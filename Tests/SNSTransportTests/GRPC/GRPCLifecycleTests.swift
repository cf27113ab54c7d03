import Foundation
import Logging
import SNSTestSupport
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
    try await withRunningServer(handlers, gracePeriod: .milliseconds(200)) { server, running, channel in
      let unaryCall = Task { await statusOf { _ = try await channel.unary(method: echo, request: [1]) } }
      let stream = try await channel.bidirectionalStream(method: echoStream)
      try await stream.send([1])
      let streamCall = Task { await statusOf { for try await _ in stream.messages {} } }
      _ = await started.wait(within: .seconds(30))

      let clock = ContinuousClock()
      let begin = clock.now
      server.beginGracefulShutdown()
      await running.value
      // The calls would never end by themselves: any bound shows that shutdown ended them.
      #expect(clock.now - begin < .seconds(30))
      let unaryStatus = await unaryCall.value
      let streamStatus = await streamCall.value
      #expect(unaryStatus != nil && unaryStatus?.code != .ok)
      #expect(streamStatus != nil && streamStatus?.code != .ok)
    }
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
    try await withRunningServer(handlers, gracePeriod: .seconds(5)) { server, running, channel in
      let call = Task { try await channel.unary(method: echo, request: [7]) }
      // Shut down only once the call is in the handler: a fixed sleep would race the connect.
      #expect(await started.wait(within: .seconds(10)))
      server.beginGracefulShutdown()
      await running.value
      let echoed = try await call.value
      #expect(echoed == [7])
    }
  }

  @Test("run() returns only after every handler returned, also one that outlives the grace period")
  func runOwnsItsHandlers() async throws {
    let started = Flag()
    let returned = Flag()
    let handlers: [String: GRPCMethodHandler] = [
      echo: .unary { request, _ in
        started.set()
        // Ignores cancellation for a while, as a handler finishing a write would.
        let end = ContinuousClock.now + .milliseconds(600)
        while ContinuousClock.now < end { try? await Task.sleep(for: .milliseconds(10)) }
        returned.set()
        return request
      }
    ]
    try await withRunningServer(handlers, gracePeriod: .milliseconds(50)) { server, running, channel in
      let call = Task { await statusOf { _ = try await channel.unary(method: echo, request: [1]) } }
      try #require(await started.wait(within: .seconds(30)))
      server.beginGracefulShutdown()
      await running.value
      #expect(returned.isSet, "run() returned while a handler was still running")
      _ = await call.value
    }
  }

  @Test("cancelling run() cancels the running handlers at once, without waiting for the grace period")
  func cancellingRunCancelsHandlers() async throws {
    let (handlers, started, cancelled) = sleepingEcho()
    try await withRunningServer(handlers, gracePeriod: .seconds(600)) { _, running, channel in
      let call = Task { await statusOf { _ = try await channel.unary(method: echo, request: [1]) } }
      try #require(await started.wait(within: .seconds(30)))
      running.cancel()
      // A 600 s grace period and a 200 s handler: only cancellation ends it before the bound.
      await running.value
      #expect(cancelled.isSet)
      #expect(await call.value?.code != nil)
    }
  }

  @Test func shutdownBeforeRunRepeatedShutdownAndRepeatedCloseAreSafe() async throws {
    let server = try GRPCServer(listen: "127.0.0.1:0", handlers: [:], logger: Logger(label: "test"))
    server.beginGracefulShutdown()
    server.beginGracefulShutdown()
    await server.run()  // returns at once: shut down before it ran
    await server.run()  // a server runs once
    let channel = GRPCChannel(target: "127.0.0.1:1")
    channel.close()
    channel.close()
    let status = await statusOf { _ = try await channel.unary(method: echo, request: []) }
    #expect(status?.code == .unavailable)
  }

  @Test("a server dropped without running releases its port")
  func droppedServerReleasesItsPort() async throws {
    var port = 0
    do {
      let unused = try GRPCServer(listen: "127.0.0.1:0", handlers: [:], logger: Logger(label: "test"))
      port = unused.boundPort
    }
    // The release completes on the server's queue thread, shortly after the drop.
    let deadline = ContinuousClock.now + .seconds(30)
    var rebound: GRPCServer?
    while rebound == nil && ContinuousClock.now < deadline {
      rebound = try? GRPCServer(listen: "127.0.0.1:\(port)", handlers: [:], logger: Logger(label: "test"))
      if rebound == nil { try await Task.sleep(for: .milliseconds(20)) }
    }
    #expect(rebound != nil, "port \(port) still bound after its server was dropped")
  }

  @Test func channelReconnectsWhenTheServerComesBackOnTheSamePort() async throws {
    let handlers: [String: GRPCMethodHandler] = [echo: .unary { request, _ in request }]
    let first = try GRPCServer(
      listen: "127.0.0.1:0", handlers: handlers, logger: Logger(label: "test"), gracePeriod: .zero)
    let port = first.boundPort
    let channel = GRPCChannel(target: "127.0.0.1:\(port)")
    defer { channel.close() }
    let echoed = try await first.withRunning { try await channel.unary(method: echo, request: [1]) }
    #expect(echoed == [1])
    let down = await statusOf { _ = try await channel.unary(method: echo, request: [2]) }
    #expect(down?.code == .unavailable)

    let second = try GRPCServer(
      listen: "127.0.0.1:\(port)", handlers: handlers, logger: Logger(label: "test"), gracePeriod: .zero)
    let running = Task { await second.run() }
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
    second.beginGracefulShutdown()
    await running.value
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
