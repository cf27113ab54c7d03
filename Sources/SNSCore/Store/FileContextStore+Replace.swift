extension FileContextStore {
  /// Puts each record in place of a *different* record with the same key in its file, by writing the file
  /// anew and renaming it over the old one; returns the records that replaced something. Records whose key
  /// is absent, or present with the same content, are left to ``append(_:)``.
  ///
  /// Why: a slave can hold a record its master never wrote — the master mirrored a write, the slave stored it,
  /// and the master refused it (the slave's answer was lost, or the slave crashed inside the append). If the
  /// master then restarts with its counters gone and gives that sequence to a new, acknowledged write, the
  /// slave's idempotent append keeps its own record and drops the master's; promoted later, it would lose an
  /// acknowledged write. The current master's files hold
  /// every acknowledged write, so in a catch-up (a read of those files) the slave lets them win
  /// (`Server.applyFromMaster`); a mirror, which may be a late copy, never replaces anything.
  ///
  /// The rewrite keeps every other byte of the file (damaged lines included) and happens under the old
  /// file's `flock(LOCK_EX)`: a writer that waited for that lock finds a different file at the path and opens
  /// it again (``OpenContextFile/openLockedForAppending(_:)``), so no append lands in the unlinked file.
  /// Rounds of this store are held off meanwhile (`rounds`).
  @discardableResult
  public func replace(_ records: [PlacedRecord]) async throws -> [PlacedRecord] {
    guard !records.isEmpty else { return [] }
    return try await runBlocking { () -> Result<[PlacedRecord], SNSError> in
      self.rounds.withLock { _ in
        Result { () throws(SNSError) -> [PlacedRecord] in try self.rewrite(records) }
      }
    }.get()
  }

  /// Removes the records under `keys` from `file`, by writing the file anew as ``replace(_:)`` does; returns
  /// the keys that were there.
  ///
  /// Why: a client's write can be stored twice under two sequences. Its first attempt reached only the slave
  /// (the master refused it), and a master whose files lacked it gave the retry a new sequence. The master
  /// plans a key only when its files do not hold it, so the slave's copy is the one no master kept, and goes
  /// once the master's copy is here (`Server.removeRetryCopies(of:)`).
  @discardableResult
  public func remove(_ keys: Set<RecordKey>, from file: ContextFile) async throws -> Set<RecordKey> {
    guard !keys.isEmpty else { return [] }
    return try await runBlocking { () -> Result<Set<RecordKey>, SNSError> in
      self.rounds.withLock { _ in
        Result { () throws(SNSError) -> Set<RecordKey> in
          let edits = Dictionary(uniqueKeysWithValues: keys.map { ($0, Edit.remove) })
          let changed = try self.caches.withLock { caches throws(SNSError) in
            try self.rewrite(file, with: edits, in: &caches)
          }
          return Set(changed.map(\.key))
        }
      }
    }.get()
  }

  /// What a rewrite does to the line of a record.
  private enum Edit {
    case replace(ContextRecord)
    case remove
  }

  /// Rewrites every file of `records` that holds a different record under one of their keys. Blocks.
  private func rewrite(_ records: [PlacedRecord]) throws(SNSError) -> [PlacedRecord] {
    var byFile: [ContextFile: [RecordKey: Edit]] = [:]
    for placed in records { byFile[placed.file, default: [:]][placed.record.key] = .replace(placed.record) }
    var replaced: [PlacedRecord] = []
    for file in byFile.keys.sorted() {
      guard let replacements = byFile[file] else { continue }
      let changed = try caches.withLock { caches throws(SNSError) in
        try rewrite(file, with: replacements, in: &caches)
      }
      replaced += changed.compactMap { edit in edit.replacement.map { PlacedRecord($0, in: file) } }
    }
    return replaced
  }

  /// Rewrites one file if it holds a record under a key of `edits` that the edit changes (a replacement that
  /// differs, or a removal); returns the records the edits applied to, with their replacements.
  private func rewrite(
    _ file: ContextFile, with edits: [RecordKey: Edit], in caches: inout FileCaches
  ) throws(SNSError) -> [(key: RecordKey, replacement: ContextRecord?)] {
    let path = path(of: file)
    guard try fileSystem.status(atPath: path) != nil else { return [] }
    let handle = try OpenContextFile.openLockedForAppending(path, on: fileSystem)
    var cache = caches.takeWhole(file)
    _ = try refresh(&cache, from: handle, exclusive: true)
    // The lines to swap, by the offset where each starts; a line ends at the next record's offset or at the
    // end of what was consumed (skipped damaged lines in between are kept as they are).
    var swaps: [(start: Int64, key: RecordKey, replacement: ContextRecord?)] = []
    for (index, record) in cache.records.enumerated() {
      switch edits[record.key] {
      case .replace(let replacement) where replacement != record:
        swaps.append((cache.offset(at: index), record.key, replacement))
      case .remove:
        swaps.append((cache.offset(at: index), record.key, nil))
      case .replace, nil:
        continue
      }
    }
    guard !swaps.isEmpty else {
      keep(cache, of: file, in: &caches)
      return []
    }
    let old = try handle.read(at: 0, count: Int(cache.consumed))
    var new: [UInt8] = []
    new.reserveCapacity(old.count)
    var copied = 0
    for swap in swaps {
      let start = Int(swap.start)
      guard let newline = old[start...].firstIndex(of: UInt8(ascii: "\n")) else { break }
      new += old[copied..<start]
      if let replacement = swap.replacement { new += RecordCodec.encodedBytes(replacement) }
      copied = newline + 1
    }
    new += old[copied...]

    do throws(SNSError) {
      try fileSystem.replaceFile(at: path, in: directory, with: new, via: path + ".replacing")
    } catch {
      caches.drop(file)
      throw error
    }
    // The old descriptor (and its lock) goes away with `handle`; the next read loads the new file.
    caches.drop(file)
    logger.warning(
      "Rewrote \(swaps.count) record(s) in \(path) to agree with the master",
      metadata: [
        "file": "\(path)", "replaced": "\(swaps.filter { $0.replacement != nil }.map(\.key.value))",
        "removed": "\(swaps.filter { $0.replacement == nil }.map(\.key.value))",
      ])
    return swaps.map { ($0.key, $0.replacement) }
  }
}
