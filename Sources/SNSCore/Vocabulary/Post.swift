/// Limits a server enforces on post text.
public struct PostLimits: Hashable, Sendable {
  /// The largest post in UTF-8 bytes (1 KiB by default).
  public var maximumBytes: Int
  public init(maximumBytes: Int = 1024) { self.maximumBytes = maximumBytes }
  public static let `default` = PostLimits()
}

/// The text of a post: valid UTF-8, not empty, no line breaks or NULs, within ``PostLimits``.
/// Keeping line breaks out is what lets a post be one line of a context file.
public struct PostText: Hashable, Sendable, CustomStringConvertible {
  public let value: String

  public init(_ text: String, limits: PostLimits = .default) throws(ValidationError) {
    try self.init(utf8: Array(text.utf8), limits: limits)
  }

  /// Validates raw bytes as they come off the wire, including their UTF-8 encoding.
  public init(utf8 bytes: [UInt8], limits: PostLimits = .default) throws(ValidationError) {
    guard !bytes.isEmpty else { throw .invalidPost(.empty) }
    guard bytes.count <= limits.maximumBytes else {
      throw .invalidPost(.tooLong(bytes: bytes.count, limit: limits.maximumBytes))
    }
    guard !bytes.contains(0) else { throw .invalidPost(.containsNUL) }
    guard !bytes.contains(UInt8(ascii: "\n")), !bytes.contains(UInt8(ascii: "\r")) else {
      throw .invalidPost(.containsNewline)
    }
    guard let text = String(validating: bytes, as: UTF8.self) else { throw .invalidPost(.invalidUTF8) }
    // U+2028/U+2029 render as line breaks too; refusing them keeps one post on one screen line.
    guard !text.unicodeScalars.contains(where: { $0 == "\u{2028}" || $0 == "\u{2029}" }) else {
      throw .invalidPost(.containsNewline)
    }
    self.value = text
  }

  public var description: String { value }
}

extension PostText {
  /// A post as a course client sends it: read with `fgets`, so it ends with the line break the user typed.
  /// One trailing `"\n"` or `"\r\n"` is removed; whatever remains is validated as usual (an interior line
  /// break is still refused).
  public init(typedLine text: String, limits: PostLimits = .default) throws(ValidationError) {
    var bytes = Array(text.utf8)
    if bytes.last == UInt8(ascii: "\n") {
      bytes.removeLast()
      if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
    }
    try self.init(utf8: bytes, limits: limits)
  }
}

/// A post as it is stored and delivered.
public struct Post: Hashable, Sendable {
  public let id: PostID
  public let time: Timestamp
  public let text: PostText
  /// The key the author's client proposed for it, if any: a retry with the same key finds this post.
  public let key: RequestKey?

  public var author: UserID { id.author }

  public init(id: PostID, time: Timestamp, text: PostText, key: RequestKey? = nil) {
    self.id = id
    self.time = time
    self.text = text
    self.key = key
  }
}

extension Post: Comparable {
  /// Timeline order: by time, then by id so that posts of the same millisecond have one fixed order.
  public static func < (lhs: Post, rhs: Post) -> Bool {
    (lhs.time, lhs.id) < (rhs.time, rhs.id)
  }
}
