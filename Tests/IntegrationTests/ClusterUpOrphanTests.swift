import Foundation
import SNSTestSupport
import Testing

/// However `sns cluster up` ends, no child outlives it.
@Suite("sns cluster up leaves no orphans", .serialized)
struct ClusterUpOrphanTests {
  @Test("kill -9 of cluster up: every child stops by itself")
  func supervisorKilled() async throws {
    try await withClusterUp(clusters: 1) { up in
      let pids = try up.pids()
      #expect(pids.count == 4, "\(pids)")
      up.process.signal(SIGKILL)
      #expect(await up.process.waitForExit(within: .seconds(10)))
      let gone = await eventually(within: .seconds(20)) { pids.values.allSatisfy { !processIsAlive($0) } }
      let left = pids.filter { processIsAlive($0.value) }
      #expect(gone, "children left after kill -9 of cluster up: \(left)")
    }
  }

  @Test("cluster up | head -n 1: the closed pipe does not kill it; SIGINT then stops every child")
  func closedStdout() async throws {
    let root = NSTemporaryDirectory() + "tinysns-up-pipe-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: root) }
    let data = "\(root)/data"
    let basePort = freePorts(span: 104)
    let command = [
      SNSBinary.path, "cluster", "up", "--clusters", "1", "--data-dir", data, "--base-port", "\(basePort)",
      "--heartbeat", "100ms", "--miss-count", "3", "--sync-interval", "300ms",
    ].map { "'\($0)'" }.joined(separator: " ")
    // `head` exits after the first line, so every later line `cluster up` prints meets a closed pipe.
    let shell = try await SNSProcess(
      name: "cluster-up-pipe", arguments: ["-c", "\(command) | head -n 1"], directory: root,
      executable: "/bin/sh")
    struct Record: Decodable {
      let supervisorPID: Int32
      let pids: [String: Int32]
    }
    func record() -> Record? {
      (try? Data(contentsOf: URL(fileURLWithPath: "\(data)/deployment.json")))
        .flatMap { try? JSONDecoder().decode(Record.self, from: $0) }
    }
    var seen: [Int32] = []
    defer {
      for pid in seen where processIsAlive(pid) { kill(pid, SIGKILL) }
      shell.signal(SIGKILL)
    }
    // Healthy means the supervisor printed its table (into the closed pipe) and kept running.
    let healthy = await eventually(within: .seconds(60)) {
      guard let current = record() else { return false }
      seen = Array(Set(seen + [current.supervisorPID] + Array(current.pids.values)))
      guard current.pids.count == 4 else { return false }
      let status = try? await runSNS(["cluster", "status", "--data-dir", data], timeout: .seconds(5))
      return status?.output.contains("synchronizer") == true && processIsAlive(current.supervisorPID)
    }
    try #require(healthy, "cluster up did not stay up with its output closed: \(shell.output)")
    try await Task.sleep(for: .seconds(1))  // it prints on; each line meets the closed pipe
    let supervisor = try #require(record()?.supervisorPID)
    try #require(processIsAlive(supervisor), "SIGPIPE killed cluster up")
    kill(supervisor, SIGINT)
    let stopped = await eventually(within: .seconds(30)) { seen.allSatisfy { !processIsAlive($0) } }
    #expect(stopped, "left running: \(seen.filter(processIsAlive))")
  }
}
