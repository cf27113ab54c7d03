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

  var encoded: String { RecordCodec.line(payload: payload) }

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

  /// Decodes one line without its `\n`; `nil` if it is damaged or not a progress line. Numbers are plain
  /// decimal digits, as everywhere in the data directory.
  init?(line: ArraySlice<UInt8>) {
    guard let payload = try? RecordCodec.checkedPayload(of: line) else { return nil }
    let fields = String(decoding: payload, as: UTF8.self).split(
      separator: " ", omittingEmptySubsequences: false)
    func number(_ field: Substring) -> UInt64? {
      guard !field.isEmpty, field.count <= 19, field.utf8.allSatisfy({ (48...57).contains($0) }) else {
        return nil
      }
      return UInt64(field)
    }
    switch fields.first {
    case "delivered" where fields.count == 4 || fields.count == 5:
      guard let kind = SyncCursor.Stream(rawValue: String(fields[1])),
        let user = try? UserID(parsing: fields[2]),
        let through = number(fields[3])
      else { return nil }
      var above: [UInt64] = []
      if fields.count == 5 {
        let numbers = fields[4].split(separator: ",", omittingEmptySubsequences: false).map(number)
        guard numbers.allSatisfy({ $0 != nil }) else { return nil }
        above = numbers.compactMap { $0 }
      }
      self = .delivered(SyncStream(kind, of: user), DeliveredSequences(through: through, above: above))
    case "scanned" where fields.count == 5:
      guard let server = try? ServerID(parsing: fields[1]),
        let file = ContextFile(fileName: String(fields[2])),
        let offset = number(fields[3]).flatMap({ Int64(exactly: $0) })
      else { return nil }
      var identity: FileIdentity?
      if fields[4] != "-" {
        let numbers = fields[4].split(separator: ":", omittingEmptySubsequences: false).map(number)
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
