import Foundation

/// A point in time in milliseconds since the Unix epoch: wall-clock time in deployment, virtual time in tests.
/// Milliseconds keep files readable; posts in the same millisecond are ordered by ``PostID``.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
  public var milliseconds: Int64
  public init(milliseconds: Int64) { self.milliseconds = milliseconds }

  public static let zero = Timestamp(milliseconds: 0)

  public static func + (lhs: Timestamp, rhs: Duration) -> Timestamp {
    Timestamp(milliseconds: lhs.milliseconds + rhs.wholeMilliseconds)
  }
  public static func - (lhs: Timestamp, rhs: Timestamp) -> Duration {
    .milliseconds(lhs.milliseconds - rhs.milliseconds)
  }
  public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.milliseconds < rhs.milliseconds }
  public var description: String { "\(milliseconds)ms" }
}

extension Duration {
  /// The duration in whole milliseconds, rounded down.
  public var wholeMilliseconds: Int64 {
    let (seconds, attoseconds) = components
    return seconds * 1000 + attoseconds / 1_000_000_000_000_000
  }

  /// Parses `250ms`, `10s`, `1.5s`, `2m` (a bare number means seconds), as flags and config files write them.
  public init(parsing text: String) throws(ValidationError) {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60)]
    var factor = 1.0
    var number = Substring(trimmed)
    for (suffix, unitFactor) in units where trimmed.hasSuffix(suffix) {
      factor = unitFactor
      number = trimmed.dropLast(suffix.count)
      break
    }
    guard let value = Double(number), value.isFinite, value >= 0, value * factor < 1e9 else {
      throw .invalidDuration(text)
    }
    self = .milliseconds(Int64((value * factor * 1000).rounded()))
  }
}
