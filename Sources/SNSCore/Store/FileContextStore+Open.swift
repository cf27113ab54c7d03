extension FileContextStore {
  /// Whether the last line of `file` is whole and passes its checksum, reading only the end of the file:
  /// what opening a directory checks, so that start-up costs a few reads per file whatever the history.
  /// Damage before an intact last line is in the middle and is skipped by every read, never cut; a file
  /// that fails here is read whole, which cuts its tail (``refresh(_:from:exclusive:)``).
  func tailIsIntact(_ file: ContextFile) throws(SNSError) -> Bool {
    let newline = UInt8(ascii: "\n")
    guard let handle = try OpenContextFile.openLockedForReading(path(of: file), on: fileSystem) else {
      return true
    }
    let size = try handle.status().size
    guard size > 0 else { return true }
    // Most lines are far shorter than a page; a longer last line widens the window until it is found.
    var window: Int64 = 4096
    while true {
      let start = max(0, size - window)
      let bytes = try handle.read(at: start, count: Int(size - start))
      guard bytes.last == newline else { return false }
      let end = bytes.count - 1
      if let previous = bytes[..<end].lastIndex(of: newline) {
        return Self.decodesWithoutDamage(bytes[(previous + 1)..<end])
      }
      if start == 0 { return Self.decodesWithoutDamage(bytes[..<end]) }
      window *= 4
    }
  }

  /// Whether `line` passes its checksum (a whole line that does not parse is not damage: reads skip it).
  private static func decodesWithoutDamage(_ line: ArraySlice<UInt8>) -> Bool {
    do throws(RecordDecodingError) {
      _ = try RecordCodec.decode(line: line)
      return true
    } catch {
      return !error.isDamage
    }
  }
}
