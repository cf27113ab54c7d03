import Foundation
import Logging
import SNSTransport
import Synchronization

/// Starts a server on 127.0.0.1:0 with `handlers`, runs `body` with a channel to it, then closes
/// the channel and shuts the server down, whatever `body` did.
func withServer<T>(
  _ handlers: [String: GRPCMethodHandler],
  gracePeriod: Duration = .seconds(1),
  _ body: (GRPCServer, GRPCChannel) async throws -> T
) async throws -> T {
  let server = try GRPCServer(
    listen: "127.0.0.1:0", handlers: handlers, logger: Logger(label: "test.grpc"), gracePeriod: gracePeriod)
  let channel = GRPCChannel(target: "127.0.0.1:\(server.boundPort)")
  return try await server.withRunning {
    defer { channel.close() }
    return try await body(server, channel)
  }
}

/// Starts a server on 127.0.0.1:0 with `handlers` whose `run()` goes on in `running`, and runs `body` with a
/// channel to it, for tests that end the run themselves (a graceful shutdown, a cancellation). Afterwards the
/// channel is closed and the run cancelled and awaited, whatever `body` did.
func withRunningServer<T>(
  _ handlers: [String: GRPCMethodHandler], gracePeriod: Duration,
  _ body: (_ server: GRPCServer, _ running: Task<Void, Never>, _ channel: GRPCChannel) async throws -> T
) async throws -> T {
  let server = try GRPCServer(
    listen: "127.0.0.1:0", handlers: handlers, logger: Logger(label: "test.grpc"), gracePeriod: gracePeriod)
  let running = Task { await server.run() }
  let channel = GRPCChannel(target: "127.0.0.1:\(server.boundPort)")
  defer { channel.close() }
  do {
    let result = try await body(server, running, channel)
    running.cancel()
    await running.value
    return result
  } catch {
    running.cancel()
    await running.value
    throw error
  }
}

/// Runs `body` and returns its status code, failing if it did not throw a `GRPCStatus`.
func statusOf(_ body: () async throws -> Void) async -> GRPCStatus? {
  do {
    try await body()
    return nil
  } catch let status as GRPCStatus {
    return status
  } catch {
    return GRPCStatus(.unknown, "not a GRPCStatus: \(error)")
  }
}

/// This process's resident set size in kilobytes (Linux), from /proc/self/status.
func residentKilobytes() -> Int? {
  guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
  for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
    return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
  }
  return nil
}

let echo = "/test.Echo/Unary"
let echoStream = "/test.Echo/Stream"
