/// Which sequences of one stream a synchronizer delivered everywhere they were needed: every sequence up to
/// ``through``, and some above it (``above``) that came before a gap.
///
/// An item can reach the master's files after later ones (a write refused to its client but kept by the
/// slave comes back with the next catch-up), so a plain high-water mark would skip it. A gap that never
/// fills would make the exceptions grow with every later item, so they are bounded: the lowest are
/// forgotten first. Forgetting only costs a resend after a rescan; receivers apply idempotently.
public struct DeliveredSequences: Hashable, Sendable {
  /// Every sequence in `1...through` was delivered.
  public private(set) var through: UInt64
  /// Delivered sequences above `through + 1`; at most ``maximumExceptions``.
  public private(set) var above: Set<UInt64>

  /// How many sequences above a gap are remembered.
  public static let maximumExceptions = 256

  public init(through: UInt64 = 0, above: some Sequence<UInt64> = []) {
    self.through = through
    self.above = []
    for sequence in above { insert(sequence) }
  }

  public func contains(_ sequence: UInt64) -> Bool {
    sequence <= through || above.contains(sequence)
  }

  /// Records `sequence` as delivered; returns whether it was new.
  @discardableResult
  public mutating func insert(_ sequence: UInt64) -> Bool {
    guard !contains(sequence) else { return false }
    if sequence == through + 1 {
      through = sequence
      while above.remove(through + 1) != nil { through += 1 }
    } else {
      above.insert(sequence)
      if above.count > Self.maximumExceptions, let lowest = above.min() { above.remove(lowest) }
    }
    return true
  }
}
