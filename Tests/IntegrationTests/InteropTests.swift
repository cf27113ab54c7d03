import Foundation
import SNSTestSupport
import Testing

/// Course clients and coordinators written in Python with grpcio, from the course protos exactly
/// (Tests/Interop/course-protos), against real `sns` processes.
@Suite("Interop with Python grpcio", .serialized)
struct InteropTests {
  static let interop = packageRoot.appendingPathComponent("Tests/Interop").path

  /// Generates the Python stubs into `directory`; fails the test with the generator's output otherwise.
  func generateStubs(into directory: String) async throws {
    let (status, output) = try await runToCompletion(
      "/bin/bash", ["\(Self.interop)/generate-python.sh", directory], timeout: .seconds(60))
    try #require(
      status == 0,
      "generating Python stubs failed (pip install -r Tests/Interop/requirements.txt):\n\(output)")
  }

  @Test("a Python course client logs in, follows, lists, posts and reads its timeline stream")
  func pythonClient() async throws {
    try await withLocalDeployment(syncInterval: "300ms", start: false) { deployment in
      try await generateStubs(into: "\(deployment.root)/stubs")
      try await deployment.start()
      let (status, output) = try await runToCompletion(
        "/usr/bin/env",
        [
          "python3", "\(Self.interop)/course_client.py", "\(deployment.root)/stubs",
          deployment.coordinatorAddress,
        ],
        timeout: .seconds(90))
      #expect(status == 0, "\(output)")
      #expect(output.contains("interop client ok"), "\(output)")
    }
  }

  @Test("sns client asks a Python CoordService for its master and works against it")
  func pythonCoordinator() async throws {
    try await withLocalDeployment(clusters: 1, start: false) { deployment in
      let root = deployment.root
      try await generateStubs(into: "\(root)/stubs")
      try await deployment.start()
      let master = try #require(
        try await deployment.status().cluster(1)?.servers.first { $0.role == "master" }?.address)
      let address = "127.0.0.1:\(freePort())"
      let coordinator = try await SNSProcess(
        name: "python-coordinator",
        arguments: ["python3", "\(Self.interop)/course_coordinator.py", "\(root)/stubs", address, master],
        directory: root, executable: "/usr/bin/env")
      defer { coordinator.signal(SIGKILL) }
      await expectEventually { coordinator.output.contains("listening") }
      let (status, output) = try await runSNS(["client", "--coordinator", address, "--user", "1", "list"])
      #expect(status == 0, "\(output)")
      #expect(
        output.contains("Command completed successfully") && output.contains("All users: 1"), "\(output)")
      #expect(coordinator.output.contains("GetServer(1) -> \(master)"))
      await coordinator.stop()
    }
  }
}
