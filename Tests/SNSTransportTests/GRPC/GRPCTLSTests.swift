import Foundation
import Logging
import SNSCore
import SNSTransport
import Testing

/// A throwaway CA and certificates made with `openssl` in a temporary directory.
struct TestCertificates: Sendable {
  /// The CA that signed `serverChain`.
  let caPEM: String
  /// A second, unrelated CA.
  let otherCAPEM: String
  /// A leaf for 127.0.0.1–127.0.0.9 and `localhost`, usable by servers and clients.
  let serverChain: String
  let serverKey: String
  /// The same kind of leaf, signed by the unrelated CA.
  let otherChain: String
  let otherKey: String

  /// Generated once per test process.
  static let shared: Result<TestCertificates, TestCertificatesError> = Result { try generate() }
    .mapError { $0 as? TestCertificatesError ?? TestCertificatesError(message: "\(error: $0)") }

  static func generate() throws -> TestCertificates {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "sns-tls-\(UUID().uuidString)"
    ).path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let ips = (1...9).map { "IP:127.0.0.\($0)" }.joined(separator: ",")
    let extensions = """
      basicConstraints=CA:FALSE
      keyUsage=digitalSignature,keyEncipherment
      extendedKeyUsage=serverAuth,clientAuth
      subjectAltName=DNS:localhost,\(ips)

      """
    try extensions.write(toFile: "\(directory)/leaf.ext", atomically: true, encoding: .utf8)
    for ca in ["ca", "other-ca"] {
      try openssl(
        in: directory, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "\(ca).key", "-out", "\(ca).pem", "-days", "2", "-subj", "/CN=Tiny SNS test \(ca)")
      let leaf = ca == "ca" ? "server" : "other"
      try openssl(
        in: directory, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "\(leaf).key", "-out", "\(leaf).csr", "-subj", "/CN=localhost")
      try openssl(
        in: directory, "x509", "-req", "-in", "\(leaf).csr", "-CA", "\(ca).pem", "-CAkey", "\(ca).key",
        "-CAcreateserial", "-out", "\(leaf).pem", "-days", "2", "-extfile", "leaf.ext")
    }
    func read(_ name: String) throws -> String {
      try String(contentsOfFile: "\(directory)/\(name)", encoding: .utf8)
    }
    return TestCertificates(
      caPEM: try read("ca.pem"), otherCAPEM: try read("other-ca.pem"), serverChain: try read("server.pem"),
      serverKey: try read("server.key"), otherChain: try read("other.pem"), otherKey: try read("other.key"))
  }

  private static func openssl(in directory: String, _ arguments: String...) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["openssl"] + arguments
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    let errors = Pipe()
    process.standardError = errors
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    let output = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw TestCertificatesError(
        message: "openssl \(arguments.joined(separator: " ")) failed (is openssl installed?): "
          + String(decoding: output, as: UTF8.self))
    }
  }
}

struct TestCertificatesError: Error, CustomStringConvertible {
  let message: String
  var description: String { message }
}

extension String.StringInterpolation {
  fileprivate mutating func appendInterpolation(error: any Error) { appendLiteral(String(describing: error)) }
}

@Suite("gRPC over TLS")
struct GRPCTLSTests {
  static let logger = Logger.quiet("test.grpc.tls")

  let certificates: TestCertificates

  init() throws {
    certificates = try TestCertificates.shared.get()
  }

  var handlers: [String: GRPCMethodHandler] {
    [echo: .unary { request, _ in request }]
  }

  var serverTLS: GRPCTLSConfiguration {
    .server(certificateChainPEM: certificates.serverChain, privateKeyPEM: certificates.serverKey)
  }

  /// Starts a server on 127.0.0.1:0 with `tls`, runs `body` with its "host:port", then shuts it down.
  func withTLSServer(
    _ tls: GRPCTLSConfiguration?, host: String = "127.0.0.1", _ body: (String) async throws -> Void
  ) async throws {
    let server = try GRPCServer(
      listen: "\(host):0", handlers: handlers, logger: Self.logger, tls: tls, gracePeriod: .zero)
    try await server.withRunning { try await body("\(host):\(server.boundPort)") }
  }

  /// One echo call on a new channel; returns the response or throws its status.
  func echoOnce(
    _ target: String, tls: GRPCTLSConfiguration?, timeout: Duration = .seconds(60)
  ) async throws -> [UInt8] {
    let channel = GRPCChannel(target: target, tls: tls)
    defer { channel.close() }
    return try await channel.unary(method: echo, request: Array("hello".utf8), timeout: timeout)
  }

  /// Runs `body`, expecting a non-OK status well before the (long) deadline: no hang.
  @discardableResult
  func expectPromptFailure(
    _ body: () async throws -> Void, sourceLocation: SourceLocation = #_sourceLocation
  ) async -> GRPCStatus? {
    let clock = ContinuousClock()
    let start = clock.now
    let status = await statusOf(body)
    let elapsed = clock.now - start
    #expect(status != nil, "the call succeeded", sourceLocation: sourceLocation)
    #expect(
      status?.code == .unavailable, "status: \(String(describing: status))", sourceLocation: sourceLocation)
    // Far from the 60 s deadline, however loaded the machine: a bound, not a speed goal.
    #expect(elapsed < .seconds(30), "took \(elapsed)", sourceLocation: sourceLocation)
    return status
  }

  @Test("a TLS client reaches a TLS server (IP SAN)")
  func roundTrip() async throws {
    try await withTLSServer(serverTLS) { target in
      let response = try await echoOnce(target, tls: .client(trustRootsPEM: certificates.caPEM))
      #expect(response == Array("hello".utf8))
    }
  }

  @Test("the certificate's other loopback addresses work too")
  func otherLoopbackAddress() async throws {
    try await withTLSServer(serverTLS, host: "127.0.0.3") { target in
      let response = try await echoOnce(target, tls: .client(trustRootsPEM: certificates.caPEM))
      #expect(response == Array("hello".utf8))
    }
  }

  @Test("many calls share one TLS connection")
  func manyCalls() async throws {
    try await withTLSServer(serverTLS) { target in
      let channel = GRPCChannel(target: target, tls: .client(trustRootsPEM: certificates.caPEM))
      defer { channel.close() }
      try await withThrowingTaskGroup(of: Void.self) { group in
        for index in 0..<50 {
          group.addTask {
            let request = Array("call \(index)".utf8)
            let response = try await channel.unary(method: echo, request: request, timeout: .seconds(10))
            #expect(response == request)
          }
        }
        try await group.waitForAll()
      }
    }
  }

  @Test("a plaintext client cannot connect to a TLS server")
  func plaintextClientRefused() async throws {
    try await withTLSServer(serverTLS) { target in
      await expectPromptFailure { _ = try await echoOnce(target, tls: nil) }
    }
  }

  @Test("a TLS client that does not trust the server's CA fails")
  func untrustedCA() async throws {
    try await withTLSServer(serverTLS) { target in
      await expectPromptFailure {
        _ = try await echoOnce(target, tls: .client(trustRootsPEM: certificates.otherCAPEM))
      }
    }
  }

  @Test("a TLS client fails against a plaintext server")
  func tlsClientPlaintextServer() async throws {
    try await withTLSServer(nil) { target in
      await expectPromptFailure {
        _ = try await echoOnce(target, tls: .client(trustRootsPEM: certificates.caPEM))
      }
    }
  }

  @Test("a host name the certificate does not list fails, unless overridden")
  func targetNameOverride() async throws {
    try await withTLSServer(serverTLS) { target in
      // "127.0.0.1" dialled as "wrong.example": verification must fail on the name.
      let wrongName = GRPCTLSConfiguration.client(
        trustRootsPEM: certificates.caPEM, targetNameOverride: "wrong.example")
      await expectPromptFailure { _ = try await echoOnce(target, tls: wrongName) }
      let rightName = GRPCTLSConfiguration.client(
        trustRootsPEM: certificates.caPEM, targetNameOverride: "localhost")
      let response = try await echoOnce(target, tls: rightName)
      #expect(response == Array("hello".utf8))
    }
  }

  @Test("mutual TLS: the server requires a client certificate from its CA")
  func mutualTLS() async throws {
    let tls = GRPCTLSConfiguration.server(
      certificateChainPEM: certificates.serverChain, privateKeyPEM: certificates.serverKey,
      clientTrustRootsPEM: certificates.caPEM, requireClientCertificate: true)
    try await withTLSServer(tls) { target in
      let withCertificate = GRPCTLSConfiguration.client(
        trustRootsPEM: certificates.caPEM, certificateChainPEM: certificates.serverChain,
        privateKeyPEM: certificates.serverKey)
      let response = try await echoOnce(target, tls: withCertificate)
      #expect(response == Array("hello".utf8))
      await expectPromptFailure {
        _ = try await echoOnce(target, tls: .client(trustRootsPEM: certificates.caPEM))
      }
      let foreignCertificate = GRPCTLSConfiguration.client(
        trustRootsPEM: certificates.caPEM, certificateChainPEM: certificates.otherChain,
        privateKeyPEM: certificates.otherKey)
      await expectPromptFailure { _ = try await echoOnce(target, tls: foreignCertificate) }
    }
  }

  @Test("a server refuses an unusable key or certificate with a clear error")
  func invalidServerMaterial() {
    let cases: [GRPCTLSConfiguration] = [
      .server(certificateChainPEM: "not a certificate", privateKeyPEM: certificates.serverKey),
      .server(certificateChainPEM: certificates.serverChain, privateKeyPEM: "not a key"),
      .server(certificateChainPEM: certificates.serverChain, privateKeyPEM: certificates.otherKey),
      GRPCTLSConfiguration(trustRootsPEM: certificates.caPEM),
    ]
    for tls in cases {
      #expect {
        _ = try GRPCServer(listen: "127.0.0.1:0", handlers: handlers, logger: Self.logger, tls: tls)
      } throws: { error in
        guard case .invalidTLSConfiguration = error as? GRPCTransportError else { return false }
        return true
      }
    }
  }

  @Test("a TLS server on a port in use still reports bindFailed")
  func tlsPortInUse() async throws {
    try await withTLSServer(serverTLS) { target in
      #expect {
        _ = try GRPCServer(listen: target, handlers: handlers, logger: Self.logger, tls: serverTLS)
      } throws: { error in
        guard case .bindFailed = error as? GRPCTransportError else { return false }
        return true
      }
    }
  }

  @Test("GRPCDialer dials with CallOptions.tls: a coordinator behind a TLS listener")
  func dialerUsesTLS() async throws {
    let coordinator = Coordinator(
      configuration: CoordinatorConfiguration(
        clusterCount: 2, heartbeatInterval: .seconds(300), missCount: 2),
      clock: SystemClock(), logger: Self.logger)
    let listener = try GRPCServer(
      listen: "127.0.0.1:0",
      handlers: CoordinatorService.handlers(coordinator, secret: SecretCheck(secret: nil)),
      logger: Self.logger, tls: serverTLS, gracePeriod: .zero)
    let endpoint = try Endpoint(host: "127.0.0.1", port: listener.boundPort)
    let tlsDialer = GRPCDialer(
      options: CallOptions(timeout: .seconds(5), tls: .client(trustRootsPEM: certificates.caPEM)))
    let plainDialer = GRPCDialer(options: CallOptions(timeout: .seconds(5)))
    let (plainClusters, clusters) = await listener.withRunning {
      (
        try? await plainDialer.coordinator(at: endpoint).status().clusters.count,
        try? await tlsDialer.coordinator(at: endpoint).status().clusters.count
      )
    }
    tlsDialer.close()
    plainDialer.close()
    #expect(clusters == 2)
    #expect(plainClusters == nil, "a plaintext dialer reached the TLS coordinator")
  }
}
