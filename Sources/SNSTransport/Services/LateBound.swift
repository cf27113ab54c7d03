import SNSCore
import Synchronization

/// Lets a gRPC listener be created before the ``Server`` it serves, whose configuration needs the port the
/// listener bound (port 0 picks one): the handlers reach the server through this, set once it exists.
/// Calls before that get `UNAVAILABLE`.
public final class LateBoundServer: ClientPort, ServerPeerPort {
  let server = Mutex<Server?>(nil)

  public init() {}

  /// Makes `value` the server that calls reach from now on.
  public func set(_ value: Server) { server.withLock { $0 = value } }

  func get() throws -> Server {
    guard let server = server.withLock({ $0 }) else { throw SNSError.unavailable("starting") }
    return server
  }

  public func execute(_ command: Command, for user: UserID) async throws -> Reply {
    try await get().execute(command, for: user)
  }
  public func timeline(for user: UserID) async throws -> TimelineSubscription {
    try await get().timeline(for: user)
  }
  public func mirror(_ request: MirrorRequest) async throws { try await get().mirror(request) }
  public func catchUp(_ request: CatchUpRequest) async throws -> CatchUpReply {
    try await get().catchUp(request)
  }
}

/// The synchronizer's counterpart of ``LateBoundServer``.
public final class LateBoundSynchronizer: SynchronizerPort {
  let synchronizer = Mutex<Synchronizer?>(nil)

  public init() {}

  /// Makes `value` the synchronizer that calls reach from now on.
  public func set(_ value: Synchronizer) { synchronizer.withLock { $0 = value } }

  public func deliver(_ batch: SyncBatch) async throws -> SyncAck {
    guard let synchronizer = synchronizer.withLock({ $0 }) else { throw SNSError.unavailable("starting") }
    return try await synchronizer.deliver(batch)
  }
}
