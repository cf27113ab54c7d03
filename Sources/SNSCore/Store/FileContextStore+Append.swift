extension FileContextStore {
  /// Appends to `file` each record whose key is not yet in it, in order, and fsyncs; returns the indices
  /// (from `records`) of the records written.
  ///
  /// Protocol: open with `O_APPEND | O_CREAT`, `flock(LOCK_EX)`, read what others appended since (cutting a
  /// torn tail, so the new line does not get glued to it), one `write(2)` per new line, `fsync` the file
  /// (and its directory the first time), then unlock by closing.
  func append(
    _ records: [(index: Int, record: ContextRecord)], to file: ContextFile,
    in caches: inout [ContextFile: FileCache]
  ) throws(SNSError) -> [Int] {
    guard !records.isEmpty else { return [] }
    let path = path(of: file)
    let handle = try OpenContextFile.openForAppending(path)
    try handle.lock(exclusive: true)
    var cache = caches.removeValue(forKey: file) ?? FileCache()
    defer { caches[file] = cache }
    _ = try refresh(&cache, from: handle, exclusive: true)

    let start = cache.consumed
    var end = start
    var written: [(index: Int, record: ContextRecord, offset: Int64)] = []
    var writtenKeys: Set<RecordKey> = []
    do throws(SNSError) {
      for (index, record) in records {
        let key = record.key
        guard !cache.keys.contains(key), !writtenKeys.contains(key) else { continue }
        let line = RecordCodec.encodedBytes(record)
        try handle.writeLine(line)
        written.append((index, record, end))
        writtenKeys.insert(key)
        end += Int64(line.count)
      }
      // Also when nothing was new: "already there" must be as durable as "appended", and the lines found
      // may come from a writer that crashed before its own fsync.
      try SNSMetrics.fsyncLatency.measure { () throws(SNSError) in try handle.sync() }
      statistics.withLock { $0.fileSyncs += 1 }
      if !cache.directoryEntrySynced {
        try syncDirectory(directory)
        cache.directoryEntrySynced = true
      }
    } catch {
      takeBack(from: handle, to: start, after: error)
      throw error
    }
    for entry in written {
      cache.add(entry.record, at: entry.offset)
    }
    cache.consumed = end
    return written.map(\.index)
  }

  /// Removes this call's lines after a failed write or fsync, still under `LOCK_EX`, so that no reader
  /// ever sees them and a retry writes and fsyncs them again instead of finding them "already there".
  private func takeBack(from handle: borrowing OpenContextFile, to length: Int64, after error: SNSError) {
    do throws(SNSError) {
      let size = try handle.status().size
      guard size > length else { return }
      try handle.truncate(to: length)
      try handle.sync()
      logger.warning(
        "Append to \(handle.path) failed (\(error)); removed its \(size - length) bytes",
        metadata: ["file": "\(handle.path)", "offset": "\(length)", "bytes": "\(size - length)"])
    } catch let cleanup {
      // The next refresh reads whatever stayed, and the next append fsyncs it before calling it present.
      logger.error(
        "Append to \(handle.path) failed (\(error)) and its bytes could not be removed: \(cleanup)",
        metadata: ["file": "\(handle.path)", "offset": "\(length)"])
    }
  }
}
