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

extension GRPCMethodHandler {
  /// A unary protobuf handler behind the cluster secret. The secret is checked before the request is decoded,
  /// so a caller without it gets `UNAUTHENTICATED` whatever its bytes are, and learns nothing from the parser.
  static func authenticated<Request: SwiftProtobufMessage, Response: SwiftProtobufMessage>(
    by secret: SecretCheck, _ body: @escaping @Sendable (Request, GRPCServerContext) async throws -> Response
  ) -> GRPCMethodHandler {
    let decoding = GRPCMethodHandler.unary(body)
    guard case .unary(let decodeAndRun) = decoding else { return decoding }
    return .unary { bytes, context in
      try secret.verify(context)
      return try await decodeAndRun(bytes, context)
    }
  }
}
