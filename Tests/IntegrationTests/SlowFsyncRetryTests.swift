import Foundation
import SNSTestSupport
import Testing

/// A post whose reply is late (the master's fsyncs slowed past the client's call deadline) is retried by the
/// client with the same request key: it is stored once.
@Suite("Retries after a slow fsync", .serialized)
struct SlowFsyncRetryTests {
  @Test("one post, fsyncs delayed 6 s on the master (deadline 5 s): stored once on master and slave")
  func slowFsyncPostStoredOnce() async throws {
    try await withLocalDeployment(clusters: 1, missCount: 100) { deployment in
      #expect(try await deployment.client(1, ["post", "warm-up"]).status == 0)  // the timeline file exists
      let master = try #require(deployment.processes["server-1-1"]?.pid)
      let tracer = try await SNSProcess(
        name: "strace",
        arguments: [
          "-f", "-p", "\(master)", "-e", "trace=fsync,fdatasync", "-e",
          "inject=fsync,fdatasync:delay_exit=6000000",
        ], directory: deployment.root, executable: "/usr/bin/strace")
      deployment.processes["strace"] = tracer  // stopped with the deployment, whatever happens
      try await requireEventually(within: .seconds(10)) { tracer.output.contains("attached") }
      let posted = try await deployment.client(1, ["post", "typed once"])
      await tracer.stop()
      let files = ["master_1", "slave_2"].map { "\(deployment.dataDirectory(ofCluster: 1))/\($0)/1.timeline" }
      // Whatever the client was told, the files settle: every attempt has ended.
      try await Task.sleep(for: .seconds(7))
      for file in files {
        let lines = ((try? String(contentsOfFile: file, encoding: .utf8)) ?? "").split(separator: "\n")
        let copies = lines.filter { $0.hasSuffix(" typed once") }.count
        #expect(copies == 1, "\(file): \(copies) copies; client said (\(posted.status)): \(posted.output)")
      }
    }
  }
}
