/// The per-file caches of one ``FileContextStore``, with the records they hold kept to a memory budget:
/// when those pass it, the records of the files used least recently are forgotten and read from disk again
/// when next needed.
///
/// What appends need of a file — its identity, where its whole lines end, the keys of its records (a
/// ``KeySummary``, a few bytes per author or follower) — is kept for every file this store has used, so
/// an append to a file whose records were forgotten reads only the bytes others appended since.
struct FileCaches: Sendable {
  /// About how many bytes of records the caches may hold; one file larger than that is still cached
  /// whole while it is the one in use.
  let budget: Int
  private var entries: [ContextFile: Entry] = [:]
  private var uses: UInt64 = 0
  /// The estimated bytes of every cached record (what the budget bounds).
  private(set) var cachedBytes = 0
  /// The estimated bytes of every file's keys.
  private(set) var keyBytes = 0

  private struct Entry: Sendable {
    var cache: FileCache
    var lastUse: UInt64
  }

  init(budget: Int) {
    self.budget = budget
  }

  /// The cache of `file`, if this store holds one now (it may hold the keys only: see
  /// ``FileCache/holdsRecords``).
  func peek(_ file: ContextFile) -> FileCache? {
    entries[file]?.cache
  }

  /// Takes the cache of `file` out to update it in place (its arrays are not copied), or a fresh one for a
  /// file not seen yet; give it back with ``put(_:_:pinned:)``. What an append needs: the records may have
  /// been forgotten.
  mutating func take(_ file: ContextFile) -> FileCache {
    guard let entry = entries.removeValue(forKey: file) else { return FileCache() }
    cachedBytes -= entry.cache.recordBytes
    keyBytes -= entry.cache.keys.approximateBytes
    return entry.cache
  }

  /// Like ``take(_:)``, for a caller that needs every record: a cache that forgot them starts over, so that
  /// the file is read again from its start.
  mutating func takeWhole(_ file: ContextFile) -> FileCache {
    let cache = take(file)
    guard !cache.holdsRecords else { return cache }
    var fresh = FileCache()
    fresh.directoryEntrySynced = cache.directoryEntrySynced
    return fresh
  }

  /// Stores `cache` as the most recently used, then forgets the records of least recently used files (never
  /// `file`'s, nor those of a file `pinned` says is in use) until the caches are within budget again.
  mutating func put(
    _ file: ContextFile, _ cache: FileCache, pinned: () -> Set<ContextFile> = { [] }
  ) {
    if let old = entries[file] {
      cachedBytes -= old.cache.recordBytes
      keyBytes -= old.cache.keys.approximateBytes
    }
    uses += 1
    entries[file] = Entry(cache: cache, lastUse: uses)
    cachedBytes += cache.recordBytes
    keyBytes += cache.keys.approximateBytes
    if cachedBytes > budget { evict(keeping: file, pinned: pinned) }
  }

  /// Marks `file` as just used.
  mutating func touch(_ file: ContextFile) {
    guard entries[file] != nil else { return }
    uses += 1
    entries[file]?.lastUse = uses
  }

  /// Forgets everything of `file` (it no longer exists, or was replaced).
  mutating func drop(_ file: ContextFile) {
    guard let old = entries.removeValue(forKey: file) else { return }
    cachedBytes -= old.cache.recordBytes
    keyBytes -= old.cache.keys.approximateBytes
  }

  /// Forgets records of least recently used files down to three quarters of the budget, so that the sort is
  /// paid once per quarter of the budget read rather than once per file.
  private mutating func evict(keeping kept: ContextFile, pinned: () -> Set<ContextFile>) {
    let target = budget / 4 * 3
    let inUse = pinned()
    let candidates = entries.filter {
      $0.value.cache.holdsRecords && $0.value.cache.recordBytes > 0 && $0.key != kept
        && !inUse.contains($0.key)
    }.sorted { $0.value.lastUse < $1.value.lastUse }
    for (file, entry) in candidates {
      guard cachedBytes > target else { break }
      cachedBytes -= entry.cache.recordBytes
      entries[file]?.cache.forgetRecords()
    }
  }

  /// How many files' records are cached now.
  var count: Int { entries.values.count { $0.cache.holdsRecords && $0.cache.recordBytes > 0 } }
}
