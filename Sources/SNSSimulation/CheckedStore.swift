import SNSCore
import Synchronization

/// Who appends through a store: a server process, or its cluster's synchronizer. The visibility checker
/// needs to know, because only a synchronizer may make another user's post, follow or account visible.
enum DiskWriter: Hashable, Sendable {
  case server
  case synchronizer
}

/// What synchronizers have delivered anywhere, and the appends by servers that showed something of another
/// user before any synchronizer delivered it (DESIGN: a follower sees a post only after F runs).
final class VisibilityLedger: Sendable {
  struct State {
    var released: Set<String> = []
    var violations: [String] = []
  }
  let state = Mutex(State())
  let clusterCount: Int

  init(clusterCount: Int) { self.clusterCount = clusterCount }

  /// Visibility violations seen since the last call (sorted, so concurrent appends cannot reorder them).
  func takeViolations() -> [String] {
    state.withLock { state in
      defer { state.violations = [] }
      return state.violations.sorted()
    }
  }

  /// Notes what `writer` appended to `directory`.
  func note(_ appended: [PlacedRecord], in directory: String, by writer: DiskWriter) {
    state.withLock { state in
      for item in appended where isForeign(item.record, in: item.file, directory: directory) {
        let key = "\(item.file) \(item.record.key)"
        if writer == .synchronizer {
          state.released.insert(key)
        } else if !state.released.contains(key) {
          state.violations.append(
            "\(directory)/\(item.file): a server wrote \(item.record.key) before any synchronizer delivered it"
          )
        }
      }
    }
  }

  /// Whether `record` in `file` shows something of another user that only a synchronizer may deliver.
  func isForeign(_ record: ContextRecord, in file: ContextFile, directory: String) -> Bool {
    switch (record, file) {
    case (.post(let post), .timeline(let owner)): return post.author != owner
    case (.follower, _): return true
    case (.user(let user), _):
      let cluster = ClusterID.of(user, clusterCount: clusterCount).value
      return !directory.hasPrefix("cluster_\(cluster)/")
    default: return false
    }
  }
}

/// The real ``FileContextStore`` of one simulated process, with what it appends noted in the
/// ``VisibilityLedger``.
final class CheckedStore: ContextStore {
  let store: FileContextStore
  let files: SimulatedProcessFiles
  let writer: DiskWriter
  let ledger: VisibilityLedger

  init(store: FileContextStore, files: SimulatedProcessFiles, writer: DiskWriter, ledger: VisibilityLedger) {
    self.store = store
    self.files = files
    self.writer = writer
    self.ledger = ledger
  }

  @discardableResult
  func append(_ records: [PlacedRecord]) async throws -> [PlacedRecord] {
    let appended = try await store.append(records)
    ledger.note(appended, in: store.directory, by: writer)
    return appended
  }

  @discardableResult
  func replace(_ records: [PlacedRecord]) async throws -> [PlacedRecord] {
    let replaced = try await store.replace(records)
    ledger.note(replaced, in: store.directory, by: writer)
    return replaced
  }

  @discardableResult
  func remove(_ keys: Set<RecordKey>, from file: ContextFile) async throws -> Set<RecordKey> {
    try await store.remove(keys, from: file)
  }

  func records(in file: ContextFile) async throws -> [ContextRecord] { try await store.records(in: file) }

  func records(in file: ContextFile, after position: FilePosition, maxBytes: Int) async throws -> RecordPage {
    try await store.records(in: file, after: position, maxBytes: maxBytes)
  }

  func stamp(of file: ContextFile) async throws -> FileStamp? { try await store.stamp(of: file) }

  func files() async throws -> [ContextFile] { try await store.files() }
}

/// The server directories of one cluster as its synchronizer sees them (written with the synchronizer tag).
struct SimulatedServerDirectories: ServerDirectories {
  let stores: [ServerID: CheckedStore]
  func stores() async throws -> [ServerID: any ContextStore] { stores }
}
