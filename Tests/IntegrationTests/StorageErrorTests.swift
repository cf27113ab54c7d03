import Foundation
import SNSTestSupport
import Testing

/// Storage errors a real machine has, on the master of a running cluster: a failing fsync (EIO, injected
/// with strace) and a file system remounted read-only (EROFS). While they last the server goes on answering
/// reads; a post in their way is either refused and then on no server, or stored exactly once on both; once
/// the fault is gone, posts succeed again.
@Suite("Storage errors on a running master", .serialized)
struct StorageErrorTests {
  @Test("fsync fails with EIO on the master: reads go on, the post lands once or nowhere, writes resume")
  func fsyncFailsWithEIO() async throws {
    try await withLocalDeployment(clusters: 1, syncInterval: "200ms") { deployment in
      #expect(try await deployment.client(1, ["post", "before the fault"]).status == 0)
      let master = try #require(deployment.processes["server-1-1"]?.pid)
      let tracer = try await SNSProcess(
        name: "strace",
        arguments: [
          "-f", "-p", "\(master)", "-e", "trace=fsync,fdatasync", "-e", "inject=fsync,fdatasync:error=EIO",
        ], directory: deployment.root, executable: "/usr/bin/strace")
      deployment.processes["strace"] = tracer
      try await requireEventually(within: .seconds(10)) { tracer.output.contains("attached") }
      try await expectFaultHandled(
        deployment, text: "during failing fsyncs", masterLogs: "Input/output error"
      ) { await tracer.stop() }
    }
  }

  @Test(
    "the master's file system turns read-only: reads go on, the post lands once or nowhere, writes resume",
    .enabled(if: maySimulateFullDisks, "mounting a tmpfs needs root"))
  func readOnlyFileSystem() async throws {
    try await withLocalDeployment(clusters: 1, syncInterval: "200ms", start: false) { deployment in
      let path = "\(deployment.dataDirectory(ofCluster: 1))/master_1"
      try await withSmallDisk(at: path) { _ in
        try await deployment.start()
        #expect(try await deployment.client(1, ["post", "before the fault"]).status == 0)
        let readOnly = try await runToCompletion(
          "/bin/mount", ["-o", "remount,ro", path], timeout: .seconds(30))
        try #require(readOnly.status == 0, "remount ro: \(readOnly.output)")
        try await expectFaultHandled(
          deployment, text: "on a read-only disk", masterLogs: "Read-only file system"
        ) {
          let writable = try? await runToCompletion(
            "/bin/mount", ["-o", "remount,rw", path], timeout: .seconds(30))
          #expect(writable?.status == 0, "remount rw: \(writable?.output ?? "")")
        }
      }
    }
  }

  /// With the fault on: a post of `text` is started, reads are served, the master logs `masterLogs` (the
  /// fault did reach it), then `heal` ends the fault. Then the post is on both servers once or on neither
  /// (once if the client was told it succeeded), and a new post succeeds.
  func expectFaultHandled(
    _ deployment: LocalDeployment, text: String, masterLogs: String, heal: () async throws -> Void
  ) async throws {
    let poster = try await SNSProcess(
      name: "client-during-fault",
      arguments: ["client", "--coordinator", deployment.coordinatorAddress, "--user", "1", "post", text],
      directory: deployment.root)
    deployment.processes["client-during-fault"] = poster
    let master = try #require(deployment.processes["server-1-1"])
    await expectEventually(
      within: .seconds(20), "the master never met the fault: \(master.output.suffix(2000))"
    ) { master.output.contains(masterLogs) }
    let list = try await deployment.client(1, ["list"])
    #expect(list.status == 0 && list.output.contains("All users: 1"), "LIST during the fault: \(list.output)")
    try await heal()
    #expect(await poster.waitForExit(within: .seconds(60)), "the post never got an answer")
    let told = poster.exitStatus
    let machine = deployment.dataDirectory(ofCluster: 1)
    func copies(in directory: String) -> Int {
      let lines = ((try? String(contentsOfFile: "\(machine)/\(directory)/1.timeline", encoding: .utf8)) ?? "")
        .split(separator: "\n")
      return lines.filter { $0.hasSuffix(" \(text)") }.count
    }
    // What the master owes its own disk lands at its next heartbeats.
    let settled = await eventually(within: .seconds(20)) {
      copies(in: "master_1") == copies(in: "slave_2") && copies(in: "master_1") <= 1
        && (told != 0 || copies(in: "master_1") == 1)
    }
    #expect(
      settled,
      "master \(copies(in: "master_1")), slave \(copies(in: "slave_2")) copies; client (\(told.map(String.init) ?? "?")): \(poster.output)"
    )
    let after = try await deployment.client(1, ["post", "after the fault"])
    #expect(after.status == 0, "\(after.output)")
    #expect(copies(in: "master_1") <= 1)
  }
}
