/// Writes a master acknowledged without its slave (none was alive), or whose mirror did not reach it, in
/// the order they were written: they go to the slave ahead of the next mirror, so it misses nothing.
///
/// A value with no I/O: the master takes the backlog for a mirror, and puts back what the slave did not
/// confirm, ahead of anything queued meanwhile (other commands run while a mirror is awaited).
struct MirrorBacklog: Hashable, Sendable {
  private(set) var records: [PlacedRecord] = []

  var isEmpty: Bool { records.isEmpty }

  /// A write that went out to no slave.
  mutating func queue(_ written: [PlacedRecord]) {
    records += written
  }

  /// A write that was queued and then refused after all: it is nowhere, so it must not be sent.
  mutating func remove(_ refused: [PlacedRecord]) {
    records.removeAll { refused.contains($0) }
  }

  /// The batch for a mirror of `write`: the backlog first, oldest first, `write` last. The backlog is empty
  /// until ``putBack(_:sent:)`` returns what was not confirmed.
  mutating func take(with write: [PlacedRecord]) -> Batch {
    defer { records = [] }
    return Batch(records: records + write, backlogCount: records.count)
  }

  /// After a failed mirror: the backlog records of `batch` beyond the first `sent` go back, ahead of anything
  /// queued since. The write itself never does (it was refused, and is not stored here).
  mutating func putBack(_ batch: Batch, sent: Int) {
    guard sent < batch.backlogCount else { return }
    records = Array(batch.records[sent..<batch.backlogCount]) + records
  }

  struct Batch: Hashable, Sendable {
    /// The backlog, then the write.
    var records: [PlacedRecord]
    /// How many of `records` are backlog.
    var backlogCount: Int
  }
}
