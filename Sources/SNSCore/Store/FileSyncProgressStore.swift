import Foundation
import Logging
import Synchronization

/// Keeps a synchronizer's ``SyncProgress`` in `<directory>/progress` (``SyncProgressLine``): each save
/// appends the lines of what changed in one `write(2)` and fsyncs, so a round costs what it changed, not
/// what the synchronizer ever delivered. When the file holds more than twice the live lines (plus some
/// slack) it is compacted: written anew with one line per stream and file, and renamed over the old one.
///
/// A torn or damaged line (a crash inside a save) is ignored on load and cut before the next append; what it
/// held is at worst sent again, which receivers take idempotently.
///
/// Cursors of the earlier format (`cursors`, one record per delivered item) are read at the first load and
/// folded in; the file is removed once a compacted `progress` holds them.
public final class FileSyncProgressStore: SyncProgressStore {
  public let directory: String
  let logger: Logger
  let fileSystem = POSIXFileSystem()
  var path: String { (directory as NSString).appendingPathComponent("progress") }
  var legacyPath: String { (directory as NSString).appendingPathComponent(ContextFile.cursors.fileName) }

  /// What the file holds, and how many lines it has (for compaction).
  struct Saved: Sendable {
    var progress = SyncProgress()
    var lines = 0
    var bytes: Int64 = 0
    var legacyFilePresent = false
  }
  let saved = Mutex(Saved())

  static let threads = BlockingThreads(name: "sns-progress", count: 1)
  /// Lines beyond twice the live ones before a compaction.
  static let compactionSlack = 1024

  /// Creates `directory` if needed.
  public init(directory: String, logger: Logger) throws {
    try FileContextStore.prepare(directory: directory, on: fileSystem)
    self.directory = directory
    self.logger = logger
  }

  public func load() async throws -> SyncProgress {
    try await Self.threads.run { () -> Result<SyncProgress, SNSError> in
      Result { () throws(SNSError) -> SyncProgress in try self.loadBlocking() }
    }.get()
  }

  public func save(_ changes: SyncProgress.Changes) async throws {
    guard !changes.isEmpty else { return }
    try await Self.threads.run { () -> Result<Void, SNSError> in
      Result { () throws(SNSError) in try self.saveBlocking(changes) }
    }.get()
  }

  // MARK: - Blocking work, on `threads`

  func loadBlocking() throws(SNSError) -> SyncProgress {
    var loaded = Saved()
    if let handle = try OpenContextFile.openForReading(path, on: fileSystem) {
      let size = try handle.status().size
      let bytes = try handle.read(at: 0, count: Int(size))
      var wholeEnd = 0
      var damaged = 0
      var lineStart = 0
      while let lineEnd = bytes[lineStart...].firstIndex(of: UInt8(ascii: "\n")) {
        if let line = SyncProgressLine(line: bytes[lineStart..<lineEnd]) {
          line.apply(to: &loaded.progress)
          loaded.lines += 1
        } else {
          damaged += 1
        }
        lineStart = lineEnd + 1
        wholeEnd = lineStart
      }
      if damaged > 0 {
        logger.warning("Skipped \(damaged) damaged line(s) of \(path)", metadata: ["file": "\(path)"])
      }
      if wholeEnd < bytes.count {
        // An unterminated last line: a save the process did not finish. Cut, so the next append starts a line.
        guard handle.isWritable else { throw .storage("\(path) has a torn last line and is read-only") }
        try handle.truncate(to: Int64(wholeEnd))
        try handle.sync()
        logger.warning(
          "Cut a torn last line of \(path) at offset \(wholeEnd)", metadata: ["file": "\(path)"])
      }
      loaded.bytes = Int64(wholeEnd)
    }
    if let legacy = try OpenContextFile.openForReading(legacyPath, on: fileSystem) {
      let bytes = try legacy.read(at: 0, count: Int(try legacy.status().size))
      let scan = TailScan(bytes: bytes, base: 0)
      for case (_, _, .cursor(let cursor)) in scan.records {
        let stream = SyncStream(cursor.stream, of: cursor.user)
        loaded.progress.delivered[stream, default: DeliveredSequences()].insert(cursor.sequence)
      }
      loaded.legacyFilePresent = true
    }
    let progress = loaded.progress
    saved.withLock { $0 = loaded }
    if loaded.legacyFilePresent { try compact(progress) }
    return progress
  }

  func saveBlocking(_ changes: SyncProgress.Changes) throws(SNSError) {
    var next = saved.withLock { $0 }
    next.progress.apply(changes)
    let lines = SyncProgressLine.lines(for: changes)
    let live = next.progress.delivered.count + next.progress.positions.count
    if next.lines + lines.count > 2 * live + Self.compactionSlack {
      try compact(next.progress)
      return
    }
    let bytes = Array(lines.map(\.encoded).joined().utf8)
    let handle = try OpenContextFile.openForAppending(path, on: fileSystem)
    let before = next.bytes
    do throws(SNSError) {
      try handle.writeLine(bytes)
      try handle.sync()
      if before == 0 { try fileSystem.syncDirectory(directory) }
    } catch {
      // Nothing of a failed save may stay: a partial line would swallow the next save's first line.
      try? handle.truncate(to: before)
      throw error
    }
    next.lines += lines.count
    next.bytes = before + Int64(bytes.count)
    saved.withLock { $0 = next }
  }

  /// Writes `progress` as a new file of one line per stream and file, and renames it over the old one.
  func compact(_ progress: SyncProgress) throws(SNSError) {
    let lines = SyncProgressLine.lines(for: progress)
    let bytes = Array(lines.map(\.encoded).joined().utf8)
    try fileSystem.replaceFile(at: path, in: directory, with: bytes, via: path + ".compacting")
    let hadLegacy = saved.withLock { $0.legacyFilePresent }
    if hadLegacy {
      fileSystem.removeQuietly(legacyPath)
      try fileSystem.syncDirectory(directory)
    }
    saved.withLock {
      $0 = Saved(progress: progress, lines: lines.count, bytes: Int64(bytes.count), legacyFilePresent: false)
    }
  }
}
