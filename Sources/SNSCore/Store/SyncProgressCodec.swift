/// One line of a synchronizer's `progress` file, checksummed like a context file's lines
/// (`<crc32c> <payload>\n`, `docs/FILE-FORMAT.md`):
/// ```
/// delivered posts 7 12 15,18      every post of 7 up to 12 was delivered, and 15 and 18
/// delivered user 7 1
/// scanned 2 7.timeline 1234 2049:5678   read server 2's 7.timeline up to byte 1234 (device:inode)
/// scanned 2 users 88 -
/// ```
/// A later line for the same stream or file replaces an earlier one.
enum SyncProgressLine: Hashable, Sendable {
  case delivered(SyncStream, DeliveredSequences)
  case scanned(ServerID, ContextFile, FilePosition)

  var payload: String {
    switch self {
    case .delivered(let stream, let sequences):
      let above = sequences.above.sorted().map(String.init).joined(separator: ",")
      return "delivered \(stream.kind.rawValue) \(stream.user) \(sequences.through)"
        + (above.isEmpty ? "" : " \(above)")
    case .scanned(let server, let file, let position):
      let identity = position.identity.map { "\($0.device):\($0.inode)" } ?? "-"
      return "scanned \(server) \(file.fileName) \(position.offset) \(identity)"
    }
  }

  var encoded: String {
    let payload = payload
    return "\(RecordCodec.hex(CRC32C.checksum(payload.utf8))) \(payload)\n"
  }

  /// The lines that write `changes` (or a whole progress, for a compacted file).
  static func lines(for changes: SyncProgress.Changes) -> [SyncProgressLine] {
    var lines = changes.delivered.sorted { $0.key < $1.key }.map {
      SyncProgressLine.delivered($0.key, $0.value)
    }
    if let server = changes.server {
      lines += changes.positions.sorted { $0.key < $1.key }.map { .scanned(server, $0.key, $0.value) }
    }
    return lines
  }

  /// Decodes one line without its `\n`; `nil` if it is damaged or not a progress line.
  init?(line: Substring) {
    let parts = line.split(separator: " ", omittingEmptySubsequences: false)
    guard parts.count >= 2, parts[0].count == 8, let stored = UInt32(parts[0], radix: 16) else { return nil }
    let payload = line.dropFirst(9)
    guard CRC32C.checksum(payload.utf8) == stored else { return nil }
    let fields = Array(parts.dropFirst())
    switch fields[0] {
    case "delivered" where fields.count == 4 || fields.count == 5:
      guard let kind = SyncCursor.Stream(rawValue: String(fields[1])),
        let user = Int(fields[2]).flatMap({ try? UserID($0) }), let through = UInt64(fields[3])
      else { return nil }
      var above: [UInt64] = []
      if fields.count == 5 {
        let numbers = fields[4].split(separator: ",").map { UInt64($0) }
        guard numbers.allSatisfy({ $0 != nil }) else { return nil }
        above = numbers.compactMap { $0 }
      }
      self = .delivered(SyncStream(kind, of: user), DeliveredSequences(through: through, above: above))
    case "scanned" where fields.count == 5:
      guard let server = Int(fields[1]).flatMap({ try? ServerID($0) }),
        let file = ContextFile(fileName: String(fields[2])), let offset = Int64(fields[3]), offset >= 0
      else { return nil }
      var identity: FileIdentity?
      if fields[4] != "-" {
        let numbers = fields[4].split(separator: ":").map { UInt64($0) }
        guard numbers.count == 2, let device = numbers[0], let inode = numbers[1] else { return nil }
        identity = FileIdentity(device: device, inode: inode)
      }
      self = .scanned(server, file, FilePosition(offset: offset, identity: identity))
    default:
      return nil
    }
  }

  /// Applies this line to `progress`.
  func apply(to progress: inout SyncProgress) {
    switch self {
    case .delivered(let stream, let sequences):
      progress.delivered[stream] = sequences
    case .scanned(let server, let file, let position):
      progress.apply(SyncProgress.Changes(server: server, positions: [file: position]))
    }
  }
}
