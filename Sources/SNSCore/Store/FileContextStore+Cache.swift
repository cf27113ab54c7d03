/// What one ``FileContextStore`` knows of one file: the keys of every whole record up to ``consumed``, so
/// that appends stay idempotent while only looking at bytes other writers appended since, and, while the file
/// is among those used last (``FileCaches``), the records themselves.
struct FileCache: Sendable {
  /// The file these records came from; a different identity at the path means the file was replaced.
  var identity: FileIdentity?
  /// The records in file order, when ``holdsRecords``. Kept apart from ``offsets`` so that a reader gets the
  /// array without a copy.
  private(set) var records: [ContextRecord] = []
  /// `offsets[i]` is where the line of `records[i]` starts.
  private(set) var offsets: [Int64] = []
  /// Whether ``records`` holds every whole record up to ``consumed``; once forgotten, only ``keys`` is kept
  /// up to date, and a read of the records reads the file again.
  private(set) var holdsRecords = true
  /// The keys of every record up to ``consumed``: what makes appends idempotent.
  private(set) var keys = KeySummary()
  /// Bytes of whole lines read: records, and whole lines skipped because they were damaged or unreadable.
  /// Always the end of a line, never inside one.
  var consumed: Int64 = 0
  /// Whether this store has fsynced the directory since it first appended to this file. A new file's name
  /// is durable only after its directory is fsynced, and the creator may be another process that has not
  /// got there yet; doing it once per file and store keeps every acknowledged append durable.
  var directoryEntrySynced = false
  /// About how much memory ``records`` and ``offsets`` take: what ``FileCaches`` budgets and can forget.
  private(set) var recordBytes = 0

  /// What one cached record costs beyond its line's bytes (the record's value and its offset), measured
  /// roughly with `sns bench footprint`.
  static let bytesPerRecord = 160

  init(identity: FileIdentity? = nil) {
    self.identity = identity
  }

  mutating func add(_ record: ContextRecord, at offset: Int64, lineLength: Int) {
    keys.insert(record)
    guard holdsRecords else { return }
    recordBytes += lineLength + Self.bytesPerRecord
    records.append(record)
    offsets.append(offset)
  }

  /// Adds the whole records a scan of the bytes after ``consumed`` found, and moves ``consumed`` past them.
  mutating func add(_ scan: TailScan) {
    for (offset, length, record) in scan.records {
      add(record, at: offset, lineLength: length)
    }
    consumed = scan.wholeEnd
  }

  /// Keeps only what appends need (identity, keys, consumed): the records are read from disk when next asked.
  mutating func forgetRecords() {
    records = []
    offsets = []
    recordBytes = 0
    holdsRecords = false
  }

  /// Where the line of the `index`th record starts.
  func offset(at index: Int) -> Int64 { offsets[index] }

  /// The records whose lines start at or after `offset`, as many as end within `maxBytes` of the first's start
  /// (at least one), and where the line after them starts (``consumed`` after the last).
  func page(startingAt offset: Int64, maxBytes: Int) -> (records: ArraySlice<ContextRecord>, end: Int64) {
    let first = index(startingAt: offset)
    guard first < offsets.count else { return (records[first...], consumed) }
    let (sum, overflow) = offsets[first].addingReportingOverflow(Int64(clamping: maxBytes))
    let limit = overflow ? Int64.max : sum
    // A record ends where the next line starts: those before the first line starting past the limit, but one,
    // end within it; the last record ends at `consumed`.
    let startingPast = limit == .max ? offsets.count : index(startingAt: limit + 1)
    var end = startingPast == offsets.count && consumed <= limit ? offsets.count : startingPast - 1
    end = max(end, first + 1)
    return (records[first..<end], end < offsets.count ? offsets[end] : consumed)
  }

  /// The index of the first record whose line starts at or after `offset` (binary search: offsets are strictly
  /// increasing).
  private func index(startingAt offset: Int64) -> Int {
    var low = 0
    var high = offsets.count
    while low < high {
      let middle = (low + high) / 2
      if offsets[middle] < offset { low = middle + 1 } else { high = middle }
    }
    return low
  }
}

/// The lines found in bytes appended to a file after offset `base`, sorted into records, lines to skip, and
/// a damaged tail to cut.
///
/// A line that fails its checksum is damage. Whether to cut or to skip it depends on what follows: damage
/// with an intact line after it is in the middle (skip, never trust, never cut); damage with nothing intact
/// after it, or an unterminated last line, is a torn or corrupt tail (cut). A line that passes its checksum
/// but does not parse is whole, so it is skipped wherever it is and never cut.
struct TailScan {
  /// A whole line that is not used, and why.
  struct SkippedLine {
    var offset: Int64
    var length: Int
    var error: RecordDecodingError
  }

  var records: [(offset: Int64, length: Int, record: ContextRecord)] = []
  var skipped: [SkippedLine] = []
  /// The end of the last intact line: the file's consumed offset after this scan.
  var wholeEnd: Int64
  /// The bytes from ``wholeEnd`` to the end of the scanned range, when they are not whole valid records.
  var damagedTailLength: Int64 = 0
  /// Why the tail is damaged (for the log line), when ``damagedTailLength`` is not zero.
  var damageReason = ""

  init(bytes: [UInt8], base: Int64) {
    wholeEnd = base
    let newline = UInt8(ascii: "\n")
    var lineStart = 0
    var pendingDamage: [SkippedLine] = []
    while let lineEnd = bytes[lineStart...].firstIndex(of: newline) {
      let offset = base + Int64(lineStart)
      let length = lineEnd + 1 - lineStart
      do throws(RecordDecodingError) {
        let record = try RecordCodec.decode(line: bytes[lineStart..<lineEnd])
        records.append((offset, length, record))
        skipped += pendingDamage
        pendingDamage = []
        wholeEnd = base + Int64(lineEnd + 1)
      } catch  where error.isDamage {
        pendingDamage.append(SkippedLine(offset: offset, length: length, error: error))
      } catch {
        skipped += pendingDamage
        pendingDamage = []
        skipped.append(SkippedLine(offset: offset, length: length, error: error))
        wholeEnd = base + Int64(lineEnd + 1)
      }
      lineStart = lineEnd + 1
    }
    damagedTailLength = base + Int64(bytes.count) - wholeEnd
    if let first = pendingDamage.first {
      damageReason = first.error.description
    } else if lineStart < bytes.count {
      damageReason = "last line has no newline (torn write)"
    }
  }
}

extension FileContextStore {
  /// Puts `cache` back as the most recently used file; files in flight in a round are never forgotten (a
  /// reader serves them from the cache while their lock is held).
  func keep(_ cache: FileCache, of file: ContextFile, in caches: inout FileCaches) {
    caches.put(file, cache, pinned: { self.inFlight.withLock { Set($0.keys) } })
  }

  /// How many bytes of records, by estimate, and how many files' records this store holds in memory now, and
  /// how many bytes the keys of every file it has used take.
  public var cacheUsage: (bytes: Int, files: Int, keyBytes: Int) {
    caches.withLock { ($0.cachedBytes, $0.count, $0.keyBytes) }
  }
}
