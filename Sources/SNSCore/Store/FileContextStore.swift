import Foundation
import Logging
import Synchronization

/// ``ContextStore`` on one directory of line-oriented, checksummed, append-only files (DESIGN.md §4,
/// `docs/FILE-FORMAT.md`).
///
/// Several processes may use the same directory at once (a master and its cluster's synchronizer), and so
/// may several instances in one process. They coordinate through `flock` on each file: appends under
/// `LOCK_EX`, reads under `LOCK_SH`, so nobody sees another writer's half-written line. Each instance caches
/// the records of the files it used last, within a memory budget (``FileCaches``), and on each call reads only
/// the bytes appended since; a file it forgot is read again from disk when next needed. Opening a directory
/// checks only the end of each file, so start-up time and memory do not grow with the history.
///
/// Reads do their blocking file work synchronously, holding this instance's mutex but never across a
/// suspension point. Appends are group-committed on dedicated threads, and the mutex is not held while they
/// wait for `fsync` (`FileContextStore+Round.swift`).
///
/// - Important: ``append(_:)`` returns only after the new lines (and, for a new file, its directory entry)
///   are fsynced; on any error nothing of that call's file is left behind to be mistaken for acknowledged.
public final class FileContextStore: ContextStore {
  /// The directory this store reads and writes, e.g. `<data-dir>/master_1`.
  public let directory: String
  let logger: Logger
  /// Where the files are: the real file system, or the simulation's files in memory.
  let fileSystem: any StoreFileSystem
  /// Bugs planted on purpose, to show that the simulation catches them (empty in production).
  let plantedBugs: PlantedBugs
  /// Per-file caches. One lock for the whole store: calls are short, and appends to one file must be
  /// serialised within the process anyway.
  let caches: Mutex<FileCaches>
  /// Appends waiting for the current group-commit round to finish (see `FileContextStore+GroupCommit.swift`).
  let commits = Mutex(CommitQueue())
  let statistics = Mutex(CommitStatistics())
  /// Held by a group-commit round and by ``replace(_:)``, which must not rewrite a file under a round.
  /// Only ever taken through ``runBlocking(_:)`` (it blocks).
  let rounds = Mutex(())
  /// Files a round has written and locked but not yet made durable, with their stamp from before the round.
  /// Reads serve these from the cache (which has none of the round's lines) instead of waiting for the lock.
  /// Its own lock because ``stamp(of:)`` must not wait for a round's writes; taken inside `caches` if both.
  let inFlight = Mutex<[ContextFile: FileStamp]>([:])
  /// Called on a sync thread right before each file's fsync in a round; an error it throws counts as that
  /// fsync's failure. Tests block it to hold a round in its sync deterministically, or fail it; `nil` in
  /// production.
  let durabilityBarrier: (@Sendable (ContextFile) throws(SNSError) -> Void)?

  /// How many bytes of records a store caches by default: the files of the users served last. More makes
  /// repeated reads of many users' files cheaper; the files stay the truth either way.
  public static let defaultCacheBudget = 8 << 20

  /// Opens (creating it with its parents if missing) the context directory `directory`, and checks the last
  /// line of every context file in it; a file whose tail is torn or corrupt is read and its tail cut (logged
  /// as a warning). At most about `cacheBudget` bytes of records stay cached.
  ///
  /// - Throws: ``SNSError/storage(_:)`` if the directory cannot be created, is not a directory, is not
  ///   writable, or a file in it cannot be read.
  public convenience init(directory: String, logger: Logger, cacheBudget: Int = defaultCacheBudget) throws {
    try self.init(directory: directory, logger: logger, durabilityBarrier: nil, cacheBudget: cacheBudget)
  }

  /// ``init(directory:logger:cacheBudget:)`` on another file system (the simulation's), optionally with
  /// `plantedBugs` that the simulation must catch; `lazily` as in
  /// ``openingLazily(directory:logger:fileSystem:cacheBudget:)``.
  public convenience init(
    directory: String, logger: Logger, fileSystem: any StoreFileSystem, cacheBudget: Int = defaultCacheBudget,
    lazily: Bool = false, plantedBugs: PlantedBugs = []
  ) throws {
    try self.init(
      directory: directory, logger: logger, durabilityBarrier: nil, cacheBudget: cacheBudget,
      checksTailsOnOpen: !lazily, fileSystem: fileSystem, plantedBugs: plantedBugs)
  }

  /// Opens a directory another process owns (a synchronizer's view of its cluster's server directories)
  /// without reading its files: each file is read when first asked for, and a read after a position
  /// (``records(in:after:)``, also one an earlier process was handed) reads only the bytes after it and keeps
  /// nothing of them in memory, so scanning a large history costs no memory. Files it appends to, or reads
  /// whole, are cached as usual, within `cacheBudget`.
  /// The owner cuts torn tails when it opens the directory; this store serves whole records only.
  public static func openingLazily(
    directory: String, logger: Logger, fileSystem: any StoreFileSystem = POSIXFileSystem(),
    cacheBudget: Int = defaultCacheBudget
  ) throws -> FileContextStore {
    try FileContextStore(
      directory: directory, logger: logger, durabilityBarrier: nil, cacheBudget: cacheBudget,
      checksTailsOnOpen: false, fileSystem: fileSystem)
  }

  /// ``init(directory:logger:)`` with a test hook called before each fsync of a round; `checksTailsOnOpen`
  /// is false for a directory another process owns (``openingLazily(directory:logger:fileSystem:cacheBudget:)``).
  init(
    directory: String, logger: Logger, durabilityBarrier: (@Sendable (ContextFile) throws(SNSError) -> Void)?,
    cacheBudget: Int = defaultCacheBudget, checksTailsOnOpen: Bool = true,
    fileSystem: any StoreFileSystem = POSIXFileSystem(), plantedBugs: PlantedBugs = []
  ) throws {
    self.directory =
      directory.count > 1 && directory.hasSuffix("/") ? String(directory.dropLast()) : directory
    self.logger = logger
    self.durabilityBarrier = durabilityBarrier
    self.fileSystem = fileSystem
    self.plantedBugs = plantedBugs
    self.caches = Mutex(FileCaches(budget: cacheBudget))
    try Self.prepare(directory: self.directory, on: fileSystem)
    guard checksTailsOnOpen else { return }
    for file in try listFiles() where try !tailIsIntact(file) {
      try caches.withLock { caches throws(SNSError) in
        _ = try refreshForReading(file, in: &caches)
      }
    }
  }

  /// The path of `file` in this store's directory.
  public func path(of file: ContextFile) -> String {
    "\(directory)/\(file.fileName)"
  }

  /// Appends each record whose key is not yet in its file, in order, and fsyncs each file. Returns the
  /// records actually appended, in the order given; records already in their file (or earlier in `records`)
  /// are left out.
  ///
  /// Concurrent calls share fsyncs (group commit): a call that arrives while another is being made durable
  /// waits, and the next round writes every waiting call's lines and fsyncs each file once for all of them,
  /// the files of a round concurrently. Each call still returns only once its own lines are durable; reads
  /// go on meanwhile and see the files as they were before the round.
  ///
  /// - Throws: ``SNSError/storage(_:)`` (disk full, I/O error, read-only, permission) with the path. The
  ///   lines of the failing file are removed again; other files of the call may have been appended durably,
  ///   so a retry of the whole batch is safe (it finds them there).
  @discardableResult
  public func append(_ records: [PlacedRecord]) async throws -> [PlacedRecord] {
    guard !records.isEmpty else { return [] }
    let appended = try await appendGrouped(records)
    return records.indices.filter(appended.contains).map { records[$0] }
  }

  /// Every whole record of `file` in file order (damaged lines skipped, a damaged tail cut); empty if the
  /// file does not exist.
  public func records(in file: ContextFile) async throws -> [ContextRecord] {
    try await readBlocking { [self] () throws(SNSError) in
      try caches.withLock { caches throws(SNSError) in
        try refreshForReading(file, in: &caches)?.records ?? []
      }
    }
  }

  /// The whole records whose lines start at or after `position`, about `maxBytes` of them (at least one, if
  /// any is there), and the end of the last one: a cached file is sliced, any other read from the position on
  /// for the page's bytes only.
  ///
  /// A position past the end of the file, or one handed out for a file that has since been replaced, starts
  /// again from the beginning: delivering twice is harmless (appends are idempotent), skipping would lose
  /// records. A file this store does not hold in its cache is not cached by this read.
  public func records(in file: ContextFile, after position: FilePosition, maxBytes: Int) async throws
    -> RecordPage
  {
    try await readBlocking { [self] () throws(SNSError) in
      try records(in: file, startingAt: position, maxBytes: maxBytes)
    }
  }

  private func records(in file: ContextFile, startingAt position: FilePosition, maxBytes: Int)
    throws(SNSError) -> RecordPage
  {
    // A file not cached is read outside the caches' lock: its read and decoding, or a wait for another
    // process's file lock, would otherwise hold up every read of this store, of any file.
    let uncached =
      caches.withLock { $0.peek(file)?.holdsRecords != true } && inFlight.withLock { $0[file] == nil }
    if uncached, let tail = try readTail(of: file, after: position, maxBytes: maxBytes) {
      return tail
    }
    return try caches.withLock { caches throws(SNSError) in
      guard let cache = try refreshForReading(file, in: &caches) else {
        return RecordPage(records: [], next: .start, reachedEnd: true)
      }
      var start = position.offset
      if let identity = position.identity, identity != cache.identity {
        // The file was replaced since that position was handed out: its offsets mean nothing now. Reading
        // again from the start delivers some records twice (harmless: appends are idempotent) and skips none.
        start = 0
      } else if start > cache.consumed {
        logger.warning(
          "Read position \(start) is past the end (\(cache.consumed)) of \(path(of: file)); reading it from the start",
          metadata: ["file": "\(path(of: file))"])
        start = 0
      }
      let page = cache.page(startingAt: start, maxBytes: maxBytes)
      return RecordPage(
        records: Array(page.records), next: FilePosition(offset: page.end, identity: cache.identity),
        reachedEnd: page.end == cache.consumed)
    }
  }

  /// `stat` of `file` (modification time with nanoseconds, size), or `nil` if it does not exist. Costs
  /// one system call and a short lock (never held across I/O), so watchers can poll it.
  ///
  /// While a round of this store is making the file durable, this is the stamp from before the round:
  /// reads do not show the round's lines yet, and a watcher that saw the new size now would record it, read
  /// nothing new, and miss those lines until the file changed again.
  public func stamp(of file: ContextFile) async throws -> FileStamp? {
    // `stat` first: a round marks the file before writing and unmarks it after its lines are readable, so
    // a size seen here is either covered by the mark or already readable.
    let status = try fileSystem.status(atPath: path(of: file))
    if let before = inFlight.withLock({ $0[file] }) { return before }
    return status.map { FileStamp(modificationNanoseconds: $0.modificationNanoseconds, size: $0.size) }
  }

  /// The context files in the directory, sorted; names that are not context files are ignored.
  public func files() async throws -> [ContextFile] {
    try listFiles()
  }

  // MARK: - Internals shared by the extensions

  /// The recognised context files in the directory, sorted; other names (temporary, stray) are ignored.
  func listFiles() throws(SNSError) -> [ContextFile] {
    try fileSystem.names(inDirectory: directory).compactMap(ContextFile.init(fileName:)).sorted()
  }

  /// Runs `body`, which makes blocking file-system calls: on `threads` for a real disk, on the caller's
  /// thread for a file system that never blocks.
  func runBlocking<Result: Sendable>(
    on threads: BlockingThreads = FileContextStore.roundThreads, _ body: @escaping @Sendable () -> Result
  ) async -> Result {
    guard fileSystem.callsMayBlock else { return body() }
    return await threads.run(body)
  }

  /// Threads that read. A read takes the `caches` lock, which a round holds while it waits for file locks
  /// and writes, may wait for `flock(LOCK_SH)` itself, and may read and check a whole file of megabytes: on
  /// the cooperative pool (one thread per core) two such reads stall every task of the process, its
  /// heartbeats and gRPC calls included, for as long as they take.
  static let readThreads = BlockingThreads(name: "sns-read", count: 4)

  /// Runs a read on ``readThreads`` (inline on a file system whose calls never block: the simulation's).
  func readBlocking<Value: Sendable>(_ body: @escaping @Sendable () throws(SNSError) -> Value)
    async throws(SNSError)
    -> Value
  {
    try await runBlocking(on: Self.readThreads) { () -> Result<Value, SNSError> in
      do throws(SNSError) { return .success(try body()) } catch { return .failure(error) }
    }.get()
  }
}
