/// The per-file caches of one ``FileContextStore``, held to a memory budget: when the records they hold
/// pass it, the files used least recently are forgotten and read from disk again when next needed.
///
/// What a store must remember of a file it forgot is kept apart and costs a few bytes per file: whether
/// this store has fsynced the directory entry of a file it appended to.
struct FileCaches: Sendable {
  /// About how many bytes of records the caches may hold; one file larger than that is still cached
  /// whole while it is the one in use.
  let budget: Int
  private var entries: [ContextFile: Entry] = [:]
  /// Files whose directory entry this store has made durable (see ``FileCache/directoryEntrySynced``).
  private var syncedEntries: Set<ContextFile> = []
  private var uses: UInt64 = 0
  /// The estimated bytes of every cached record.
  private(set) var cachedBytes = 0

  private struct Entry: Sendable {
    var cache: FileCache
    var lastUse: UInt64
  }

  init(budget: Int) {
    self.budget = budget
  }

  /// The cache of `file`, if this store holds it now.
  func peek(_ file: ContextFile) -> FileCache? {
    entries[file]?.cache
  }

  /// Takes the cache of `file` out to update it in place (its arrays are not copied), or a fresh one for a
  /// file not cached; give it back with ``put(_:_:)``.
  mutating func take(_ file: ContextFile) -> FileCache {
    guard let entry = entries.removeValue(forKey: file) else {
      var fresh = FileCache()
      fresh.directoryEntrySynced = syncedEntries.contains(file)
      return fresh
    }
    cachedBytes -= entry.cache.approximateBytes
    return entry.cache
  }

  /// Stores `cache` as the most recently used, then forgets least recently used files (never `file`, nor one
  /// `pinned` says is in use) until the caches are within budget again.
  mutating func put(
    _ file: ContextFile, _ cache: FileCache, pinned: () -> Set<ContextFile> = { [] }
  ) {
    if let old = entries[file] { cachedBytes -= old.cache.approximateBytes }
    uses += 1
    entries[file] = Entry(cache: cache, lastUse: uses)
    cachedBytes += cache.approximateBytes
    if cache.directoryEntrySynced { syncedEntries.insert(file) }
    if cachedBytes > budget { evict(keeping: file, pinned: pinned) }
  }

  /// Marks `file` as just used.
  mutating func touch(_ file: ContextFile) {
    guard entries[file] != nil else { return }
    uses += 1
    entries[file]?.lastUse = uses
  }

  /// Forgets `file` (it no longer exists, or was replaced).
  mutating func drop(_ file: ContextFile) {
    if let old = entries.removeValue(forKey: file) { cachedBytes -= old.cache.approximateBytes }
    syncedEntries.remove(file)
  }

  /// Forgets least recently used files down to three quarters of the budget, so that the sort is paid once
  /// per quarter of the budget read rather than once per file.
  private mutating func evict(keeping kept: ContextFile, pinned: () -> Set<ContextFile>) {
    let target = budget / 4 * 3
    let inUse = pinned()
    let candidates = entries.filter { $0.key != kept && !inUse.contains($0.key) }.sorted {
      $0.value.lastUse < $1.value.lastUse
    }
    for (file, entry) in candidates {
      guard cachedBytes > target else { break }
      entries[file] = nil
      cachedBytes -= entry.cache.approximateBytes
    }
  }

  /// How many files are cached now.
  var count: Int { entries.count }
}
