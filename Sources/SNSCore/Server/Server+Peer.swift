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
      let conflicting = try await conflictPairs(with: records, appended: appended)
      // The same client write under one sequence twice (its first attempt reached only this server, and the
      // master, whose files lacked it, gave the retry that sequence again) is one action, not a conflict.
      let refused = conflicting.filter { !$0.isSameClientWrite }.map(\.incoming)
      guard refused.isEmpty else {
        logger.warning(
          "mirror refused: a different record holds the key here",
          metadata: ["keys": "\(refused.map(\.record.key.value))"])
        throw SNSError.unavailable("the slave holds a different record under \(refused[0].record.key)")
      }
      try await keepRetries(of: conflicting)
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
    try await conflictPairs(with: records, appended: appended).map(\.incoming)
  }

  /// ``conflicts(with:appended:)``, each with the record that holds its key here.
  ///
  /// Only the records not appended are looked for, by their key's place (``KeySummary``, no key strings), so
  /// a catch-up of records already here reads each file it touches without building anything per record.
  func conflictPairs(with records: [PlacedRecord], appended: [PlacedRecord]) async throws -> [KeyConflict] {
    guard appended.count < records.count else { return [] }
    let stored = Set(appended)
    var sought: [ContextFile: [KeySummary.Place: PlacedRecord]] = [:]
    for placed in records where !stored.contains(placed) {
      sought[placed.file, default: [:]][KeySummary.place(of: placed.record)] = placed
    }
    var conflicting: [KeyConflict] = []
    for (file, wanted) in sought.sorted(by: { $0.key < $1.key }) {
      var remaining = wanted
      for existing in try await store.records(in: file) {
        guard let placed = remaining.removeValue(forKey: KeySummary.place(of: existing)) else { continue }
        if existing != placed.record { conflicting.append(KeyConflict(incoming: placed, existing: existing)) }
        if remaining.isEmpty { break }
      }
    }
    // In the order given: replacements and log lines follow the batch.
    let order = Dictionary(records.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    return conflicting.sorted { (order[$0.incoming] ?? 0) < (order[$1.incoming] ?? 0) }
  }
}
