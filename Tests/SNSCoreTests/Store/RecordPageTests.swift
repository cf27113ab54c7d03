import Foundation
import SNSTestSupport
import Testing

@testable import SNSCore

/// ``FileContextStore/records(in:after:maxBytes:)``: pages of a file, from its cache or from disk.
@Suite("Pages of a file's records")
struct RecordPageTests {
  func posts(_ count: Int, length: (Int) -> Int = { _ in 20 }) -> [PlacedRecord] {
    (1...count).map { index in
      PlacedRecord(
        .post(
          Post(
            id: PostID(author: user(1), sequence: UInt64(index)), time: Timestamp(milliseconds: Int64(index)),
            text: text(String(repeating: "x", count: length(index))))),
        in: .timeline(user(1)))
    }
  }

  /// Every page of user 1's timeline from the start, and how many there were.
  func allPages(_ store: FileContextStore, maxBytes: Int) async throws -> (
    records: [ContextRecord], pages: Int
  ) {
    var records: [ContextRecord] = []
    var position = FilePosition.start
    var pages = 0
    while pages < 100_000 {
      let page = try await store.records(in: .timeline(user(1)), after: position, maxBytes: maxBytes)
      #expect(!page.records.isEmpty || page.reachedEnd, "a page short of the end holds a record")
      let bytes = page.records.map { RecordCodec.encodedSize(of: $0) }.reduce(0, +)
      #expect(page.records.count <= 1 || bytes <= maxBytes, "a page of several lines stays within its bytes")
      records += page.records
      position = page.next
      pages += 1
      if page.reachedEnd { break }
    }
    return (records, pages)
  }

  @Test(
    "pages cover the file once, in order, within their bytes; a line longer than a page comes alone",
    arguments: [true, false])
  func pagesCoverTheFile(cached: Bool) async throws {
    try await withTemporaryDirectory { root in
      // Every 50th post is far longer than a page.
      let written = posts(600) { $0 % 50 == 0 ? 900 : 20 }
      try await FileContextStore(directory: root, logger: quietLogger).append(written)
      let store =
        cached
        ? try FileContextStore(directory: root, logger: quietLogger)
        : try FileContextStore.openingLazily(directory: root, logger: quietLogger, cacheBudget: 0)
      // A read of the whole file caches it (within the budget): pages are then sliced from the cache.
      if cached { _ = try await store.records(in: .timeline(user(1))) }
      let (records, pages) = try await allPages(store, maxBytes: 500)
      #expect(records == written.map(\.record))
      #expect(pages > 30)
      let whole = try await store.records(in: .timeline(user(1)), after: .start, maxBytes: .max)
      #expect(whole.records == written.map(\.record) && whole.reachedEnd)
    }
  }

  @Test("a page of a file that does not exist is empty and at its end")
  func missingFile() async throws {
    try await withTemporaryDirectory { root in
      let store = try FileContextStore(directory: root, logger: quietLogger)
      let page = try await store.records(in: .timeline(user(9)), after: .start, maxBytes: 100)
      #expect(page.records.isEmpty && page.reachedEnd)
    }
  }
}
