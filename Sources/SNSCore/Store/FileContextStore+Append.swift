import Synchronization

/// One file of a group-commit round after its lines were written: still open and exclusively locked, waiting
/// for its fsync (see `FileContextStore+Round.swift`).
struct WrittenFile: Sendable {
  /// One line written, with where it starts.
  struct Line: Sendable {
    /// Index of the record in the list given to ``FileContextStore/write(_:to:in:)``.
    var position: Int
    var record: ContextRecord
    var offset: Int64
    var length: Int
  }

  var file: ContextFile
  var held: HeldFile
  /// The file's size before this round's lines: where a failed round cuts it back to.
  var start: Int64
  var end: Int64
  var lines: [Line]
  /// Whether the directory must be fsynced too (this store has not done it since it first used the file).
  var needsDirectorySync: Bool
}

/// An open descriptor whose `flock(LOCK_EX)` is held across a thread hop and released at a chosen moment
/// (``release()``), not whenever the last reference happens to go away.
final class HeldFile: Sendable {
  private let handle: Mutex<OpenContextFile?>

  init(_ handle: consuming OpenContextFile) {
    self.handle = Mutex(Optional(handle))
  }

  /// `fsync` of the file.
  func sync() throws(SNSError) {
    try handle.withLock { (value: inout OpenContextFile?) throws(SNSError) in
      switch value {
      case .some(let open): try open.sync()
      case .none: preconditionFailure("fsync of a released file")
      }
    }
  }

  /// Cuts the file back to `length`; the error to answer with (see ``FileContextStore/takeBack(from:to:after:)``).
  func takeBack(to length: Int64, after error: SNSError, in store: FileContextStore) -> SNSError {
    handle.withLock { (value: inout OpenContextFile?) in
      switch value {
      case .some(let open): store.takeBack(from: open, to: length, after: error)
      case .none: preconditionFailure("cutting a released file")
      }
    }
  }

  /// Closes the descriptor, which drops its lock.
  func release() {
    handle.withLock { $0 = nil }
  }
}

extension FileContextStore {
  /// Writes to `file` each record whose key is not yet in it, in order, and leaves the file locked for its
  /// fsync; returns what was written. Marks the file in flight (readers of this store then serve the cache,
  /// which does not hold these lines yet, without touching the locked file).
  ///
  /// Protocol: open with `O_APPEND | O_CREAT`, `flock(LOCK_EX)`, read what others appended since (cutting a
  /// torn tail, so the new line does not get glued to it), one `write(2)` per new line. The caller fsyncs
  /// the file (and its directory the first time) and only then unlocks it (`docs/FILE-FORMAT.md`).
  ///
  /// On a failed write the lines are cut away again before the lock is dropped, and nothing stays in flight.
  func write(
    _ records: [(index: Int, record: ContextRecord)], to file: ContextFile,
    in caches: inout FileCaches
  ) throws(SNSError) -> WrittenFile {
    let path = path(of: file)
    let handle = try OpenContextFile.openLockedForAppending(path, on: fileSystem)
    var cache = caches.take(file)
    defer { keep(cache, of: file, in: &caches) }
    _ = try refresh(&cache, from: handle, exclusive: true)
    let before = try handle.status()
    // Before the first write: `stamp(of:)` must never show these bytes while reads do not (see there).
    inFlight.withLock {
      $0[file] = FileStamp(modificationNanoseconds: before.modificationNanoseconds, size: before.size)
    }

    let start = cache.consumed
    var end = start
    var lines: [WrittenFile.Line] = []
    var writtenKeys: Set<RecordKey> = []
    do throws(SNSError) {
      for (index, record) in records {
        let key = record.key
        guard !cache.keys.contains(record), !writtenKeys.contains(key) else { continue }
        let line = RecordCodec.encodedBytes(record)
        try handle.writeLine(line)
        lines.append(WrittenFile.Line(position: index, record: record, offset: end, length: line.count))
        writtenKeys.insert(key)
        end += Int64(line.count)
      }
    } catch {
      let answer = takeBack(from: handle, to: start, after: error)
      inFlight.withLock { $0[file] = nil }
      throw answer
    }
    // Also when nothing was new, the file is fsynced: "already there" must be as durable as "appended", and
    // the lines found may come from a writer that crashed before its own fsync.
    return WrittenFile(
      file: file, held: HeldFile(handle), start: start, end: end, lines: lines,
      needsDirectorySync: !cache.directoryEntrySynced)
  }

  /// Removes a call's lines after a failed write or fsync, still under `LOCK_EX`, so that no reader ever
  /// sees them and a retry writes and fsyncs them again instead of finding them "already there". Returns
  /// what to answer: `error` (a refusal: nothing of the call is anywhere) once the cut is durable, or an
  /// ``SNSError/unavailable(_:)`` when it is not (the cut or its fsync failed too): the lines may still be
  /// read, or come back after a crash, so the call's outcome is unknown and the caller must retry, not give up.
  func takeBack(from handle: borrowing OpenContextFile, to length: Int64, after error: SNSError) -> SNSError {
    do throws(SNSError) {
      let size = try handle.status().size
      guard size > length else { return error }
      try handle.truncate(to: length)
      try handle.sync()
      logger.warning(
        "Append to \(handle.path) failed (\(error)); removed its \(size - length) bytes",
        metadata: ["file": "\(handle.path)", "offset": "\(length)", "bytes": "\(size - length)"])
      return error
    } catch let cleanup {
      // The next refresh reads whatever stayed, and the next append fsyncs it before calling it present.
      logger.error(
        "Append to \(handle.path) failed (\(error)) and its bytes could not be removed for certain: \(cleanup)",
        metadata: ["file": "\(handle.path)", "offset": "\(length)"])
      return .unavailable(
        "\(error); removing its lines failed too (\(cleanup)), so it may yet be stored: try again")
    }
  }
}
