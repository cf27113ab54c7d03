/// TLS for a ``GRPCServer`` or a ``GRPCChannel``, through gRPC core's SSL credentials. All material
/// is PEM text (gRPC copies it; nothing is read from disk here).
///
/// - A server needs `certificateChainPEM` and `privateKeyPEM`. With `trustRootsPEM`, client
///   certificates are verified against it when presented, and required with
///   `requireClientCertificate`.
/// - A client verifies the server against `trustRootsPEM` (nil: gRPC's default roots) and, when it
///   has both `certificateChainPEM` and `privateKeyPEM`, presents them (mutual TLS).
///
/// A TLS handshake that fails (plaintext peer, untrusted or mismatched certificate) fails the call
/// with `.unavailable`.
public struct GRPCTLSConfiguration: Sendable, Equatable {
  /// This side's certificate chain (leaf first), PEM.
  public var certificateChainPEM: String?
  /// The private key of the chain's leaf certificate, PEM.
  public var privateKeyPEM: String?
  /// The CA certificates the peer's chain must lead to, PEM.
  public var trustRootsPEM: String?
  /// Server only: refuse clients without a certificate signed by `trustRootsPEM`.
  public var requireClientCertificate: Bool
  /// Client only: the name checked against the server's certificate instead of the target's host
  /// (for certificates that do not list the address dialled).
  public var targetNameOverride: String?

  /// Creates a configuration; see the type's documentation for which fields each side uses.
  public init(
    certificateChainPEM: String? = nil, privateKeyPEM: String? = nil, trustRootsPEM: String? = nil,
    requireClientCertificate: Bool = false, targetNameOverride: String? = nil
  ) {
    self.certificateChainPEM = certificateChainPEM
    self.privateKeyPEM = privateKeyPEM
    self.trustRootsPEM = trustRootsPEM
    self.requireClientCertificate = requireClientCertificate
    self.targetNameOverride = targetNameOverride
  }

  /// A server presenting `certificateChainPEM`/`privateKeyPEM`; see `init` for the client options.
  public static func server(
    certificateChainPEM: String, privateKeyPEM: String, clientTrustRootsPEM: String? = nil,
    requireClientCertificate: Bool = false
  ) -> GRPCTLSConfiguration {
    GRPCTLSConfiguration(
      certificateChainPEM: certificateChainPEM, privateKeyPEM: privateKeyPEM,
      trustRootsPEM: clientTrustRootsPEM, requireClientCertificate: requireClientCertificate)
  }

  /// A client trusting `trustRootsPEM`, optionally presenting its own certificate (mutual TLS).
  public static func client(
    trustRootsPEM: String?, certificateChainPEM: String? = nil, privateKeyPEM: String? = nil,
    targetNameOverride: String? = nil
  ) -> GRPCTLSConfiguration {
    GRPCTLSConfiguration(
      certificateChainPEM: certificateChainPEM, privateKeyPEM: privateKeyPEM, trustRootsPEM: trustRootsPEM,
      targetNameOverride: targetNameOverride)
  }
}

/// Runs `body` with a NUL-terminated copy of `string`, or with nil.
// Unsafe pointer: the C boundary; gRPC copies each string before `body` returns.
func withOptionalCString<T>(_ string: String?, _ body: (UnsafePointer<CChar>?) -> T) -> T {
  guard let string else { return body(nil) }
  return string.withCString { body($0) }
}
