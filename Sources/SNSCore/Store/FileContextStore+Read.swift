extension FileContextStore {
  /// Brings the cache of `file` up to date and returns it, or `nil` if the file does not exist.
  ///
  /// Costs one `stat` when nothing changed. Otherwise reads the new bytes under `LOCK_SH` (a writer holds
  /// `LOCK_EX` while it writes, so a half-written line seen here was torn by a crash), and if the tail is
  /// damaged takes `LOCK_EX` to cut it.
  func refreshForReading(_ file: ContextFile, in caches: inout FileCaches) throws(SNSError)
    -> FileCache?
  {
    // A round holds this file's lock until its lines are durable; what is acknowledged is in the cache, or
    // before the size the round found.
    if let before = inFlight.withLock({ $0[file] }) {
      if let cache = caches.peek(file), cache.holdsRecords { return cache }
      return try readWhileInFlight(file, upTo: before.size)
    }
    let path = path(of: file)
    guard let status = try fileSystem.status(atPath: path) else {
      caches.drop(file)
      return nil
    }
    if let cache = caches.peek(file), cache.holdsRecords, cache.identity == status.identity,
      cache.consumed == status.size
    {
      caches.touch(file)
      return cache
    }
    guard let handle = try OpenContextFile.openLockedForReading(path, on: fileSystem) else {
      caches.drop(file)
      return nil
    }
    // Taken out of the dictionary so that appending to its arrays does not copy them; put back on every
    // exit, also after an error, because ``refresh(_:from:exclusive:)`` only ever commits consistent states.
    var cache = caches.takeWhole(file)
    defer { keep(cache, of: file, in: &caches) }
    if try refresh(&cache, from: handle, exclusive: false) == .needsExclusiveLock {
      guard handle.isWritable else {
        // Whole records are still served; the next writer cuts the tail before it appends.
        logger.warning(
          "\(path) has a damaged tail but is read-only here; not cutting it", metadata: ["file": "\(path)"])
        return cache
      }
      try handle.lock(exclusive: true)
      _ = try refresh(&cache, from: handle, exclusive: true)
    }
    return cache
  }

  /// What ``refresh(_:from:exclusive:)`` found.
  enum RefreshOutcome {
    /// The cache now holds every whole record of the file, and the file ends there.
    case current
    /// The file has a damaged tail to cut, which needs `LOCK_EX`. Everything before it is in the cache.
    case needsExclusiveLock
  }

  /// Reads what was appended to the open, locked `handle` since `cache` last looked, and, holding
  /// `LOCK_EX` (`exclusive`), cuts a damaged tail. Afterwards under `LOCK_EX`, `cache.consumed` is the file's
  /// size, so the next write lands right after the last record.
  func refresh(_ cache: inout FileCache, from handle: borrowing OpenContextFile, exclusive: Bool)
    throws(SNSError) -> RefreshOutcome
  {
    let status = try handle.status()
    if cache.identity != status.identity {
      if cache.identity != nil {
        logger.notice("\(handle.path) was replaced; reading it again", metadata: ["file": "\(handle.path)"])
      }
      cache = FileCache(identity: status.identity)
    } else if status.size < cache.consumed {
      // Only whole lines are ever consumed and no cooperating writer removes those: someone else edited it.
      logger.warning(
        "\(handle.path) shrank from \(cache.consumed) to \(status.size) bytes; reading it again",
        metadata: ["file": "\(handle.path)"])
      cache = FileCache(identity: status.identity)
    }
    guard status.size > cache.consumed else { return .current }

    let bytes = try handle.read(at: cache.consumed, count: Int(status.size - cache.consumed))
    let scan = TailScan(bytes: bytes, base: cache.consumed)
    logSkippedLines(of: scan, in: handle.path)
    cache.add(scan)
    guard scan.damagedTailLength > 0 else { return .current }
    guard exclusive else { return .needsExclusiveLock }

    try handle.truncate(to: scan.wholeEnd)
    // Not needed for safety (a tail that reappears after a crash is cut again), but cuts are rare and this
    // keeps the file on disk matching the log line below.
    try handle.sync()
    logger.warning(
      """
      Cut damaged tail of \(handle.path) at offset \(scan.wholeEnd): \(scan.damagedTailLength) bytes \
      (\(scan.damageReason))
      """,
      metadata: [
        "file": "\(handle.path)", "offset": "\(scan.wholeEnd)", "bytes": "\(scan.damagedTailLength)",
      ])
    return .current
  }

  /// The records of a file this store's round holds locked, up to `size`, where its whole lines ended when
  /// the round took the lock: read without a lock of its own (it would wait for the round's), and not cached.
  private func readWhileInFlight(_ file: ContextFile, upTo size: Int64) throws(SNSError) -> FileCache? {
    guard let handle = try OpenContextFile.openForReading(path(of: file), on: fileSystem) else { return nil }
    var cache = FileCache(identity: try handle.status().identity)
    let scan = TailScan(bytes: try handle.read(at: 0, count: Int(size)), base: 0)
    cache.add(scan)
    return cache
  }

  /// The whole records after `position` of a file this store has not cached, read without caching it: what a
  /// synchronizer's scan needs, at the cost of the new bytes only; with `maxBytes`, of about that many bytes
  /// (at least one record). `nil` when the position is not in the file at the path now (replaced, or cut below
  /// it, or from an unknown file): the caller reads the whole file.
  func readTail(of file: ContextFile, after position: FilePosition, maxBytes: Int = .max) throws(SNSError)
    -> RecordPage?
  {
    let path = path(of: file)
    // A position names its file, except the start, which is the start of any file.
    func holds(_ status: FileStatus) -> Bool {
      (position.identity == status.identity || (position.identity == nil && position.offset == 0))
        && status.size >= position.offset
    }
    guard let status = try fileSystem.status(atPath: path) else {
      return RecordPage(records: [], next: .start, reachedEnd: true)
    }
    guard holds(status) else { return nil }
    if status.size == position.offset {
      return RecordPage(
        records: [], next: FilePosition(offset: position.offset, identity: status.identity), reachedEnd: true)
    }
    guard let handle = try OpenContextFile.openLockedForReading(path, on: fileSystem) else { return nil }
    let locked = try handle.status()
    guard holds(locked) else { return nil }
    // The byte before the position must end a line, and the first line after it must be whole: a file
    // at the same device and inode can still be a different one (an inode freed by a replacement and
    // reused by a later one). Anything else reads the whole file.
    let start = max(0, position.offset - 1)
    let remaining = locked.size - position.offset
    // A page ends inside a line, which the scan leaves for the next page; a line longer than the page is
    // read with more.
    var count = Int64(clamping: maxBytes) < remaining ? Int64(maxBytes) : remaining
    var scan: TailScan
    var bytes: [UInt8]
    repeat {
      bytes = try handle.read(at: start, count: Int(count + position.offset - start))
      if position.offset > 0, bytes.first != UInt8(ascii: "\n") { return nil }
      scan = TailScan(bytes: Array(bytes.dropFirst(Int(position.offset - start))), base: position.offset)
      if !scan.records.isEmpty || count == remaining { break }
      count = min(remaining, max(count * 4, 1 << 16))
    } while true
    if scan.skipped.first?.offset == position.offset || (scan.records.isEmpty && scan.damagedTailLength > 0) {
      return nil
    }
    logSkippedLines(of: scan, in: path)
    // A chunk grown for one long line may hold more than a page after it.
    var taken = 1
    while taken < scan.records.count,
      scan.records[taken].offset + Int64(scan.records[taken].length) - position.offset <= Int64(maxBytes)
    {
      taken += 1
    }
    guard taken < scan.records.count else {
      return RecordPage(
        records: scan.records.map(\.record),
        next: FilePosition(offset: scan.wholeEnd, identity: locked.identity), reachedEnd: count == remaining)
    }
    let last = scan.records[taken - 1]
    return RecordPage(
      records: scan.records.prefix(taken).map(\.record),
      next: FilePosition(offset: last.offset + Int64(last.length), identity: locked.identity),
      reachedEnd: false)
  }

  func logSkippedLines(of scan: TailScan, in path: String) {
    for line in scan.skipped {
      logger.error(
        "Skipping line at offset \(line.offset) of \(path) (\(line.length) bytes): \(line.error)",
        metadata: ["file": "\(path)", "offset": "\(line.offset)", "bytes": "\(line.length)"])
    }
  }
}
