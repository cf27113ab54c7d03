/// One user's stream of items a synchronizer routes: its registration, its follow events or its posts.
public struct SyncStream: Hashable, Comparable, Sendable {
  public let kind: SyncCursor.Stream
  public let user: UserID
  public init(_ kind: SyncCursor.Stream, of user: UserID) {
    self.kind = kind
    self.user = user
  }
  public static func < (lhs: SyncStream, rhs: SyncStream) -> Bool {
    (lhs.kind.rawValue, lhs.user) < (rhs.kind.rawValue, rhs.user)
  }
}

/// What a synchronizer keeps across restarts: per stream what it delivered, and how far into the files of
/// the master it scanned (``server``) it has read everything it then delivered. Its size grows with the
/// number of users, not with the history: a restarted synchronizer resumes at those positions instead of
/// rescanning, and the cursors keep a rescan (a new master) from resending what was delivered.
public struct SyncProgress: Hashable, Sendable {
  public var delivered: [SyncStream: DeliveredSequences] = [:]
  /// The master whose files ``positions`` point into.
  public var server: ServerID?
  public var positions: [ContextFile: FilePosition] = [:]

  public init(
    delivered: [SyncStream: DeliveredSequences] = [:], server: ServerID? = nil,
    positions: [ContextFile: FilePosition] = [:]
  ) {
    self.delivered = delivered
    self.server = server
    self.positions = positions
  }

  /// What changed since the last save, to append: the streams whose cursors moved, and positions (all in
  /// the files of `server`). The same shape as the whole progress.
  public typealias Changes = SyncProgress

  public var isEmpty: Bool { delivered.isEmpty && positions.isEmpty }

  /// `self` with `changes` applied: later cursors replace earlier ones; positions of another server replace
  /// all earlier positions.
  public mutating func apply(_ changes: Changes) {
    delivered.merge(changes.delivered) { _, new in new }
    guard !changes.positions.isEmpty else { return }
    if changes.server != server {
      server = changes.server
      positions = [:]
    }
    positions.merge(changes.positions) { _, new in new }
  }
}

/// Where a synchronizer keeps its ``SyncProgress`` (its own directory; the file format is in
/// `docs/FILE-FORMAT.md`).
public protocol SyncProgressStore: Sendable {
  /// The progress saved so far (empty at the first start).
  func load() async throws -> SyncProgress
  /// Makes `changes` durable; returns only once they are.
  func save(_ changes: SyncProgress.Changes) async throws
}
