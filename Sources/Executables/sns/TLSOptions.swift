import ArgumentParser
import Foundation
import SNSTransport

/// `--tls-cert`, `--tls-key`, `--tls-ca`: TLS on this process's listener and outgoing connections.
///
/// With a certificate and key, the listener speaks TLS only (plaintext clients cannot connect).
/// With a CA, every outgoing connection uses TLS and checks the peer's certificate against it
/// (the address dialled, e.g. 127.0.0.2, must be among the certificate's IP SANs).
struct TLSOptions: ParsableArguments {
  @Option(
    name: .customLong("tls-cert"),
    help: ArgumentHelp(
      "This process's certificate chain, PEM; with --tls-key its listener speaks TLS only (env SNS_TLS_CERT).",
      valueName: "file"))
  var certificateFile: String?

  @Option(
    name: .customLong("tls-key"),
    help: ArgumentHelp("The private key of --tls-cert, PEM (env SNS_TLS_KEY).", valueName: "file"))
  var keyFile: String?

  @Option(
    name: .customLong("tls-ca"),
    help: ArgumentHelp(
      "CA certificate(s), PEM: dial with TLS and trust peers signed by them (env SNS_TLS_CA).",
      valueName: "file"))
  var caFile: String?

  private static let environment = ProcessInfo.processInfo.environment

  var certificatePath: String? { certificateFile ?? Self.environment["SNS_TLS_CERT"] }
  var keyPath: String? { keyFile ?? Self.environment["SNS_TLS_KEY"] }
  var caPath: String? { caFile ?? Self.environment["SNS_TLS_CA"] }

  func validate() throws {
    if (certificatePath == nil) != (keyPath == nil) {
      throw ValidationError("--tls-cert and --tls-key (or SNS_TLS_CERT and SNS_TLS_KEY) go together")
    }
  }

  /// The listener's TLS, or nil for plaintext; exits with one clear line on a bad file.
  func server() -> GRPCTLSConfiguration? {
    guard let certificatePath, let keyPath else { return nil }
    return .server(
      certificateChainPEM: Self.read(certificatePath, what: "TLS certificate", marker: "CERTIFICATE"),
      privateKeyPEM: Self.read(keyPath, what: "TLS private key", marker: "PRIVATE KEY"))
  }

  /// TLS for outgoing connections, or nil for plaintext; exits with one clear line on a bad file,
  /// or when this process listens with TLS but has no CA to check its peers with.
  func client() -> GRPCTLSConfiguration? {
    guard let caPath else {
      if certificatePath != nil {
        fail("--tls-cert needs --tls-ca (or SNS_TLS_CA): the CA that peers' certificates are checked against")
      }
      return nil
    }
    return .client(trustRootsPEM: Self.read(caPath, what: "TLS CA", marker: "CERTIFICATE"))
  }

  /// The file's text, which must hold a PEM block whose label ends in `marker`.
  private static func read(_ path: String, what: String, marker: String) -> String {
    guard let data = FileManager.default.contents(atPath: path) else {
      fail("cannot read the \(what) file '\(path)'")
    }
    guard let text = String(data: data, encoding: .utf8), text.contains("-----BEGIN "),
      text.contains("\(marker)-----")
    else {
      fail("the \(what) file '\(path)' is not PEM (no '-----BEGIN … \(marker)-----' block)")
    }
    return text
  }
}
