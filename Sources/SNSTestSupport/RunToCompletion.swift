import Foundation
import Subprocess

/// Runs a program to completion (SIGTERM after `timeout`, SIGKILL 5 s later) and returns its exit status
/// (128 + the signal's number if a signal ended it) and its combined output.
package func runToCompletion(
  _ executable: String, _ arguments: [String], timeout: Duration, environment: [String: String] = [:]
) async throws -> (status: Int32, output: String) {
  try await withTemporaryDirectory(prefix: "sns-run") { directory in
    let child = try await ChildProcess(
      name: "run", executable: executable, arguments: arguments, directory: directory,
      options: .init(environment: environment))
    if !(await child.waitForExit(within: timeout)) { await child.stop(grace: .seconds(5)) }
    return (child.exitStatus ?? -1, child.output)
  }
}
