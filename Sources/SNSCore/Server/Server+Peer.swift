extension Server {
  public func mirror(_ request: MirrorRequest) async throws {
    switch state.onMirror(request, now: clock.now()) {
    case .refuse(let error):
      logger.warning("mirror refused", metadata: ["epoch": "\(request.epoch)", "error": "\(error)"])
      throw error
    case .apply(let records):
      // A mirror may be a late copy from before the master restarted (same epoch, a key since given to
      // another write), so it never overrides: a conflict refuses it, and the master does not acknowledge.
      // Catch-ups, which read the master's files as they are now, do override.
      let folds = try await folds(ofOwnersIn: records)
      let appended: [PlacedRecord]
      do {
        appended = try await store.append(records)
      } catch SNSError.storage(let why) where Set(records.map(\.file)).count > 1 {
        // The store refuses per file: the other files of the batch may be stored durably now. A refusal
        // tells the master that none of it is here (it refuses the write for good), so this answer is "in
        // doubt": the master refuses it as unconfirmed, and the client's retry finds what is here.
        logger.warning("mirror partly refused by storage", metadata: ["error": "\(why)"])
        throw SNSError.unavailable(
          "the slave's storage refused part of the mirror (\(why)); the rest may be stored")
      }
      let conflicting = try await conflicts(with: records, appended: appended)
      guard conflicting.isEmpty else {
        logger.warning(
          "mirror refused: a different record holds the key here",
          metadata: ["keys": "\(conflicting.map(\.record.key.value))"])
        throw SNSError.unavailable("the slave holds a different record under \(conflicting[0].record.key)")
      }
      // A late copy of a mirror (from before the master restarted) may remove the copy the master kept
      // instead: the two are one client write, so either way it is here once. The records are stored now,
      // so a failed removal (a full disk) must not refuse the mirror: the master would count a write this
      // server holds as refused. The copy goes at the next catch-up instead.
      do {
        try await removeRetryCopies(of: records, folds: folds)
      } catch {
        logger.warning(
          "could not remove a second copy of a retried write; the next catch-up removes it",
          metadata: ["error": "\(error)"])
      }
    }
  }

  /// Appends the records of a catch-up from this server's master, letting them win over different records
  /// under the same keys (orphans of writes the master refused; see ``FileContextStore/replace(_:)``). The
  /// master's files hold every acknowledged write, so where they differ from this server's, theirs is right.
  /// A copy of one of the master's client writes that this server holds under another sequence goes (see
  /// ``removeRetryCopies(of:folds:)``).
  @discardableResult
  func applyFromMaster(_ records: [PlacedRecord]) async throws -> [PlacedRecord] {
    let folds = try await folds(ofOwnersIn: records)
    let appended = try await store.append(records)
    let conflicting = try await conflicts(with: records, appended: appended)
    var replaced: [PlacedRecord] = []
    if !conflicting.isEmpty {
      replaced = try await store.replace(conflicting)
      // A store may swap records in place, where no position shows it: every user's files are read again.
      if !replaced.isEmpty { userFolds = [:] }
      logger.warning(
        "replaced records that differ from the master's",
        metadata: ["records": "\(replaced.map(\.record.key.value))"])
    }
    try await removeRetryCopies(of: records, folds: folds)
    return appended + replaced
  }

  /// The records that were not appended because a different record holds their key in this server's files.
  func conflicts(with records: [PlacedRecord], appended: [PlacedRecord]) async throws -> [PlacedRecord] {
    guard appended.count < records.count else { return [] }
    var present: [ContextFile: [RecordKey: ContextRecord]] = [:]
    var conflicting: [PlacedRecord] = []
    for placed in records {
      if present[placed.file] == nil {
        present[placed.file] = Dictionary(
          try await store.records(in: placed.file).map { ($0.key, $0) },
          uniquingKeysWith: { first, _ in first })
      }
      if let existing = present[placed.file]?[placed.record.key], existing != placed.record {
        conflicting.append(placed)
      }
    }
    return conflicting
  }

  public func catchUp(_ request: CatchUpRequest) async throws -> CatchUpReply {
    _ = try state.onCatchUpRequest(epoch: request.epoch).get()
    await waitForSoloWrites()
    // Asked again: the role may have changed while waiting.
    let current = try state.onCatchUpRequest(epoch: request.epoch).get()
    var records: [PlacedRecord] = []
    var bytes = 0
    let maxBytes = state.configuration.plantedBugs.contains(.unpagedCatchUp) ? Int.max : request.maxBytes
    for file in try await store.files().sorted() where file != .cursors {
      if let after = request.after, file < after.file { continue }
      let all = try await store.records(in: file)
      var index = request.after.map { $0.file == file ? $0.index : 0 } ?? 0
      while index < all.count {
        guard records.isEmpty || bytes < maxBytes else {
          return CatchUpReply(
            epoch: current, records: records, next: CatchUpPosition(file: file, index: index))
        }
        bytes += RecordCodec.encodedSize(of: all[index])
        records.append(PlacedRecord(all[index], in: file))
        index += 1
      }
    }
    return CatchUpReply(epoch: current, records: records, next: nil)
  }
}
