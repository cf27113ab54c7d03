import Synchronization

extension FileContextStore {
  /// Threads that run rounds: a round blocks in `flock`, `write` and while it waits for its fsyncs, and must
  /// not do that on the cooperative pool. Rounds of one store run one after another; a few threads let the
  /// stores of one process (a synchronizer has several) commit at the same time.
  static let roundThreads = BlockingThreads(name: "sns-commit", count: 4)

  /// Threads that fsync the files of rounds concurrently. On ext4, fsyncs that are in flight together can
  /// share one journal commit: 64 files fsynced by 16 threads took 2.5 ms on the benchmark machine
  /// against 6 ms one after another (64 threads: 5 ms, thread start-up included). `syncfs` would need one
  /// call, but it flushes everything dirty on the file system, other programs' writes included (`sync` took
  /// 35 ms there).
  static let syncThreads = BlockingThreads(name: "sns-fsync", count: 16)

  /// One record of a round: which append it belongs to and its index there.
  private struct Entry {
    var append: Int
    var index: Int
    var record: ContextRecord
  }

  /// Writes and makes durable the appends of one round; blocks (call it through ``runBlocking(_:)``).
  ///
  /// 1. Under the `caches` lock, file by file in `ContextFile` order (the order every writer takes the
  ///    file locks in, so two rounds, in this process or another, cannot wait for each other's locks): lock
  ///    `LOCK_EX`, write the lines (`write(_:to:in:)`), keep the lock.
  /// 2. Without the `caches` lock, fsync every file (and the directory, for new files) concurrently; reads
  ///    of this store go on meanwhile and see the files as they were before the round. The file locks stay
  ///    held: another process never reads a line that may yet be cut, and a file whose fsync fails is cut
  ///    back before anyone else can append after its lines.
  /// 3. Release the file locks, then put the lines in the caches. In this order because a reader of this
  ///    store waits for a file lock while holding the `caches` lock; a round that held file locks while it
  ///    waited for `caches` could close a cycle with such a reader and a writer in another process.
  ///
  /// Records of several appends for one file keep their order (earlier append first), and a key appended by
  /// an earlier append counts as "already there" for a later one, exactly as if they had run one after
  /// another. If a file fails, every append with records in it gets the error; a write that fails also
  /// keeps their records out of the files after it. A failed append may have had other files written
  /// durably; a retry finds those records there (appends are idempotent).
  func commitRound(_ appends: [[PlacedRecord]]) -> [Result<Set<Int>, SNSError>] {
    var groups: [ContextFile: [Entry]] = [:]
    for (append, records) in appends.enumerated() {
      for (index, placed) in records.enumerated() {
        groups[placed.file, default: []].append(Entry(append: append, index: index, record: placed.record))
      }
    }
    var failures: [Int: SNSError] = [:]
    var written: [(file: WrittenFile, entries: [Entry])] = []
    caches.withLock { caches in
      for file in groups.keys.sorted() {
        let entries = (groups[file] ?? []).filter { failures[$0.append] == nil }
        guard !entries.isEmpty else { continue }
        // `write(_:to:in:)` numbers its records by position; `entries` maps them back to (append, index).
        let numbered = entries.enumerated().map { (index: $0.offset, record: $0.element.record) }
        do throws(SNSError) {
          written.append((try write(numbered, to: file, in: &caches), entries))
        } catch {
          for entry in entries { failures[entry.append] = error }
        }
      }
    }

    let syncErrors = syncAll(written.map(\.file))
    for ((file, entries), error) in zip(written, syncErrors) {
      guard let error else { continue }
      let answer = file.held.takeBack(to: file.start, after: error, in: self)
      for entry in entries { failures[entry.append] = answer }
    }
    for (file, _) in written { file.held.release() }

    var appended = [Set<Int>](repeating: [], count: appends.count)
    caches.withLock { caches in
      for ((file, entries), error) in zip(written, syncErrors) where error == nil {
        var cache = caches.take(file.file)
        for line in file.lines {
          cache.add(line.record, at: line.offset, lineLength: line.length)
          appended[entries[line.position].append].insert(entries[line.position].index)
        }
        cache.consumed = file.end
        cache.directoryEntrySynced = true
        keep(cache, of: file.file, in: &caches)
      }
      // After the caches: whoever sees a file's new size in `stamp(of:)` then reads its new records.
      inFlight.withLock { inFlight in
        for (file, _) in written { inFlight[file.file] = nil }
      }
    }
    return appends.indices.map { append in
      if let error = failures[append] { return .failure(error) }
      return .success(appended[append])
    }
  }

  /// fsyncs every file (and the directory once, if a file needs it) concurrently on ``syncThreads``; returns
  /// each file's error, or `nil` for a file that is durable now.
  private func syncAll(_ files: [WrittenFile]) -> [SNSError?] {
    let errors = Mutex([SNSError?](repeating: nil, count: files.count))
    let directoryError = Mutex<SNSError?>(nil)
    var jobs: [@Sendable () -> Void] = files.enumerated().map { number, written in
      {
        do throws(SNSError) {
          try self.durabilityBarrier?(written.file)
          if !self.plantedBugs.contains(.acknowledgeBeforeFsync) {
            try SNSMetrics.fsyncLatency.measure { () throws(SNSError) in try written.held.sync() }
            self.statistics.withLock { $0.fileSyncs += 1 }
          }
        } catch {
          errors.withLock { $0[number] = error }
        }
      }
    }
    if files.contains(where: \.needsDirectorySync) {
      // One fsync of the directory makes the names of all new files in it durable.
      jobs.append {
        do throws(SNSError) {
          try self.fileSystem.syncDirectory(self.directory)
        } catch {
          directoryError.withLock { $0 = error }
        }
      }
    }
    if fileSystem.callsMayBlock {
      Self.syncThreads.performAll(jobs)
    } else {
      for job in jobs { job() }
    }
    let directoryFailure = directoryError.withLock { $0 }
    return errors.withLock { errors in
      zip(files, errors).map { file, error in
        error ?? (file.needsDirectorySync ? directoryFailure : nil)
      }
    }
  }
}
