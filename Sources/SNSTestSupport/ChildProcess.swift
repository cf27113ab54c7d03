import Foundation
import Subprocess
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// One child process (swift-subprocess) whose output goes to a log file, stopped for sure by ``stop(grace:)``:
/// the launcher of the integration tests, the benchmarks and the chaos harness.
///
/// It can be started again after it exited (the log is appended to), and signalled, paused and killed by
/// its pid while it runs. With `interactive`, lines can be written to its standard input.
package final class ChildProcess: Sendable {
  package struct Options: Sendable {
    /// Variables set on top of the inherited environment.
    package var environment: [String: String] = [:]
    /// Drops inherited `SNS_*` variables, for children a harness wires itself (a stray `SNS_SECRET_FILE` or
    /// `SNS_LOG_LEVEL` must not reach them).
    package var dropsInheritedSNSVariables = false
    package var workingDirectory: String?
    /// A pipe on standard input (``send(_:)``, ``closeInput()``); otherwise it reads /dev/null.
    package var interactive = false

    package init(
      environment: [String: String] = [:], dropsInheritedSNSVariables: Bool = false,
      workingDirectory: String? = nil, interactive: Bool = false
    ) {
      self.environment = environment
      self.dropsInheritedSNSVariables = dropsInheritedSNSVariables
      self.workingDirectory = workingDirectory
      self.interactive = interactive
    }
  }

  private struct State {
    var pid: Int32 = 0
    var running = false
    var termination: TerminationStatus?
    /// The write end of the standard-input pipe (interactive children).
    var input: Int32 = -1
    /// The task that waits on the child; it ends when the child has exited and been reaped.
    var waiter: Task<Void, Never>?
    var started = ContinuousClock.now
  }

  package let name: String
  package let executable: String
  package let arguments: [String]
  package let logPath: String
  package let options: Options
  private let state = Mutex(State())

  /// Starts `executable` with `arguments`, its output appended to `<directory>/<name>.log`.
  package init(
    name: String, executable: String, arguments: [String], directory: String, options: Options = Options()
  ) async throws {
    self.name = name
    self.executable = executable
    self.arguments = arguments
    self.options = options
    logPath = (directory as NSString).appendingPathComponent("\(name).log")
    try await start()
  }

  /// Starts the same command again, once it has exited; no effect while it runs.
  package func start() async throws {
    guard !isRunning else { return }
    await state.withLock { $0.waiter }?.value
    let log = open(logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
    guard log >= 0 else { throw ChildProcessError.cannotOpenLog(logPath, errno: errno) }
    var pipeEnds: [Int32] = [-1, -1]
    if options.interactive {
      guard pipe(&pipeEnds) == 0 else {
        close(log)
        throw ChildProcessError.cannotOpenLog("a pipe for \(name)'s input", errno: errno)
      }
      // Only the child gets the read end (as its standard input); no other child inherits either end.
      for end in pipeEnds { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
      // A child that stopped reading must not block the test that writes to it.
      _ = fcntl(pipeEnds[1], F_SETFL, fcntl(pipeEnds[1], F_GETFL) | O_NONBLOCK)
    }
    let configuration = Configuration(
      executable: .path(.init(executable)), arguments: Arguments(arguments), environment: environment(),
      workingDirectory: options.workingDirectory.map { .init($0) })
    let input: FileDescriptorInput? =
      options.interactive
      ? .fileDescriptor(.init(rawValue: pipeEnds[0]), closeAfterSpawningProcess: true) : nil
    let output = FileDescriptorOutput.fileDescriptor(.init(rawValue: log), closeAfterSpawningProcess: true)
    state.withLock { state in
      state.running = true
      state.started = ContinuousClock.now
      state.termination = nil
      if state.input >= 0 { close(state.input) }
      state.input = pipeEnds[1]
    }
    do {
      let pid = try await withCheckedThrowingContinuation {
        (continuation: CheckedContinuation<Int32, any Error>) in
        let once = Mutex(Optional(continuation))
        let report: @Sendable (Result<Int32, any Error>) -> Void = { result in
          once.withLock { pending in
            pending?.resume(with: result)
            pending = nil
          }
        }
        let waiter = Task { [self] in
          do {
            let result =
              if let input {
                try await Subprocess.run(
                  configuration, input: input, output: output, error: .combinedWithOutput
                ) {
                  report(.success($0.processIdentifier.value))
                }
              } else {
                try await Subprocess.run(
                  configuration, input: .none, output: output, error: .combinedWithOutput
                ) {
                  report(.success($0.processIdentifier.value))
                }
              }
            state.withLock { state in
              state.running = false
              state.termination = result.terminationStatus
            }
          } catch {
            state.withLock { $0.running = false }
            report(.failure(error))
          }
        }
        state.withLock { $0.waiter = waiter }
      }
      state.withLock { $0.pid = pid }
    } catch {
      closeInput()
      throw error
    }
  }

  private func environment() -> Environment {
    var variables = ProcessInfo.processInfo.environment
    if options.dropsInheritedSNSVariables { variables = variables.filter { !$0.key.hasPrefix("SNS_") } }
    variables.merge(options.environment) { _, new in new }
    var keyed: [Environment.Key: String] = [:]
    for (key, value) in variables {
      if let key = Environment.Key(rawValue: key) { keyed[key] = value }
    }
    return .custom(keyed)
  }

  package var pid: Int32 { state.withLock { $0.pid } }

  /// When the last start was requested.
  package var started: ContinuousClock.Instant { state.withLock { $0.started } }

  /// Whether the process still runs. An exited process not reaped yet (a zombie) counts as stopped: it holds
  /// no port, file or lock any more.
  package var isRunning: Bool {
    let (running, pid) = state.withLock { ($0.running, $0.pid) }
    return running && (pid == 0 || !ProcessState.hasExited(pid))
  }

  /// How it ended, once it has exited and been reaped.
  package var termination: TerminationStatus? { state.withLock { $0.termination } }

  /// The exit code, or 128 + the signal's number, once it has exited and been reaped (the shell's
  /// convention).
  package var exitStatus: Int32? {
    switch termination {
    case .exited(let code)?: code
    case .signaled(let signal)?: 128 + signal
    case nil: nil
    }
  }

  /// Sends `signal` while the process runs.
  package func signal(_ signal: Int32) {
    let pid = state.withLock { $0.running ? $0.pid : 0 }
    if pid > 0 { kill(pid, signal) }
  }

  /// kill -9, and waits (bounded) until it is gone.
  package func kill9() async {
    signal(SIGKILL)
    _ = await waitForExit(within: .seconds(10))
  }

  /// SIGTERM, then SIGKILL if it has not exited within `grace`. Returns once it is gone.
  package func stop(grace: Duration = .seconds(3)) async {
    signal(SIGTERM)
    if await waitForExit(within: grace) { return }
    signal(SIGKILL)
    // SIGKILL cannot be refused, but a process inside a slow system call (an fsync on a loaded disk) dies only
    // when the call returns: the bound is generous.
    _ = await waitForExit(within: .seconds(30))
  }

  /// Waits until the process has exited and been reaped, at most `timeout`.
  package func waitForExit(within timeout: Duration) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while state.withLock({ $0.running }) {
      if ContinuousClock.now > deadline { return false }
      try? await Task.sleep(for: .milliseconds(5))
    }
    return true
  }

  /// Writes `line` and a newline to standard input (interactive children); false if it could not.
  @discardableResult
  package func send(_ line: String) -> Bool {
    state.withLock { state in
      guard state.input >= 0 else { return false }
      let bytes = Array((line + "\n").utf8)
      return bytes.withUnsafeBytes { write(state.input, $0.baseAddress, $0.count) } == bytes.count
    }
  }

  /// Closes standard input: the child reads end of file.
  package func closeInput() {
    state.withLock { state in
      if state.input >= 0 { close(state.input) }
      state.input = -1
    }
  }

  /// Everything the process printed so far (every start's).
  package var output: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

  /// The last lines of the log, for error messages.
  package var logTail: String { output.split(separator: "\n").suffix(5).joined(separator: "\n") }

  /// The kernel's view of the process, for a failure message.
  package var kernelState: String { ProcessState.describe(pid) }

  /// Resident and peak resident set size in KiB, and of the resident set what is anonymous (the process's own
  /// heap and stacks, as opposed to the shared libraries' mapped code), from `/proc/<pid>/status`.
  package func memory() -> (rss: Int, peak: Int, anonymous: Int)? { ProcessState.memory(pid) }

  /// The processes of `processes` still running, with what the kernel says of each (empty if none).
  package static func describeRunning(_ processes: [String: ChildProcess]) -> String {
    processes.sorted { $0.key < $1.key }.filter { $0.value.isRunning }
      .map { "\($0.key): \($0.value.kernelState)" }.joined(separator: "; ")
  }

  /// The processes of `processes` that have exited, each with its status and last log lines (empty if none):
  /// why a deployment never became ready.
  package static func describeExited(_ processes: [String: ChildProcess]) -> String {
    processes.sorted { $0.key < $1.key }.filter { !$0.value.isRunning }
      .map {
        "\($0.key) exited (\($0.value.exitStatus.map { "\($0)" } ?? "status unknown")): \($0.value.logTail)"
      }
      .joined(separator: "\n")
  }
}

package enum ChildProcessError: Error, CustomStringConvertible {
  case cannotOpenLog(String, errno: Int32)

  package var description: String {
    switch self {
    case .cannotOpenLog(let path, let code): "cannot open \(path): \(String(cString: strerror(code)))"
    }
  }
}
