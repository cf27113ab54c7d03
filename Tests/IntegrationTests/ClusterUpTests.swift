import Foundation
import SNSTestSupport
import Testing

/// `sns cluster up` as a user runs it: one command, a status table, a client session, a killed master, ^C.
@Suite("sns cluster up", .serialized)
struct ClusterUpTests {
  @Test("up prints the table; a client session works; kill a master → promotion; SIGTERM → no child left")
  func upKillAndStop() async throws {
    try await withClusterUp(clusters: 3) { up in
      // The table: a coordinator row and, per cluster, master, slave and synchronizer with their pids.
      let output = up.process.output
      #expect(output.contains("CLUSTER  ROLE"), "\(output)")
      #expect(output.contains("LAST HEARTBEAT"))
      for cluster in 1...3 {
        #expect(output.contains("127.0.0.\(cluster + 1):\(up.basePort + 1)"))
      }
      let pids = try up.pids()
      #expect(pids.count == 10, "\(pids)")

      // A scripted client session: follow, post, list, timeline.
      #expect(try await up.client(1, ["list"]).status == 0)
      #expect(try await up.client(2, ["list"]).status == 0)
      await expectEventually {
        (try? await up.client(1, ["list"]).output.contains("All users: 1, 2")) ?? false
      }
      #expect(try await up.client(1, ["follow", "2"]).output.contains("Command completed successfully"))
      #expect(try await up.client(2, ["post", "hello from cluster up"]).status == 0)
      await expectEventually {
        (try? await up.client(2, ["list"]).output.contains("Followers: 1")) ?? false
      }
      await expectEventually {
        let timeline = try? await up.client(1, ["timeline", "--for", "500ms"])
        return timeline?.output.contains(") >> hello from cluster up") ?? false
      }

      // Kill cluster 1's master: the supervisor reports it, does not restart it, and the slave is promoted
      // in the next epoch (a coordinator's epochs start at its start time, so the number is read first).
      let before = try JSONDecoder().decode(
        LocalDeployment.Status.self, from: Data(try await up.status().utf8))
      let epoch = try #require(before.cluster(1)?.epoch) + 1
      let killed = try await runSNS([
        "cluster", "kill", "--cluster", "1", "--role", "master", "--data-dir", up.data,
      ])
      #expect(killed.status == 0, "\(killed.output)")
      #expect(killed.output.contains("SIGKILL"))
      let promoted = await eventually(within: .seconds(15)) {
        guard let status = try? await up.status() else { return false }
        let decoded = try? JSONDecoder().decode(LocalDeployment.Status.self, from: Data(status.utf8))
        return decoded?.cluster(1)?.master == 2 && decoded?.cluster(1)?.epoch == epoch
      }
      let statusAfterKill = (try? await up.status()) ?? "no status"
      #expect(promoted, "\(statusAfterKill)")
      await expectEventually { up.process.output.contains("exited unexpectedly") }
      await expectEventually("\(up.process.output)") {
        up.process.output.contains("-> cluster 1: server 2 promoted to master (epoch \(epoch))")
      }
      let table = try await runSNS(["cluster", "status", "--data-dir", up.data])
      #expect(table.output.contains("master        2"), "\(table.output)")
      #expect(try await up.client(1, ["post", "after failover"]).status == 0)

      // SIGTERM: every child stops, then the supervisor.
      up.process.signal(SIGTERM)
      #expect(await up.process.waitForExit(within: .seconds(30)))
      #expect(up.process.output.contains("stopped"))
      for (name, pid) in pids { #expect(!processIsAlive(pid), "\(name) (pid \(pid)) outlived cluster up") }
    }
  }
}

/// A running `sns cluster up` in a temporary directory, and ways to talk to it.
struct ClusterUp {
  let process: SNSProcess
  let root: String
  let basePort: Int
  var data: String { "\(root)/data" }
  var coordinator: String { "127.0.0.1:\(basePort)" }

  /// Children's pids from the deployment file, by name.
  func pids() throws -> [String: Int32] {
    struct Record: Decodable { let pids: [String: Int32] }
    let data = try Data(contentsOf: URL(fileURLWithPath: "\(data)/deployment.json"))
    return try JSONDecoder().decode(Record.self, from: data).pids
  }

  func client(_ user: Int, _ words: [String]) async throws -> (status: Int32, output: String) {
    try await runSNS(["client", "--coordinator", coordinator, "--user", "\(user)"] + words)
  }

  /// `sns cluster status --json`, as text.
  func status() async throws -> String {
    let (code, output) = try await runSNS(
      ["cluster", "status", "--json", "--data-dir", data], timeout: .seconds(5))
    guard code == 0 else { throw StatusError(output: output) }
    return output
  }

  struct StatusError: Error { let output: String }
}

/// Starts `sns cluster up` with short intervals, waits for its table, runs `body`, and stops it for sure
/// (the supervisor and, if it failed to, every child it recorded).
func withClusterUp(
  clusters: Int, extraArguments: [String] = [], _ body: (ClusterUp) async throws -> Void
) async throws {
  let root = NSTemporaryDirectory() + "tinysns-up-\(UUID().uuidString)"
  try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
  let basePort = freePorts(span: 104)
  let process = try await SNSProcess(
    name: "cluster-up",
    arguments: [
      "cluster", "up", "--clusters", "\(clusters)", "--data-dir", "\(root)/data", "--base-port",
      "\(basePort)",
      "--heartbeat", "100ms", "--miss-count", "3", "--sync-interval", "300ms", "--timeline-poll", "50ms",
    ] + extraArguments, directory: root)
  let up = ClusterUp(process: process, root: root, basePort: basePort)
  let recorded = { (try? up.pids()) ?? [:] }
  var lastKnown: [String: Int32] = [:]
  do {
    let ready = await eventually(within: .seconds(90), every: .milliseconds(100)) {
      up.process.output.contains("Tiny SNS is up") || !up.process.isRunning
    }
    guard ready, up.process.isRunning else { throw ClusterUpFailed(output: up.process.output) }
    lastKnown = recorded()
    try await body(up)
  } catch {
    print("---- cluster up ----\n\(up.process.output.suffix(4000))")
    lastKnown.merge(recorded()) { _, new in new }
    await up.process.stop(grace: .seconds(15))
    for pid in lastKnown.values where processIsAlive(pid) { kill(pid, SIGKILL) }
    throw error
  }
  await up.process.stop(grace: .seconds(15))
  for pid in lastKnown.values where processIsAlive(pid) { kill(pid, SIGKILL) }
  try? FileManager.default.removeItem(atPath: root)
}

struct ClusterUpFailed: Error, CustomStringConvertible {
  let output: String
  var description: String { "sns cluster up did not come up:\n\(output)" }
}

/// Whether `pid` is a live process (a zombie waiting to be reaped counts as gone).
func processIsAlive(_ pid: Int32) -> Bool {
  guard kill(pid, 0) == 0 else { return false }
  let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
  // The state is the first field after the parenthesised command name.
  guard let close = stat.lastIndex(of: ")") else { return true }
  return !stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
}
