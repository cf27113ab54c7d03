/// One client write stored twice, under two sequences: its first attempt reached only some server (a slave
/// that stored the mirror the master then refused), and its retry, with the same request key, came to a
/// master whose files lacked it, which gave it a new sequence. Both records are the same client action (one
/// author, one key, one text), so a server keeps exactly one: the current master's.
extension Server {
  /// One client write, whatever sequence it was stored under.
  struct ClientWrite: Hashable {
    let file: ContextFile
    let key: RequestKey
  }

  /// A client write's own record: a post in its author's timeline, or a follow event in its follower's file,
  /// with the request key its client sent.
  struct WriteAttempt {
    let owner: UserID
    let key: RequestKey
    let sequence: UInt64
    let file: ContextFile

    init?(_ placed: PlacedRecord) {
      switch (placed.record, placed.file) {
      case (.post(let post), .timeline(let owner)) where post.author == owner:
        guard let key = post.key else { return nil }
        (self.owner, self.key, self.sequence) = (owner, key, post.id.sequence)
      case (.following(let event), .follows(let owner)) where event.follower == owner:
        guard let key = event.key else { return nil }
        (self.owner, self.key, self.sequence) = (owner, key, event.sequence)
      default:
        return nil
      }
      self.file = placed.file
    }

    /// The keys of the owner's records (in `fold`) that carry this attempt's request key under another
    /// sequence.
    func otherCopies(in fold: UserFold) -> Set<RecordKey> {
      switch file {
      case .timeline:
        Set(
          fold.postSequences(carrying: key).filter { $0 != sequence }.map {
            RecordKey.post(PostID(author: owner, sequence: $0))
          })
      case .follows:
        Set(
          fold.followSequences(carrying: key).filter { $0 != sequence }.map {
            RecordKey.following(owner, sequence: $0)
          })
      case .users, .cursors:
        []
      }
    }
  }

  /// The folds of every owner of a write attempt in `records`, each brought up to date with the files their
  /// attempts are in (only the bytes appended since the last fold are read).
  func folds(ofOwnersIn records: [PlacedRecord]) async throws -> [UserID: UserFold] {
    let files = Set(records.compactMap(WriteAttempt.init).map { ClientFile(owner: $0.owner, file: $0.file) })
    var folds: [UserID: UserFold] = [:]
    for owned in files.sorted(by: { $0.file < $1.file }) {
      folds[owned.owner] = try await refreshedFold(of: owned.owner, only: owned.file)
    }
    return folds
  }

  private struct ClientFile: Hashable {
    let owner: UserID
    let file: ContextFile
  }

  /// Once `records` from the master are stored here: removes this server's other copies of the same client
  /// writes (`folds`, taken before they were stored). The master planned each key only because its files
  /// lacked it, so a copy under another sequence is one no master acknowledged.
  func removeRetryCopies(of records: [PlacedRecord], folds: [UserID: UserFold]) async throws {
    var byFile: [ContextFile: Set<RecordKey>] = [:]
    for attempt in records.compactMap(WriteAttempt.init) {
      guard let fold = folds[attempt.owner] else { continue }
      let others = attempt.otherCopies(in: fold)
      if !others.isEmpty { byFile[attempt.file, default: []].formUnion(others) }
    }
    for (file, keys) in byFile.sorted(by: { $0.key < $1.key }) {
      // The file is written anew: its owner's fold starts over.
      if case .timeline(let owner) = file { userFolds[owner] = nil }
      if case .follows(let owner) = file { userFolds[owner] = nil }
      let removed = try await store.remove(keys, from: file)
      logger.warning(
        "removed this server's copy of a write the master holds under another sequence",
        metadata: ["file": "\(file)", "records": "\(removed.map(\.value).sorted())"])
    }
  }

  /// `records` pulled from a slave, without those that are another copy of a client write this server holds
  /// (under another sequence) or is writing now: this server's own records win.
  func withoutRetryCopies(_ records: [PlacedRecord]) async throws -> [PlacedRecord] {
    let folds = try await folds(ofOwnersIn: records)
    var taken: [ClientWrite: UInt64] = [:]
    return records.filter { placed in
      guard let attempt = WriteAttempt(placed) else { return true }
      if state.keysInFlight.contains(attempt.key) { return false }
      if let fold = folds[attempt.owner], !attempt.otherCopies(in: fold).isEmpty { return false }
      // Two copies in the slave's own files: the first one pulled stays.
      let write = ClientWrite(file: attempt.file, key: attempt.key)
      if let sequence = taken[write], sequence != attempt.sequence { return false }
      taken[write] = attempt.sequence
      return true
    }
  }
}

/// A record that was not stored because a different one holds its key here.
struct KeyConflict {
  let incoming: PlacedRecord
  let existing: ContextRecord

  /// Both are attempts of one client write (same request key): its retry, planned again under the sequence
  /// of a first attempt the planning master did not have.
  var isSameClientWrite: Bool {
    guard let key = incoming.record.clientWriteKey else { return false }
    return key == existing.clientWriteKey
  }
}

extension ContextRecord {
  /// The request key of the client write this record is part of: a post's, or a follow event's on either
  /// side.
  var clientWriteKey: RequestKey? {
    switch self {
    case .post(let post): post.key
    case .following(let event), .follower(let event): event.key
    case .user, .cursor: nil
    }
  }

  /// When the client write this record is part of was planned.
  var writeTime: Timestamp? {
    switch self {
    case .post(let post): post.time
    case .following(let event), .follower(let event): event.time
    case .user, .cursor: nil
    }
  }
}

extension Server {
  /// Keeps the later attempt of each client write that `conflicts` found here under its own sequence: the
  /// master's retry replaces the first attempt; a late copy of the first attempt changes nothing. The write
  /// is then here once either way. A replacement the disk refuses leaves the write in doubt, not refused:
  /// the first attempt is stored.
  func keepRetries(of conflicts: [KeyConflict]) async throws {
    let newer = conflicts.filter {
      $0.isSameClientWrite
        && ($0.incoming.record.writeTime ?? Timestamp(milliseconds: 0))
          > ($0.existing.writeTime ?? Timestamp(milliseconds: 0))
    }.map(\.incoming)
    guard !newer.isEmpty else { return }
    let replaced: [PlacedRecord]
    do {
      replaced = try await store.replace(newer)
    } catch {
      throw SNSError.unavailable(
        "an earlier attempt of this write is stored here and could not be replaced (\(error)); try again")
    }
    guard !replaced.isEmpty else { return }
    userFolds = [:]
    logger.warning(
      "replaced the first attempt of a retried write with the master's retry",
      metadata: ["records": "\(replaced.map(\.record.key.value))"])
  }
}
