import SNSCore

/// The cluster secret that internal calls must carry in `x-sns-secret`. Without a configured secret every
/// call passes (a development deployment); with one, a call without the right value is `UNAUTHENTICATED`.
public struct SecretCheck: Sendable {
  static let metadataKey = "x-sns-secret"
  let secret: [UInt8]?

  public init(secret: String?) {
    self.secret = secret.map { Array($0.utf8) }
  }

  /// Throws ``SNSError/unauthenticated`` unless the call carries the secret. Compares in constant time
  /// (for a given length), so the reply time does not reveal how much of a guess was right.
  func verify(_ context: GRPCServerContext) throws(SNSError) {
    guard let secret else { return }
    let offered = Array((context.metadata[Self.metadataKey] ?? "").utf8)
    var difference = UInt8(truncatingIfNeeded: offered.count ^ secret.count)
    for index in secret.indices {
      difference |= secret[index] ^ (index < offered.count ? offered[index] : 0)
    }
    guard difference == 0 else { throw .unauthenticated }
  }
}
