import SNSCore
import Synchronization

/// Who appends through a store handle: a server process, or its cluster's synchronizer. The visibility checker
/// needs to know, because only a synchronizer may make another user's post, follow or account visible.
enum DiskWriter: Hashable, Sendable {
  case server
  case synchronizer
}

/// Every machine's files, in memory. A directory outlives the processes that use it: a crashed server's
/// directory is still there (and still written by its synchronizer) when a new process opens it.
///
/// Appends are durable when they return, as ``ContextStore`` promises; what a crash can lose is the append in
/// flight. A crash armed with ``armCrash(directory:keeping:)`` fires inside the next append to that directory:
/// only the first `keeping` records of it reach the disk (the torn rest is cut on reopen, as `FileContextStore`
/// does), the call fails, and the handle is dead from then on.
final class SimulatedDisk: Sendable {
  struct File {
    var records: [ContextRecord] = []
    var keys: Set<RecordKey> = []
  }

  struct State {
    var directories: [String: [ContextFile: File]] = [:]
    /// Armed crashes by directory: how many records of the next append survive.
    var armed: [String: Int] = [:]
    /// Directories whose disk is full: appends and rewrites fail and write nothing.
    var full: Set<String> = []
    /// Handles of processes that died; their every call fails.
    var dead: Set<Int> = []
    var nextHandle = 0
    /// Directories whose process crashed inside an append since the driver last asked.
    var crashed: [String] = []
    /// Records a synchronizer has written somewhere: only these may show up on other users' timelines.
    var released: Set<String> = []
    var violations: [String] = []
    var tornRecords = 0
  }
  let state = Mutex(State())
  /// How many clusters, to tell a user's own cluster from others.
  let clusterCount: Int

  init(clusterCount: Int) { self.clusterCount = clusterCount }

  /// A new handle on `directory` (a process opening it).
  func open(_ directory: String, writer: DiskWriter) -> SimulatedStore {
    let handle = state.withLock { state -> Int in
      state.nextHandle += 1
      if state.directories[directory] == nil { state.directories[directory] = [:] }
      return state.nextHandle
    }
    return SimulatedStore(disk: self, directory: directory, handle: handle, writer: writer)
  }

  func armCrash(directory: String, keeping: Int) { state.withLock { $0.armed[directory] = keeping } }
  func disarm(directory: String) { _ = state.withLock { $0.armed.removeValue(forKey: directory) } }
  func isArmed(_ directory: String) -> Bool { state.withLock { $0.armed[directory] != nil } }
  func kill(handle: Int) { _ = state.withLock { $0.dead.insert(handle) } }
  func fill(directory: String) { _ = state.withLock { $0.full.insert(directory) } }
  func free(directory: String) { _ = state.withLock { $0.full.remove(directory) } }

  /// Directories whose process died in an append since the last call (sorted).
  func takeCrashed() -> [String] {
    state.withLock { state in
      defer { state.crashed = [] }
      return state.crashed.sorted()
    }
  }

  /// Visibility violations seen since the last call (sorted, so concurrent appends cannot reorder them).
  func takeViolations() -> [String] {
    state.withLock { state in
      defer { state.violations = [] }
      return state.violations.sorted()
    }
  }

  var tornRecords: Int { state.withLock { $0.tornRecords } }

  /// The records of one file (for the checkers, bypassing handles).
  func records(_ directory: String, _ file: ContextFile) -> [ContextRecord] {
    state.withLock { $0.directories[directory]?[file]?.records ?? [] }
  }

  func files(_ directory: String) -> [ContextFile] {
    state.withLock { ($0.directories[directory] ?? [:]).keys.sorted() }
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

  func append(_ placed: [PlacedRecord], handle: Int, directory: String, writer: DiskWriter) throws
    -> [PlacedRecord]
  {
    try state.withLock { state throws(SNSError) -> [PlacedRecord] in
      guard !state.dead.contains(handle) else { throw SNSError.unavailable("\(directory): process is down") }
      guard !state.full.contains(directory) else {
        throw SNSError.storage("cannot write \(directory): No space left on device (simulated)")
      }
      var keep = placed.count
      var crashing = false
      if let survivors = state.armed.removeValue(forKey: directory), writer == .server {
        keep = min(survivors, placed.count)
        crashing = true
        state.tornRecords += placed.count - keep
      }
      var appended: [PlacedRecord] = []
      var files = state.directories[directory] ?? [:]
      for item in placed.prefix(keep) {
        let key = item.record.key
        guard files[item.file, default: File()].keys.insert(key).inserted else { continue }
        files[item.file, default: File()].records.append(item.record)
        appended.append(item)
        let releaseKey = "\(item.file) \(key)"
        if isForeign(item.record, in: item.file, directory: directory) {
          if writer == .synchronizer {
            state.released.insert(releaseKey)
          } else if !state.released.contains(releaseKey) {
            state.violations.append(
              "\(directory)/\(item.file): a server wrote \(key) before any synchronizer delivered it")
          }
        }
      }
      state.directories[directory] = files
      if crashing {
        state.dead.insert(handle)
        state.crashed.append(directory)
        throw SNSError.unavailable("\(directory): crashed during the append")
      }
      return appended
    }
  }

  /// Swaps records in place (a rename on a real disk: all or nothing, so no torn write applies).
  func replace(_ placed: [PlacedRecord], handle: Int, directory: String) throws -> [PlacedRecord] {
    try state.withLock { state throws(SNSError) -> [PlacedRecord] in
      guard !state.dead.contains(handle) else { throw SNSError.unavailable("\(directory): process is down") }
      guard !state.full.contains(directory) else {
        throw SNSError.storage("cannot rewrite in \(directory): No space left on device (simulated)")
      }
      var replaced: [PlacedRecord] = []
      for item in placed {
        guard let records = state.directories[directory]?[item.file]?.records,
          let index = records.firstIndex(where: { $0.key == item.record.key }), records[index] != item.record
        else { continue }
        state.directories[directory]?[item.file]?.records[index] = item.record
        replaced.append(item)
      }
      return replaced
    }
  }

  func read(_ directory: String, _ file: ContextFile, from offset: Int, handle: Int) throws -> (
    [ContextRecord], Int
  ) {
    try state.withLock { state throws(SNSError) in
      guard !state.dead.contains(handle) else { throw SNSError.unavailable("\(directory): process is down") }
      let records = state.directories[directory]?[file]?.records ?? []
      let start = offset > records.count ? 0 : offset
      return (Array(records[start...]), records.count)
    }
  }
}

/// One process's handle on a ``SimulatedDisk`` directory: a ``ContextStore`` whose positions count records.
final class SimulatedStore: ContextStore {
  let disk: SimulatedDisk
  let directory: String
  let handle: Int
  let writer: DiskWriter

  init(disk: SimulatedDisk, directory: String, handle: Int, writer: DiskWriter) {
    self.disk = disk
    self.directory = directory
    self.handle = handle
    self.writer = writer
  }

  @discardableResult
  func append(_ records: [PlacedRecord]) async throws -> [PlacedRecord] {
    try disk.append(records, handle: handle, directory: directory, writer: writer)
  }

  @discardableResult
  func replace(_ records: [PlacedRecord]) async throws -> [PlacedRecord] {
    try disk.replace(records, handle: handle, directory: directory)
  }

  func records(in file: ContextFile) async throws -> [ContextRecord] {
    try disk.read(directory, file, from: 0, handle: handle).0
  }

  func records(in file: ContextFile, after position: FilePosition) async throws -> (
    records: [ContextRecord], next: FilePosition
  ) {
    let (records, end) = try disk.read(directory, file, from: Int(position.offset), handle: handle)
    return (records, FilePosition(offset: Int64(end)))
  }

  func stamp(of file: ContextFile) async throws -> FileStamp? {
    let count = try disk.read(directory, file, from: 0, handle: handle).1
    return count == 0 ? nil : FileStamp(modificationNanoseconds: Int64(count), size: Int64(count))
  }

  func files() async throws -> [ContextFile] { disk.files(directory) }
}

/// The server directories of one cluster as its synchronizer sees them (written with the synchronizer tag).
struct SimulatedServerDirectories: ServerDirectories {
  let stores: [ServerID: SimulatedStore]
  func stores() async throws -> [ServerID: any ContextStore] { stores }
}
