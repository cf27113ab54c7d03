import Testing

@testable import SNSCore

/// The master's write bookkeeping as values: the mirror backlog and the writes it owes its own disk.
@Suite("Mirror backlog and owed writes")
struct WriteBookkeepingTests {
  func placed(_ author: Int, _ sequence: UInt64) -> PlacedRecord {
    PlacedRecord(FileContextStoreTests.post(author, sequence), in: .timeline(user(author)))
  }

  @Test(
    "a mirror takes the backlog oldest first with the write last; a failure puts back only the unsent backlog, ahead of what was queued meanwhile"
  )
  func backlog() {
    var backlog = MirrorBacklog()
    backlog.queue([placed(1, 1), placed(1, 2)])
    let batch = backlog.take(with: [placed(1, 3)])
    #expect(batch.records == [placed(1, 1), placed(1, 2), placed(1, 3)] && batch.backlogCount == 2)
    #expect(backlog.isEmpty)
    // Another command goes alone while the mirror is awaited; then the mirror fails after one record.
    backlog.queue([placed(2, 1)])
    backlog.putBack(batch, sent: 1)
    #expect(backlog.records == [placed(1, 2), placed(2, 1)], "the write itself never goes back")
    backlog.putBack(MirrorBacklog.Batch(records: [placed(1, 9)], backlogCount: 0), sent: 0)
    #expect(backlog.records == [placed(1, 2), placed(2, 1)])
    backlog.remove([placed(2, 1)])
    #expect(backlog.records == [placed(1, 2)])
  }

  @Test(
    "owed writes: a write to a refusing file is refused for good, or in doubt if it is itself owed; other files go on",
    arguments: [
      (file: 1, owedRetry: false, expected: "storage"),
      (file: 1, owedRetry: true, expected: "unavailable"),
      (file: 2, owedRetry: false, expected: "none"),
    ])
  func owed(file: Int, owedRetry: Bool, expected: String) {
    var owed = OwedWrites()
    owed.owe([placed(1, 1)])
    owed.owe([placed(1, 1)])
    #expect(owed.records == [placed(1, 1)], "owed once")
    let failing: [ContextFile: SNSError] = [.timeline(user(1)): .storage("No space left on device")]
    let write = owedRetry ? [placed(1, 1)] : [placed(file, 5)]
    let verdict: String
    switch owed.refusal(of: write, failing: failing) {
    case .storage?: verdict = "storage"
    case .unavailable?: verdict = "unavailable"
    case nil: verdict = "none"
    default: verdict = "other"
    }
    #expect(verdict == expected)
  }

  @Test("owed writes go out file by file in file order and are forgotten once stored")
  func owedOrder() {
    var owed = OwedWrites()
    owed.owe([placed(3, 1), placed(1, 1), placed(3, 2), placed(2, 1)])
    #expect(owed.byFile.map(\.file) == [.timeline(user(1)), .timeline(user(2)), .timeline(user(3))])
    #expect(owed.byFile.last?.records == [placed(3, 1), placed(3, 2)])
    owed.stored([placed(3, 1), placed(3, 2)])
    #expect(owed.byFile.map(\.file) == [.timeline(user(1)), .timeline(user(2))])
  }
}
