import Foundation
import SNSCore
import SNSTransport

#if canImport(Glibc)
  import Glibc
#endif

/// One child `sns` process, output to a log file, stopped for sure (SIGTERM, then SIGKILL) by ``stop()``.
package final class ChildProcess {
  package let name: String
  package let arguments: [String]
  package let executable: String
  package let logPath: String
  package private(set) var process: Process
  /// When the last start was requested.
  package private(set) var started = ContinuousClock.now

  package init(name: String, executable: String, arguments: [String], directory: String) throws {
    self.name = name
    self.executable = executable
    self.arguments = arguments
    logPath = "\(directory)/\(name).log"
    process = Process()
    try start()
  }

  /// Starts (or starts again, after it exited) the same command.
  package func start() throws {
    process = Process()
    if !FileManager.default.fileExists(atPath: logPath) {
      _ = FileManager.default.createFile(atPath: logPath, contents: nil)
    }
    let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
    try log.seekToEnd()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    // The bench wires its deployments itself: a stray SNS_SECRET_FILE or SNS_LOG_LEVEL must not reach them.
    process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SNS_") }
    process.standardOutput = log
    process.standardError = log
    process.standardInput = FileHandle.nullDevice
    started = ContinuousClock.now
    // The child has its own copy of the log's descriptor. The parent's is closed at once: kept, one leaked
    // per start, and the chaos harness (thousands of tool runs) crashed inside `Process.run()` after 23
    // minutes with that many open.
    defer { try? log.close() }
    try process.run()
  }

  package var pid: Int32 { process.processIdentifier }
  package var isRunning: Bool { process.isRunning }

  /// kill -9, and waits until it is gone.
  package func kill9() async {
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    _ = await waitForExit(within: .seconds(10))
  }

  /// SIGTERM, then SIGKILL after `grace`; returns once it is gone.
  package func stop(grace: Duration = .seconds(3)) async {
    if process.isRunning { kill(process.processIdentifier, SIGTERM) }
    if await waitForExit(within: grace) { return }
    await kill9()
  }

  package func waitForExit(within timeout: Duration) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while process.isRunning {
      if ContinuousClock.now > deadline { return false }
      try? await Task.sleep(for: .milliseconds(5))
    }
    return true
  }

  /// Resident and peak resident set size in KiB, from `/proc/<pid>/status`, and of the resident set what is
  /// anonymous (heap and stacks, the process's own data, as opposed to the shared libraries' mapped code).
  func memory() -> (rss: Int, peak: Int, anonymous: Int)? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    func field(_ name: String) -> Int? {
      guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else {
        return nil
      }
      return line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) }
    }
    guard let rss = field("VmRSS"), let peak = field("VmHWM"), let anonymous = field("RssAnon") else {
      return nil
    }
    return (rss, peak, anonymous)
  }

  /// The last lines of the log, for error messages.
  package var logTail: String {
    let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    return text.split(separator: "\n").suffix(5).joined(separator: "\n")
  }
}

/// Runs `body` with a scratch directory and a ``ProcessGroup`` in it, and stops every process it started,
/// whether `body` returns or throws.
func withProcessGroup<T>(
  _ settings: BenchSettings, _ name: String, _ body: (ProcessGroup, String) async throws -> T
) async throws -> T {
  try await withScratchDirectory(settings, name) { root in
    let group = try ProcessGroup(settings: settings, directory: root)
    do {
      let result = try await body(group, root)
      await group.stopAll()
      return result
    } catch {
      await group.stopAll()
      throw error
    }
  }
}

/// Processes of one scenario, stopped together (in reverse start order) at the end.
final class ProcessGroup {
  let executable: String
  let directory: String
  private(set) var children: [ChildProcess] = []

  init(settings: BenchSettings, directory: String) throws {
    guard let executable = settings.executable, FileManager.default.isExecutableFile(atPath: executable)
    else {
      throw BenchError.setup(
        "this scenario starts `sns` processes: no sns binary given (run it as `sns bench`)")
    }
    self.executable = executable
    self.directory = directory
  }

  @discardableResult
  func start(_ name: String, _ arguments: [String]) throws -> ChildProcess {
    let child = try ChildProcess(
      name: name, executable: executable, arguments: arguments, directory: directory)
    children.append(child)
    return child
  }

  func stopAll() async {
    for child in children.reversed() { await child.stop() }
  }

  /// `sns coordinator` with one cluster on 127.0.0.1.
  func startCoordinator(port: Int, heartbeat: Duration, missCount: Int) throws -> ChildProcess {
    try start(
      "coordinator",
      [
        "coordinator", "--listen", "127.0.0.1:\(port)", "--clusters", "1", "--heartbeat",
        "\(heartbeat.wholeMilliseconds)ms", "--miss-count", "\(missCount)", "--log-level", "warning",
        // A private deployment on loopback for the length of a scenario.
        "--insecure",
      ])
  }

  /// `sns server` of cluster 1.
  func startServer(
    id: Int, port: Int, coordinator: Int, dataDirectory: String, heartbeat: Duration, missCount: Int,
    logLevel: String = "warning"
  )
    throws -> ChildProcess
  {
    try start(
      "server-\(id)",
      [
        "server", "--coordinator", "127.0.0.1:\(coordinator)", "--cluster", "1", "--id", "\(id)", "--listen",
        "127.0.0.1:\(port)", "--data-dir", dataDirectory, "--heartbeat", "\(heartbeat.wholeMilliseconds)ms",
        "--miss-count", "\(missCount)", "--log-level", logLevel, "--insecure",
      ])
  }
}

extension ProcessGroup {
  /// `sns synchronizer` of cluster 1, logging each round (`sync round finished`).
  func startSynchronizer(port: Int, coordinator: Int, dataDirectory: String, syncInterval: Duration) throws
    -> ChildProcess
  {
    try start(
      "synchronizer-1",
      [
        "synchronizer", "--coordinator", "127.0.0.1:\(coordinator)", "--cluster", "1", "--listen",
        "127.0.0.1:\(port)", "--data-dir", dataDirectory, "--sync-interval",
        "\(syncInterval.wholeMilliseconds)ms", "--log-level", "info", "--insecure",
      ])
  }
}

extension ChildProcess {
  /// How often `text` occurs in the log so far.
  func logCount(of text: String) -> Int {
    let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    return log.components(separatedBy: text).count - 1
  }
}

/// A TCP port free on 127.0.0.1 right now: our transport binds port 0, and lets it go.
func freeLoopbackPort() async throws -> Int {
  let probe = try GRPCServer(listen: "127.0.0.1:0", handlers: [:], logger: LoopbackDeployment.logger)
  await probe.withRunning {}  // returns once the server is destroyed and its port let go
  return probe.boundPort
}
