/// Where a reader stopped in one file, so that the next read returns only what was appended since.
public struct FilePosition: Hashable, Sendable, Comparable {
  /// Bytes of whole records consumed.
  public var offset: Int64
  /// The file the offset is in, when the store knows it: an offset into a file that has since been replaced
  /// (``FileContextStore/replace(_:)``) means nothing, and the next read starts over. Not part of equality.
  var identity: FileIdentity?

  public init(offset: Int64) { self.offset = offset }
  init(offset: Int64, identity: FileIdentity?) {
    self.offset = offset
    self.identity = identity
  }

  public static let start = FilePosition(offset: 0)
  public static func < (lhs: FilePosition, rhs: FilePosition) -> Bool { lhs.offset < rhs.offset }
  public static func == (lhs: FilePosition, rhs: FilePosition) -> Bool { lhs.offset == rhs.offset }
  public func hash(into hasher: inout Hasher) { hasher.combine(offset) }
}

/// Whole records of one file from a position on, as ``ContextStore/records(in:after:maxBytes:)`` reads them.
public struct RecordPage: Hashable, Sendable {
  public var records: [ContextRecord]
  /// Where the next page starts.
  public var next: FilePosition
  /// Whether nothing whole was left in the file after these records when they were read.
  public var reachedEnd: Bool
  public init(records: [ContextRecord], next: FilePosition, reachedEnd: Bool) {
    self.records = records
    self.next = next
    self.reachedEnd = reachedEnd
  }
}

/// What `stat` says of a file: enough to notice that it changed without reading it.
public struct FileStamp: Hashable, Sendable {
  public var modificationNanoseconds: Int64
  public var size: Int64
  public init(modificationNanoseconds: Int64, size: Int64) {
    self.modificationNanoseconds = modificationNanoseconds
    self.size = size
  }
}

/// One server's (or synchronizer's) context directory. Several processes may append to the same directory at
/// once (a master and its cluster's synchronizer): implementations make each append atomic and durable.
///
/// - Important: ``append(_:)`` returns only after the records are durable (fsync'd); callers acknowledge
///   clients only after it returns.
public protocol ContextStore: Sendable {
  /// Appends each record whose ``ContextRecord/key`` is not yet in its file, in order, durably.
  /// Returns the records that were actually appended (the others were already there).
  @discardableResult
  func append(_ records: [PlacedRecord]) async throws -> [PlacedRecord]

  /// Puts each record in place of a different record with the same key in its file (durably), and returns the
  /// records that replaced something. Only a slave applying its master's records uses it: see
  /// ``FileContextStore/replace(_:)``.
  @discardableResult
  func replace(_ records: [PlacedRecord]) async throws -> [PlacedRecord]

  /// Removes the records under `keys` from `file` (durably), and returns the keys that were there. Only a
  /// slave removing its copy of a write its master holds under another sequence uses it: see
  /// ``FileContextStore/remove(_:from:)``.
  @discardableResult
  func remove(_ keys: Set<RecordKey>, from file: ContextFile) async throws -> Set<RecordKey>

  /// Every whole record of `file` in file order; empty if the file does not exist.
  func records(in file: ContextFile) async throws -> [ContextRecord]

  /// A page of the whole records after `position`: about `maxBytes` of them as lines in the file (at least one,
  /// if any is there), the position after them, and whether they reach the end of what the file held. Costs
  /// the page, not the file: what a catch-up serves from files of any size.
  func records(in file: ContextFile, after position: FilePosition, maxBytes: Int) async throws -> RecordPage

  /// The file's `stat` stamp, or `nil` if it does not exist (timeline watching polls this).
  func stamp(of file: ContextFile) async throws -> FileStamp?

  /// The context files that exist, sorted.
  func files() async throws -> [ContextFile]
}

extension ContextStore {
  /// The whole records appended after `position`, and the position after them.
  public func records(in file: ContextFile, after position: FilePosition) async throws -> (
    records: [ContextRecord], next: FilePosition
  ) {
    let page = try await records(in: file, after: position, maxBytes: .max)
    return (page.records, page.next)
  }
}
