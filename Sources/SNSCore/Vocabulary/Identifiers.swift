/// A user of Tiny SNS: a positive integer that fits in 32 bits (the course clients send it as a decimal string).
public struct UserID: Hashable, Comparable, Sendable, CustomStringConvertible {
  /// The numeric value, always in `1...Int32.max`.
  public let value: Int32

  /// Validates `value`. Throws ``ValidationError/invalidUserID(_:)`` for zero, negatives and values past `Int32.max`.
  public init(_ value: Int) throws(ValidationError) {
    guard value > 0, value <= Int(Int32.max) else { throw .invalidUserID(String(value)) }
    self.value = Int32(value)
  }

  /// Parses a decimal user id as it arrives from the network or a file: digits only, no sign, no spaces,
  /// no path characters. Anything else is ``ValidationError/invalidUserID(_:)``.
  public init(parsing text: some StringProtocol) throws(ValidationError) {
    guard let number = plainDecimal(text) else { throw .invalidUserID(String(text.prefix(40))) }
    try self.init(number)
  }

  public var description: String { String(value) }
  public static func < (lhs: UserID, rhs: UserID) -> Bool { lhs.value < rhs.value }
}

/// A cluster `X_i`, numbered from 1.
public struct ClusterID: Hashable, Comparable, Sendable, CustomStringConvertible {
  public let value: Int

  public init(_ value: Int) throws(ValidationError) {
    guard value > 0, value <= Int(Int32.max) else { throw .invalidClusterID(String(value)) }
    self.value = value
  }

  /// The cluster that owns `user` among `clusterCount` clusters: `((u - 1) mod N) + 1`.
  public static func of(_ user: UserID, clusterCount: Int) -> ClusterID {
    precondition(clusterCount > 0, "the cluster count is validated by configuration")
    // `value` is in 1...Int32.max and the result in 1...clusterCount, so this cannot fail.
    return ClusterID(unchecked: (Int(user.value) - 1) % clusterCount + 1)
  }

  init(unchecked value: Int) { self.value = value }

  public var description: String { String(value) }
  public static func < (lhs: ClusterID, rhs: ClusterID) -> Bool { lhs.value < rhs.value }
}

/// A server's id inside its cluster (the course uses 1 for the first master and 2 for its slave).
public struct ServerID: Hashable, Comparable, Sendable, CustomStringConvertible {
  public let value: Int

  public init(_ value: Int) throws(ValidationError) {
    guard value > 0, value <= Int(Int32.max) else { throw .invalidServerID(String(value)) }
    self.value = value
  }

  public var description: String { String(value) }
  public static func < (lhs: ServerID, rhs: ServerID) -> Bool { lhs.value < rhs.value }
}

/// A cluster's role generation. The coordinator raises it on every change of master; a server accepts
/// client writes only while it is master of the current epoch, and a slave refuses mirror writes of an older one.
public struct Epoch: Hashable, Comparable, Sendable, CustomStringConvertible {
  public let value: UInt64
  public init(_ value: UInt64) { self.value = value }
  public static let zero = Epoch(0)
  public var next: Epoch { Epoch(value + 1) }
  public var description: String { String(value) }
  public static func < (lhs: Epoch, rhs: Epoch) -> Bool { lhs.value < rhs.value }
}

/// A post's globally unique id: its author and the author's post sequence number (from 1).
/// The author is globally unique, so no cluster part is needed; ids make sync delivery idempotent.
public struct PostID: Hashable, Comparable, Sendable, CustomStringConvertible {
  public let author: UserID
  public let sequence: UInt64
  public init(author: UserID, sequence: UInt64) {
    self.author = author
    self.sequence = sequence
  }
  public var description: String { "\(author)-\(sequence)" }
  public static func < (lhs: PostID, rhs: PostID) -> Bool {
    (lhs.author, lhs.sequence) < (rhs.author, rhs.sequence)
  }
}

/// The value of `text` if it is 1 to 10 ASCII digits and nothing else (no sign, space or path character), the
/// only form in which ids are accepted from the network, files and the command line.
func plainDecimal(_ text: some StringProtocol) -> Int? {
  guard !text.isEmpty, text.count <= 10,
    text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
  else { return nil }
  return Int(text)
}
