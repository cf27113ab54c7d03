import Foundation

/// Where the `sns` binary under test is: `$SNS_BINARY`, else `<package>/.build/debug/sns`
/// (`scripts/test` builds it before the tests run).
enum SNSBinary {
  static var path: String {
    if let path = ProcessInfo.processInfo.environment["SNS_BINARY"] { return path }
    let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    return package.appendingPathComponent(".build/debug/sns").path
  }

  struct Missing: Error, CustomStringConvertible {
    var description: String { "no sns binary at \(SNSBinary.path): run `swift build --product sns` first" }
  }

  static func check() throws {
    guard FileManager.default.isExecutableFile(atPath: path) else { throw Missing() }
  }
}

/// One child `sns` process whose output goes to a log file (or a pipe), stopped for sure at the end.
final class SNSProcess {
  let name: String
  let process = Process()
  let logPath: String
  let input: Pipe?

  init(
    name: String, arguments: [String], directory: String, interactive: Bool = false,
    executable: String? = nil,
    environment: [String: String] = [:], workingDirectory: String? = nil
  ) throws {
    if executable == nil { try SNSBinary.check() }
    self.name = name
    logPath = (directory as NSString).appendingPathComponent("\(name).log")
    _ = FileManager.default.createFile(atPath: logPath, contents: nil)
    let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
    process.executableURL = URL(fileURLWithPath: executable ?? SNSBinary.path)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
    if let workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory) }
    process.standardOutput = log
    process.standardError = log
    if interactive {
      let pipe = Pipe()
      process.standardInput = pipe
      input = pipe
    } else {
      process.standardInput = FileHandle.nullDevice
      input = nil
    }
    try process.run()
  }

  var pid: Int32 { process.processIdentifier }
  /// Whether the process still runs. An exited process the reaper has not collected yet (a zombie, which a
  /// loaded machine can leave for a while) counts as stopped: it holds no port, file or lock any more.
  var isRunning: Bool { process.isRunning && !ProcessState.hasExited(pid) }

  /// The exit status once Foundation has reaped the process; `nil` before (reading `terminationStatus` then
  /// traps).
  var exitStatus: Int32? { process.isRunning ? nil : process.terminationStatus }

  /// The kernel's view of the process, for a failure message: `/proc/<pid>/stat`'s state and wait channel.
  var kernelState: String { ProcessState.describe(pid) }

  /// Everything the process printed so far.
  var output: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

  func send(_ line: String) {
    input?.fileHandleForWriting.write(Data((line + "\n").utf8))
  }

  func closeInput() { try? input?.fileHandleForWriting.close() }

  func signal(_ signal: Int32) {
    if process.isRunning { kill(process.processIdentifier, signal) }
  }

  /// The processes of `processes` still running, with what the kernel says of each (empty if none).
  static func describeRunning(_ processes: [String: SNSProcess]) -> String {
    processes.sorted { $0.key < $1.key }.filter { $0.value.isRunning }
      .map { "\($0.key): \($0.value.kernelState)" }.joined(separator: "; ")
  }

  /// SIGTERM, then SIGKILL if it has not exited within `grace`. Returns once it is gone.
  func stop(grace: Duration = .seconds(3)) async {
    signal(SIGTERM)
    if await waitForExit(within: grace) { return }
    signal(SIGKILL)
    // SIGKILL cannot be refused, but a process inside a slow system call (an fsync on a loaded disk) dies only
    // when the call returns: the bound is generous.
    _ = await waitForExit(within: .seconds(30))
  }

  /// Waits until Foundation has reaped the process (so ``exitStatus`` has its status), at most `timeout`.
  func waitForExit(within timeout: Duration) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while process.isRunning {
      if ContinuousClock.now > deadline { return false }
      try? await Task.sleep(for: .milliseconds(20))
    }
    return true
  }
}

/// What `/proc` says of a child process.
enum ProcessState {
  /// The third field of `/proc/<pid>/stat` (after the parenthesised command name), e.g. `S`, `D`, `Z`.
  static func state(_ pid: Int32) -> Character? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
      let close = stat.lastIndex(of: ")")
    else { return nil }
    return stat[stat.index(after: close)...].first { $0 != " " }
  }

  /// Gone, or a zombie waiting to be reaped.
  static func hasExited(_ pid: Int32) -> Bool {
    guard let state = state(pid) else { return true }
    return state == "Z" || state == "X"
  }

  static func describe(_ pid: Int32) -> String {
    let wchan = (try? String(contentsOfFile: "/proc/\(pid)/wchan", encoding: .utf8)) ?? "?"
    return "pid \(pid) state \(state(pid).map(String.init) ?? "gone") wchan \(wchan)"
  }
}

/// Runs a one-shot `sns` command to completion and returns its exit status and output.
func runSNS(
  _ arguments: [String], timeout: Duration = .seconds(30), environment: [String: String] = [:]
) async throws -> (status: Int32, output: String) {
  try SNSBinary.check()
  return try await run(SNSBinary.path, arguments, timeout: timeout, environment: environment)
}

/// Runs any program to completion (killed after `timeout`) and returns its exit status and output.
func run(
  _ executable: String, _ arguments: [String], timeout: Duration, environment: [String: String] = [:]
) async throws -> (status: Int32, output: String) {
  // Output goes to a file, not a pipe: a pipe nobody reads while the program runs blocks it once full.
  let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent(
    "sns-run-\(UUID().uuidString)")
  guard FileManager.default.createFile(atPath: outputPath.path, contents: nil) else {
    throw CocoaError(.fileWriteUnknown)
  }
  defer { try? FileManager.default.removeItem(at: outputPath) }
  let output = try FileHandle(forWritingTo: outputPath)
  defer { try? output.close() }
  let process = Process()
  process.executableURL = URL(fileURLWithPath: executable)
  process.arguments = arguments
  process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
  process.standardOutput = output
  process.standardError = output
  process.standardInput = FileHandle.nullDevice
  try process.run()
  var deadline = ContinuousClock.now + timeout
  var terminated = false
  // Polled with Task.sleep: `waitUntilExit` would block a cooperative thread for as long as the program runs.
  while process.isRunning {
    if ContinuousClock.now > deadline {
      if terminated {
        kill(process.processIdentifier, SIGKILL)
      } else {
        process.terminate()
        terminated = true
        deadline = ContinuousClock.now + .seconds(5)
      }
    }
    try? await Task.sleep(for: .milliseconds(10))
  }
  process.waitUntilExit()  // already exited: returns at once
  let data = (try? Data(contentsOf: outputPath)) ?? Data()
  return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Polls `condition` until it holds or `timeout` passes.
func eventually(
  within timeout: Duration = .seconds(15), every interval: Duration = .milliseconds(50),
  _ condition: () async throws -> Bool
) async rethrows -> Bool {
  let deadline = ContinuousClock.now + timeout
  while ContinuousClock.now < deadline {
    if try await condition() { return true }
    try? await Task.sleep(for: interval)
  }
  return try await condition()
}

/// A TCP port free on `host` right now (the kernel picks it).
func freePort(host: String) -> Int {
  let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
  defer { close(fd) }
  var address = sockaddr_in()
  address.sin_family = sa_family_t(AF_INET)
  address.sin_port = 0
  inet_pton(AF_INET, host, &address.sin_addr)
  let bound = withUnsafePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
      bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
    }
  }
  guard bound == 0 else { return 0 }
  var length = socklen_t(MemoryLayout<sockaddr_in>.size)
  withUnsafeMutablePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(fd, $0, &length) }
  }
  return Int(UInt16(bigEndian: address.sin_port))
}
