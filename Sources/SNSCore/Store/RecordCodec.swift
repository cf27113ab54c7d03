/// Why a line of a context file could not be read back as a ``ContextRecord``.
public enum RecordDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
  /// The line does not start with eight lowercase hex digits and a space.
  case missingChecksum
  /// The stored checksum does not match the payload: the line was torn or damaged on disk.
  case checksumMismatch(stored: UInt32, computed: UInt32)
  /// The payload's first word is not a record kind this version knows.
  case unknownKind(String)
  /// The payload has the wrong number of fields for its kind.
  case wrongFieldCount(kind: String, expected: Int, found: Int)
  /// A field is not in its expected form (`seq=` missing, not a number, …).
  case malformedField(name: String, value: String)
  /// A field is well formed but not a valid value (user id 0, post text that is not UTF-8, …).
  case invalidValue(ValidationError)

  /// Whether the line is damaged (torn write, flipped bits) rather than whole but not understood.
  ///
  /// The store cuts a damaged *last* line; a whole line it cannot parse is skipped and never cut, because it
  /// may be a newer writer's record that still belongs in the file.
  public var isDamage: Bool {
    switch self {
    case .missingChecksum, .checksumMismatch: true
    case .unknownKind, .wrongFieldCount, .malformedField, .invalidValue: false
    }
  }

  public var description: String {
    switch self {
    case .missingChecksum: "line does not start with an 8-digit lowercase hex checksum and a space"
    case .checksumMismatch(let stored, let computed):
      "checksum mismatch: line says \(RecordCodec.hex(stored)), payload has \(RecordCodec.hex(computed))"
    case .unknownKind(let kind): "unknown record kind '\(kind)'"
    case .wrongFieldCount(let kind, let expected, let found):
      "'\(kind)' record has \(found) fields, expected \(expected)"
    case .malformedField(let name, let value): "malformed \(name) field '\(value)'"
    case .invalidValue(let error): error.description
    }
  }
}

/// Turns a ``ContextRecord`` into one human-readable line of a context file and back.
///
/// A line is `<crc> <payload>\n`: `crc` is the CRC-32C of the payload's UTF-8 bytes as eight lowercase hex
/// digits. Payloads (see `docs/FILE-FORMAT.md`):
/// ```
/// user 7
/// following 1 2 follow seq=3 t=1700000000123
/// follower 1 2 unfollow seq=4 t=1700000000456
/// following 1 3 follow seq=5 t=1700000000789,k=2c26b46b68ffc68f
/// post 2-5 t=1700000000123 hello, world
/// post 2-6 t=1700000000456,k=9f86d081884c7d65 posted with a client's key
/// cursor posts 7 12
/// ```
/// Post text goes last because it may contain spaces; ``PostText`` guarantees it has no line break or NUL.
public enum RecordCodec {
  /// Post limits used when *reading*: a record on disk was validated by whoever wrote it, possibly with
  /// larger limits than ours, so only the structural rules (UTF-8, no line break, no NUL) apply here.
  static let readLimits = PostLimits(maximumBytes: .max)

  /// The record's payload, the part of the line after the checksum (no newline).
  public static func payload(of record: ContextRecord) -> String {
    switch record {
    case .user(let user):
      "user \(user)"
    case .following(let event):
      "following \(fields(of: event))"
    case .follower(let event):
      "follower \(fields(of: event))"
    case .post(let post):
      // The key rides on the time field (`t=<ms>,k=<hex>`): the text that follows may look like anything.
      "post \(post.id) t=\(post.time.milliseconds)\(post.key.map { ",k=\($0)" } ?? "") \(post.text.value)"
    case .cursor(let cursor):
      "cursor \(cursor.stream.rawValue) \(cursor.user) \(cursor.sequence)"
    }
  }

  /// How many bytes `record`'s line takes (for paging transfers by size).
  public static func encodedSize(of record: ContextRecord) -> Int { payload(of: record).utf8.count + 10 }

  /// The whole line for `record`, checksum first and ending in `\n`.
  public static func encode(_ record: ContextRecord) -> String { line(payload: payload(of: record)) }

  /// `payload` as a checksummed line (`<crc> <payload>\n`), as every file of a data directory writes them.
  static func line(payload: String) -> String {
    "\(hex(CRC32C.checksum(payload.utf8))) \(payload)\n"
  }

  /// The line as the bytes a single `write(2)` puts on disk.
  static func encodedBytes(_ record: ContextRecord) -> [UInt8] {
    Array(encode(record).utf8)
  }

  /// Decodes one line as ``encode(_:)`` wrote it; a single trailing `\n` is allowed.
  public static func decode(_ line: String) throws(RecordDecodingError) -> ContextRecord {
    var bytes = Array(line.utf8)[...]
    if bytes.last == UInt8(ascii: "\n") { bytes = bytes.dropLast() }
    return try decode(line: bytes)
  }

  /// Decodes one line of bytes, without its terminating `\n`. Checks the checksum first, then every field
  /// with the vocabulary's validating initialisers.
  public static func decode(line: ArraySlice<UInt8>) throws(RecordDecodingError) -> ContextRecord {
    try decode(payload: checkedPayload(of: line))
  }

  /// The payload of a checksummed line (without its `\n`), once its checksum matches.
  static func checkedPayload(of line: ArraySlice<UInt8>) throws(RecordDecodingError) -> ArraySlice<UInt8> {
    let checksumLength = 8
    guard line.count > checksumLength, line[line.startIndex + checksumLength] == space,
      let stored = parseHex(line.prefix(checksumLength))
    else { throw .missingChecksum }
    let payload = line.dropFirst(checksumLength + 1)
    let computed = CRC32C.checksum(payload)
    guard stored == computed else { throw .checksumMismatch(stored: stored, computed: computed) }
    return payload
  }

  /// Formats a checksum as eight lowercase hex digits.
  static func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: 8 - digits.count) + digits
  }

  // MARK: - Parsing

  private static let space = UInt8(ascii: " ")

  private static func fields(of event: FollowEvent) -> String {
    "\(event.follower) \(event.followee) \(event.kind.rawValue) seq=\(event.sequence) t=\(event.time.milliseconds)"
      + (event.key.map { ",k=\($0)" } ?? "")
  }

  private static func decode(payload: ArraySlice<UInt8>) throws(RecordDecodingError) -> ContextRecord {
    // Split on single spaces only: an empty field (two spaces) then fails its own parse, so nothing lenient
    // slips in. Posts split at most three times because their text runs to the end of the line.
    let kind = text(payload.prefix(while: { $0 != space }))
    let maxSplits = kind == "post" ? 3 : Int.max
    let parts = payload.split(separator: space, maxSplits: maxSplits, omittingEmptySubsequences: false)
    func expect(_ count: Int) throws(RecordDecodingError) {
      guard parts.count == count else {
        throw .wrongFieldCount(kind: kind, expected: count, found: parts.count)
      }
    }
    switch kind {
    case "user":
      try expect(2)
      return .user(try user(parts[1]))
    case "following", "follower":
      try expect(6)
      let event = try followEvent(parts[1...])
      return kind == "following" ? .following(event) : .follower(event)
    case "post":
      try expect(4)
      let id = try postID(parts[1])
      let (time, key) = try keyedTimestamp(parts[2], "post key")
      let body: PostText
      do throws(ValidationError) { body = try PostText(utf8: Array(parts[3]), limits: readLimits) } catch {
        throw .invalidValue(error)
      }
      return .post(Post(id: id, time: time, text: body, key: key))
    case "cursor":
      try expect(4)
      guard let stream = SyncCursor.Stream(rawValue: text(parts[1])) else {
        throw .malformedField(name: "stream", value: excerpt(parts[1]))
      }
      let cursor = SyncCursor(
        stream: stream, user: try user(parts[2]), sequence: try number(parts[3], "sequence"))
      return .cursor(cursor)
    default:
      throw .unknownKind(String(kind.prefix(60)))
    }
  }

  /// `<follower> <followee> <follow|unfollow> seq=<n> t=<ms>[,k=<hex>]`.
  private static func followEvent(_ parts: ArraySlice<ArraySlice<UInt8>>) throws(RecordDecodingError)
    -> FollowEvent
  {
    let start = parts.startIndex
    let follower = try user(parts[start])
    let followee = try user(parts[start + 1])
    guard let kind = FollowEvent.Kind(rawValue: text(parts[start + 2])) else {
      throw .malformedField(name: "kind", value: excerpt(parts[start + 2]))
    }
    let sequence = try number(prefixed: "seq=", parts[start + 3], "sequence")
    let (time, key) = try keyedTimestamp(parts[start + 4], "follow key")
    return FollowEvent(
      kind: kind, follower: follower, followee: followee, sequence: sequence, time: time, key: key)
  }

  /// `t=<ms>` or `t=<ms>,k=<hex>`: a time with the request key that rides on it.
  private static func keyedTimestamp(_ field: ArraySlice<UInt8>, _ name: String) throws(RecordDecodingError)
    -> (Timestamp, RequestKey?)
  {
    guard let comma = field.firstIndex(of: UInt8(ascii: ",")) else { return (try timestamp(field), nil) }
    let keyField = field[(comma + 1)...]
    guard keyField.starts(with: "k=".utf8), let key = RequestKey(hex: text(keyField.dropFirst(2))) else {
      throw .malformedField(name: name, value: excerpt(keyField))
    }
    return (try timestamp(field[..<comma]), key)
  }

  /// `<author>-<sequence>`, as ``PostID/description`` writes it.
  private static func postID(_ field: ArraySlice<UInt8>) throws(RecordDecodingError) -> PostID {
    guard let dash = field.firstIndex(of: UInt8(ascii: "-")) else {
      throw .malformedField(name: "post id", value: excerpt(field))
    }
    let author = try user(field[..<dash])
    let sequence = try number(field[(dash + 1)...], "post id")
    return PostID(author: author, sequence: sequence)
  }

  private static func user(_ field: ArraySlice<UInt8>) throws(RecordDecodingError) -> UserID {
    do throws(ValidationError) { return try UserID(parsing: text(field)) } catch {
      throw .invalidValue(error)
    }
  }

  /// A decimal `UInt64`: digits only (no sign, no spaces), at most 20 of them, no overflow.
  private static func number(prefixed prefix: String = "", _ field: ArraySlice<UInt8>, _ name: String)
    throws(RecordDecodingError) -> UInt64
  {
    let digits = field.dropFirst(prefix.utf8.count)
    guard field.starts(with: prefix.utf8), !digits.isEmpty, digits.count <= 20, digits.allSatisfy(isDigit),
      let value = UInt64(text(digits))
    else { throw .malformedField(name: name, value: excerpt(field)) }
    return value
  }

  /// `t=<milliseconds>`, possibly negative (``Timestamp`` is signed), within `Int64`.
  private static func timestamp(_ field: ArraySlice<UInt8>) throws(RecordDecodingError) -> Timestamp {
    var digits = field.dropFirst(2)
    if digits.first == UInt8(ascii: "-") { digits = digits.dropFirst() }
    guard field.starts(with: "t=".utf8), !digits.isEmpty, digits.count <= 19, digits.allSatisfy(isDigit),
      let value = Int64(text(field.dropFirst(2)))
    else { throw .malformedField(name: "time", value: excerpt(field)) }
    return Timestamp(milliseconds: value)
  }

  private static func parseHex(_ field: ArraySlice<UInt8>) -> UInt32? {
    var value: UInt32 = 0
    for byte in field {
      let digit: UInt8
      switch byte {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
      case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
      default: return nil
      }
      value = value << 4 | UInt32(digit)
    }
    return value
  }

  private static func isDigit(_ byte: UInt8) -> Bool {
    byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
  }

  /// A field as text for parsing; invalid UTF-8 becomes U+FFFD, which no parse accepts.
  private static func text(_ field: ArraySlice<UInt8>) -> String {
    String(decoding: field, as: UTF8.self)
  }

  /// A field shortened for an error message, so that a damaged multi-kilobyte line does not flood the log.
  private static func excerpt(_ field: ArraySlice<UInt8>) -> String {
    text(field.prefix(60))
  }
}
