import Synchronization

/// Group commit for ``FileContextStore/append(_:)``: appends that arrive while another is being made durable
/// wait, and the next of them writes all their lines and makes them durable with one `fsync` per file.
///
/// The durability protocol of each file is unchanged (`flock(LOCK_EX)`, one `write(2)` per line, `fsync`,
/// unlock; `docs/FILE-FORMAT.md`). Only who does the work changes: one caller at a time, the *leader*, takes
/// every waiting append, writes them file by file, fsyncs all the files at once, and answers every waiter
/// (`FileContextStore+Round.swift`: the store's lock is not held during the fsyncs, so reads go on). Then it
/// hands leadership to the first append that arrived meanwhile, which does the same for everything that
/// queued up during the previous fsync. A leader works for one round only, so no caller is held hostage by
/// a stream of others; an idle store has no leader and costs nothing.
struct CommitQueue: Sendable {
  /// One append waiting to be written.
  struct Waiter: Sendable {
    var records: [PlacedRecord]
    var continuation: CheckedContinuation<Turn, Never>
  }

  /// What a waiting append is woken with.
  enum Turn: Sendable {
    /// Another leader wrote (or refused) this append: the indices of `records` appended, or the error.
    case done(Result<Set<Int>, SNSError>)
    /// This append is the next leader: it writes itself and everything queued behind it.
    case lead
  }

  var waiting: [Waiter] = []
  /// Whether some caller is leading a round right now (then new appends queue instead of writing).
  var leading = false
}

/// How many fsyncs and rounds a store has done: lets tests (and curious operators) see group commit work.
public struct CommitStatistics: Sendable, Hashable {
  /// Calls to ``FileContextStore/append(_:)`` that finished (successfully or not).
  public var appends = 0
  /// Group-commit rounds: each wrote and fsynced the appends that were waiting.
  public var rounds = 0
  /// `fsync` calls on context files made by appends.
  public var fileSyncs = 0
}

extension FileContextStore {
  /// Appends `records` through the commit queue and returns the indices of `records` that were appended.
  func appendGrouped(_ records: [PlacedRecord]) async throws(SNSError) -> Set<Int> {
    let turn = await withCheckedContinuation { (continuation: CheckedContinuation<CommitQueue.Turn, Never>) in
      let leadNow = commits.withLock { queue in
        if queue.leading {
          queue.waiting.append(CommitQueue.Waiter(records: records, continuation: continuation))
          return false
        }
        queue.leading = true
        return true
      }
      if leadNow { continuation.resume(returning: .lead) }
    }
    switch turn {
    case .done(let result):
      return try result.get()
    case .lead:
      // Let appends that are ready to run (often the ones the previous round just answered, now writing
      // their next record) join this round before it starts, instead of each paying for its own fsync.
      await Task.yield()
      return try await lead(with: records).get()
    }
  }

  /// Runs one round as leader: writes `own` and every append waiting now, answers the others, and passes
  /// leadership on (or gives it up when nobody waits). Returns the leader's own result.
  private func lead(with own: [PlacedRecord]) async -> Result<Set<Int>, SNSError> {
    let others = commits.withLock { queue in
      defer { queue.waiting = [] }
      return queue.waiting
    }
    let appends = [own] + others.map(\.records)
    // The round blocks (file locks, writes, fsyncs): off the cooperative pool, onto a thread of its own.
    let results = await runBlocking { self.rounds.withLock { _ in self.commitRound(appends) } }
    for (waiter, result) in zip(others, results.dropFirst()) {
      waiter.continuation.resume(returning: .done(result))
    }
    let next = commits.withLock { queue -> CommitQueue.Waiter? in
      guard !queue.waiting.isEmpty else {
        queue.leading = false
        return nil
      }
      return queue.waiting.removeFirst()
    }
    next?.continuation.resume(returning: .lead)
    statistics.withLock {
      $0.appends += 1 + others.count
      $0.rounds += 1
    }
    return results[0]
  }

  /// Counters of appends, rounds and fsyncs since this store was opened.
  public var commitStatistics: CommitStatistics {
    statistics.withLock { $0 }
  }
}
