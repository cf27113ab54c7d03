/// Servers that run as one unit, for owners with a start/stop lifecycle rather than a task of their own
/// (in-process deployments, benchmarks): `start()` runs every server's `run()` in one task, `stop()` shuts
/// them down gracefully, last started first, and returns once all of them have returned.
public final class GRPCServerGroup: Sendable {
  public let servers: [GRPCServer]
  private let serving = Promise<Task<Void, Never>>()

  public init(_ servers: [GRPCServer]) { self.servers = servers }

  /// Starts serving. Calling it more than once has no effect.
  public func start() {
    guard serving.current == nil else { return }
    let servers = servers
    serving.fulfill(
      Task {
        await withDiscardingTaskGroup { group in
          for server in servers { group.addTask { await server.run() } }
        }
      })
  }

  /// Shuts every server down gracefully and waits until all of them stopped.
  public func stop() async {
    for server in servers.reversed() { server.beginGracefulShutdown() }
    await serving.current?.value
  }
}
