import Foundation
import SNSTestSupport
import Synchronization
import Testing

@testable import SNSCore

/// A ``FileContextStore`` that counts the records its reads return: what serving a page costs.
final class ReadCountingStore: ContextStore {
  let store: FileContextStore
  let recordsRead = Mutex(0)

  init(_ store: FileContextStore) { self.store = store }

  func count(_ records: [ContextRecord]) -> [ContextRecord] {
    recordsRead.withLock { $0 += records.count }
    return records
  }

  func append(_ records: [PlacedRecord]) async throws -> [PlacedRecord] { try await store.append(records) }
  func replace(_ records: [PlacedRecord]) async throws -> [PlacedRecord] { try await store.replace(records) }
  func remove(_ keys: Set<RecordKey>, from file: ContextFile) async throws -> Set<RecordKey> {
    try await store.remove(keys, from: file)
  }
  func records(in file: ContextFile) async throws -> [ContextRecord] {
    count(try await store.records(in: file))
  }
  func records(in file: ContextFile, after position: FilePosition, maxBytes: Int) async throws -> RecordPage {
    var page = try await store.records(in: file, after: position, maxBytes: maxBytes)
    page.records = count(page.records)
    return page
  }
  func stamp(of file: ContextFile) async throws -> FileStamp? { try await store.stamp(of: file) }
  func files() async throws -> [ContextFile] { try await store.files() }
}

extension Server {
  /// Makes this server master of `epoch` without a coordinator, to serve catch-ups.
  func becomeMaster(of epoch: Epoch) { state.phase = .master(epoch: epoch, slave: nil) }
}

@Suite("Catch-up pages cost their own size")
struct CatchUpPageCostTests {
  static let epoch = Epoch(7)

  func posts(_ count: Int, by author: Int) -> [PlacedRecord] {
    (1...count).map { index in
      PlacedRecord(
        .post(
          Post(
            id: PostID(author: user(author), sequence: UInt64(index)),
            time: Timestamp(milliseconds: Int64(index)),
            text: text("post \(index) of \(author), of some length"))),
        in: .timeline(user(author)))
    }
  }

  /// Every record of the directory, in the order a catch-up sends them (file order, then line order).
  var history: [PlacedRecord] {
    [PlacedRecord(.user(user(1)), in: .users), PlacedRecord(.user(user(2)), in: .users)] + posts(4_000, by: 1)
      + posts(2_500, by: 2)
  }

  func server(over directory: String, cacheBudget: Int) throws -> (Server, ReadCountingStore) {
    let store = ReadCountingStore(
      try FileContextStore(directory: directory, logger: quietLogger, cacheBudget: cacheBudget))
    let network = InMemoryNetwork()
    let coordinatorEndpoint = endpoint("coordinator:9000")
    let server = Server(
      configuration: ServerConfiguration(
        cluster: cluster(1), id: SNSCoreTests.server(1), endpoint: endpoint("s1:1")),
      store: store, coordinator: network.coordinator(at: coordinatorEndpoint), dialer: network,
      clock: ManualClock(), logger: quietLogger)
    return (server, store)
  }

  /// Pages from `after` on, until the last or `limit` of them, and where the next one would start.
  func pages(from server: Server, after start: CatchUpPosition?, maxBytes: Int, limit: Int = 100_000)
    async throws -> (records: [PlacedRecord], pages: Int, next: CatchUpPosition?)
  {
    var received: [PlacedRecord] = []
    var position = start
    var pages = 0
    repeat {
      let reply = try await server.catchUp(
        CatchUpRequest(epoch: Self.epoch, after: position, maxBytes: maxBytes))
      received += reply.records
      position = reply.next
      pages += 1
    } while position != nil && pages < limit
    return (received, pages, position)
  }

  @Test(
    "a catch-up in small pages reads each file about once, cached or not",
    arguments: [0, FileContextStore.defaultCacheBudget])
  func readsEachFileOnce(cacheBudget: Int) async throws {
    try await withTemporaryDirectory { root in
      try await FileContextStore(directory: root, logger: quietLogger).append(history)
      let (server, store) = try server(over: root, cacheBudget: cacheBudget)
      await server.becomeMaster(of: Self.epoch)
      let (received, pages, _) = try await pages(from: server, after: nil, maxBytes: 4_096)
      #expect(received == history)
      #expect(pages > 50)
      // Reading whole files for each page would return about pages × file records.
      let read = store.recordsRead.withLock { $0 }
      #expect(read <= 2 * history.count, "\(read) records read to send \(history.count) in \(pages) pages")
    }
  }

  @Test("a page asked for with a position from before a restart goes on exactly there")
  func positionFromBeforeARestart() async throws {
    try await withTemporaryDirectory { root in
      try await FileContextStore(directory: root, logger: quietLogger).append(history)
      let (first, _) = try server(over: root, cacheBudget: 0)
      await first.becomeMaster(of: Self.epoch)
      let (received, _, position) = try await pages(from: first, after: nil, maxBytes: 4_096, limit: 5)
      #expect(position?.file == .timeline(user(1)))
      let (restarted, store) = try server(over: root, cacheBudget: 0)
      await restarted.becomeMaster(of: Self.epoch)
      let rest = try await pages(from: restarted, after: position, maxBytes: 4_096)
      #expect(received + rest.records == history)
      #expect(store.recordsRead.withLock { $0 } <= 2 * history.count)
    }
  }

  @Test(
    "a file rewritten between two pages (a record replaced, longer) is still sent whole, each record once")
  func fileReplacedBetweenPages() async throws {
    try await withTemporaryDirectory { root in
      try await FileContextStore(directory: root, logger: quietLogger).append(history)
      let (server, _) = try server(over: root, cacheBudget: 0)
      await server.becomeMaster(of: Self.epoch)
      let (sent, _, position) = try await pages(from: server, after: nil, maxBytes: 4_096, limit: 5)
      // The third post, already sent, is replaced by a longer one: every later line moves.
      let longer = PlacedRecord(
        .post(
          Post(
            id: PostID(author: user(1), sequence: 3), time: Timestamp(milliseconds: 3),
            text: text(String(repeating: "a longer text ", count: 20)))), in: .timeline(user(1)))
      #expect(try await FileContextStore(directory: root, logger: quietLogger).replace([longer]) == [longer])
      let rest = try await pages(from: server, after: position, maxBytes: 4_096).records
      #expect((sent + rest).map(\.record.key) == history.map(\.record.key))
    }
  }
}
