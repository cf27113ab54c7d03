/// A key a client proposes for one write (a post, a follow or an unfollow) and sends again with every retry
/// of it, so that a retry after a lost reply, a deadline or a failover gets the first outcome instead of a
/// second copy. Stored with the post or follow event on master and slave (`k=` in its line), so the new
/// master of a failover knows it too.
public struct RequestKey: Hashable, Sendable, CustomStringConvertible {
  /// Never 0 (0 means "no key" on the wire).
  public let value: UInt64

  public init?(_ value: UInt64) {
    guard value != 0 else { return nil }
    self.value = value
  }

  private init(nonzero value: UInt64) { self.value = value }

  /// A fresh random key: 64 bits make a collision among one user's writes negligible.
  public static func random() -> RequestKey {
    var generator = SystemRandomNumberGenerator()
    return RequestKey(nonzero: UInt64.random(in: 1...UInt64.max, using: &generator))
  }

  /// Sixteen lowercase hex digits.
  public var description: String {
    let hex = String(value, radix: 16)
    return String(repeating: "0", count: 16 - hex.count) + hex
  }

  /// Parses the sixteen hex digits of ``description``.
  public init?(hex text: some StringProtocol) {
    guard text.count == 16, text.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }),
      let value = UInt64(text, radix: 16)
    else { return nil }
    self.init(value)
  }
}
