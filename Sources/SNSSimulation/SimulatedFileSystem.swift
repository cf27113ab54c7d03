import SNSCore
import Synchronization

/// Every machine's files, in memory, as a ``StoreFileSystem`` that the real ``FileContextStore`` runs on. A
/// directory outlives the processes that use it: a crashed server's directory is still there (and still
/// written by its synchronizer) when a new process opens it.
///
/// Each file has its bytes and how many of them are durable (fsynced); each directory has its names and the
/// names that are durable (the directory was fsynced since they were made). When a server process dies
/// (``crash(process:)``, or inside a write with a crash armed, ``armCrash(directory:tear:)``), its directory
/// is left as after a power cut: every file keeps its durable bytes plus a seed-chosen part of the rest, torn
/// anywhere, and names not yet durable are gone. So an append acknowledged before its fsync can be lost,
/// and the store's tail cutting meets real torn lines.
///
/// Calls never block (``StoreFileSystem/callsMayBlock`` is false): a store makes them on the simulation's
/// one thread, each call whole, so a lock is never held while another process runs, and a lock that is
/// held anyway (a bug) fails at once instead of freezing the run.
final class SimulatedFileSystem: Sendable {
  struct Node {
    var bytes: [UInt8] = []
    var durableLength = 0
    var modified: Int64 = 0
  }

  /// Who holds a `flock` lock on a file, by handle. A dead process's locks are gone with it.
  struct Lock {
    var process: Int
    var exclusive: Bool
  }
  typealias Holders = [Int: Lock]

  struct State {
    var nodes: [UInt64: Node] = [:]
    /// Names by directory, as processes see them.
    var entries: [String: [String: UInt64]] = [:]
    /// Names by directory that survive a crash.
    var durableEntries: [String: [String: UInt64]] = [:]
    var locks: [UInt64: Holders] = [:]
    var nextInode: UInt64 = 1
    var nextHandle = 1
    var nextProcess = 1
    /// Ticks on every change, standing in for modification times.
    var clock: Int64 = 0
    /// Processes that died: their every call fails.
    var dead: Set<Int> = []
    /// Server processes by number, with their directory.
    var servers: [Int: String] = [:]
    /// Armed crashes by directory, with the seed of the tear.
    var armed: [String: UInt64] = [:]
    /// Directories whose disk is full: writes fail with ENOSPC and write nothing.
    var full: Set<String> = []
    /// Directories whose fsyncs fail with EIO (the data stays written, not durable).
    var failingSyncs: Set<String> = []
    /// Directories whose process crashed inside a write since the driver last asked.
    var crashed: [String] = []
    /// Bytes written but not fsynced that crashes cut away.
    var tornBytes = 0
  }
  let state = Mutex(State())

  /// A new process's view: a server owns `directory` (its crash cuts that directory back); a synchronizer
  /// owns none.
  func process(serving directory: String?) -> SimulatedProcessFiles {
    let number = state.withLock { state -> Int in
      defer { state.nextProcess += 1 }
      if let directory { state.servers[state.nextProcess] = directory }
      return state.nextProcess
    }
    return SimulatedProcessFiles(files: self, process: number)
  }

  /// Arms a crash of the server of `directory` inside its next write there; `tear` seeds how much of what
  /// was not fsynced survives.
  func armCrash(directory: String, tear: UInt64) { state.withLock { $0.armed[directory] = tear } }
  func disarm(directory: String) { _ = state.withLock { $0.armed.removeValue(forKey: directory) } }
  func fill(directory: String) { _ = state.withLock { $0.full.insert(directory) } }
  func free(directory: String) { _ = state.withLock { $0.full.remove(directory) } }
  /// Makes every fsync of a file in `directory` fail with EIO until ``healSyncs(directory:)``.
  func failSyncs(directory: String) { _ = state.withLock { $0.failingSyncs.insert(directory) } }
  func healSyncs(directory: String) { _ = state.withLock { $0.failingSyncs.remove(directory) } }

  /// kill -9 of a process. A server's directory is cut back to what is durable, torn by `tear`.
  func crash(process: Int, tear: UInt64) {
    state.withLock { state in Self.crash(process, tear: tear, in: &state) }
  }

  /// Directories whose process died in a write since the last call (sorted).
  func takeCrashed() -> [String] {
    state.withLock { state in
      defer { state.crashed = [] }
      return state.crashed.sorted()
    }
  }

  var tornBytes: Int { state.withLock { $0.tornBytes } }

  /// The whole records of one file, as a store opening it would read them (for the checkers).
  func records(_ directory: String, _ file: ContextFile) -> [ContextRecord] {
    let bytes = state.withLock { state -> [UInt8] in
      guard let inode = state.entries[directory]?[file.fileName] else { return [] }
      return state.nodes[inode]?.bytes ?? []
    }
    var records: [ContextRecord] = []
    var start = 0
    while let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) {
      if let record = try? RecordCodec.decode(line: bytes[start..<end]) { records.append(record) }
      start = end + 1
    }
    return records
  }

  static func crash(_ process: Int, tear: UInt64, in state: inout State) {
    state.dead.insert(process)
    guard let directory = state.servers[process] else { return }
    var random = SimulationRandom(seed: tear)
    for (_, inode) in (state.entries[directory] ?? [:]).sorted(by: { $0.key < $1.key }) {
      guard var node = state.nodes[inode], node.bytes.count > node.durableLength else { continue }
      let kept = node.durableLength + random.int(in: 0...(node.bytes.count - node.durableLength))
      state.tornBytes += node.bytes.count - kept
      node.bytes.removeLast(node.bytes.count - kept)
      node.durableLength = kept
      state.clock += 1
      node.modified = state.clock
      state.nodes[inode] = node
    }
    state.entries[directory] = state.durableEntries[directory] ?? [:]
  }
}
