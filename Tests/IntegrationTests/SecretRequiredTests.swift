import Foundation
import Testing

/// Internal services refuse to start without a cluster secret, unless told to run without one.
@Suite("A cluster secret by default")
struct SecretRequiredTests {
  @Test(
    "coordinator, server and synchronizer without a secret exit with a clear error",
    arguments: [
      ["coordinator", "--listen", "127.0.0.1:0"],
      [
        "server", "--coordinator", "127.0.0.1:1", "--cluster", "1", "--id", "1", "--listen", "127.0.0.1:0",
        "--data-dir", "/nonexistent",
      ],
      [
        "synchronizer", "--coordinator", "127.0.0.1:1", "--cluster", "1", "--listen", "127.0.0.1:0",
        "--data-dir", "/nonexistent",
      ],
    ])
  func refusesWithoutSecret(_ arguments: [String]) async throws {
    let (status, output) = try await runSNS(
      arguments, timeout: .seconds(20), environment: ["SNS_SECRET_FILE": ""])
    #expect(status != 0, "\(output)")
    #expect(output.contains("need a cluster secret") && output.contains("--insecure"), "\(output)")
  }
}
