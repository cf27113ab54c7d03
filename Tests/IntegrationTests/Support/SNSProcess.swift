import Foundation
import SNSTestSupport

/// The package's root directory (this file is `Tests/IntegrationTests/Support/SNSProcess.swift`).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent().deletingLastPathComponent()

/// Where the `sns` binary under test is: `$SNS_BINARY`, else `<package>/.build/debug/sns`
/// (`scripts/test` builds it before the tests run).
enum SNSBinary {
  static var path: String {
    if let path = ProcessInfo.processInfo.environment["SNS_BINARY"] { return path }
    return packageRoot.appendingPathComponent(".build/debug/sns").path
  }

  struct Missing: Error, CustomStringConvertible {
    var description: String { "no sns binary at \(SNSBinary.path): run `swift build --product sns` first" }
  }

  static func check() throws {
    guard FileManager.default.isExecutableFile(atPath: path) else { throw Missing() }
  }
}

/// The launcher every harness shares, for `sns` children (or `executable`).
typealias SNSProcess = ChildProcess

extension ChildProcess {
  /// Starts `sns` (or `executable`) with `arguments`, its output in `<directory>/<name>.log`.
  convenience init(
    name: String, arguments: [String], directory: String, interactive: Bool = false,
    executable: String? = nil, environment: [String: String] = [:], workingDirectory: String? = nil
  ) async throws {
    if executable == nil { try SNSBinary.check() }
    try await self.init(
      name: name, executable: executable ?? SNSBinary.path, arguments: arguments, directory: directory,
      options: .init(environment: environment, workingDirectory: workingDirectory, interactive: interactive))
  }
}

/// Runs a one-shot `sns` command to completion and returns its exit status and output.
func runSNS(
  _ arguments: [String], timeout: Duration = .seconds(30), environment: [String: String] = [:]
) async throws -> (status: Int32, output: String) {
  try SNSBinary.check()
  return try await runToCompletion(SNSBinary.path, arguments, timeout: timeout, environment: environment)
}
