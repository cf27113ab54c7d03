import Foundation
import SNSTestSupport
import Testing

/// The launcher every harness shares (swift-subprocess): exit statuses, signals, restarts, input, environment.
@Suite("Child processes")
struct ChildProcessTests {
  @Test("an exit code and a signal are reported, and a restart appends to the same log")
  func exitStatusSignalAndRestart() async throws {
    try await withTemporaryDirectory { directory in
      let child = try await ChildProcess(
        name: "sh", executable: "/bin/sh", arguments: ["-c", "echo run; exit 3"], directory: directory)
      #expect(await child.waitForExit(within: .seconds(30)))
      #expect(child.exitStatus == 3)
      try await child.start()
      #expect(await child.waitForExit(within: .seconds(30)))
      #expect(child.output == "run\nrun\n")

      let sleeper = try await ChildProcess(
        name: "sleep", executable: "/bin/sleep", arguments: ["600"], directory: directory)
      #expect(sleeper.isRunning && sleeper.pid > 0)
      await sleeper.kill9()
      #expect(!sleeper.isRunning)
      #expect(sleeper.exitStatus == 128 + SIGKILL)
    }
  }

  @Test("lines sent to an interactive child reach its standard input; closing it ends the child")
  func interactiveInput() async throws {
    try await withTemporaryDirectory { directory in
      let cat = try await ChildProcess(
        name: "cat", executable: "/bin/cat", arguments: [], directory: directory,
        options: .init(interactive: true))
      #expect(cat.send("first"))
      #expect(cat.send("second"))
      cat.closeInput()
      #expect(await cat.waitForExit(within: .seconds(30)))
      #expect(cat.exitStatus == 0)
      #expect(cat.output == "first\nsecond\n")
      #expect(!cat.send("after the end"))
    }
  }

  @Test("variables are set on top of the environment, and inherited SNS_ ones can be dropped")
  func environment() async throws {
    try await withTemporaryDirectory { directory in
      setenv("SNS_CHILD_PROCESS_TEST", "inherited", 1)
      defer { unsetenv("SNS_CHILD_PROCESS_TEST") }
      let script = "echo \"[${SNS_CHILD_PROCESS_TEST:-unset}] [$EXTRA]\""
      let keeps = try await ChildProcess(
        name: "keeps", executable: "/bin/sh", arguments: ["-c", script], directory: directory,
        options: .init(environment: ["EXTRA": "x"]))
      let drops = try await ChildProcess(
        name: "drops", executable: "/bin/sh", arguments: ["-c", script], directory: directory,
        options: .init(environment: ["EXTRA": "y"], dropsInheritedSNSVariables: true))
      #expect(await keeps.waitForExit(within: .seconds(30)))
      #expect(await drops.waitForExit(within: .seconds(30)))
      #expect(keeps.output == "[inherited] [x]\n")
      #expect(drops.output == "[unset] [y]\n")
    }
  }

  @Test("a program that cannot be started is an error, not a running child")
  func missingExecutable() async throws {
    try await withTemporaryDirectory { directory in
      await #expect(throws: (any Error).self) {
        _ = try await ChildProcess(
          name: "missing", executable: "/nonexistent/sns", arguments: [], directory: directory)
      }
    }
  }
}
