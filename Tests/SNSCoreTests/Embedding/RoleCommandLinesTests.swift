import SNSCore
import Testing

@Suite("Role command lines")
struct RoleCommandLinesTests {
  let lines = RoleCommandLines(
    coordinatorAddress: "127.0.0.1:9000", heartbeat: RoleCommandLines.spelling(.milliseconds(1500)),
    missCount: 3, syncInterval: "300ms", timelinePoll: "50ms", secret: .file("/run/secret"))

  /// The value following `flag` in `arguments`, if the flag is there.
  func value(of flag: String, in arguments: [String]) -> String? {
    arguments.firstIndex(of: flag).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
  }

  @Test("each role gets its subcommand, the shared intervals, the secret file and its own listen address")
  func rolesAndSharedFlags() {
    let coordinator = lines.coordinator(clusters: 3, dataDirectory: "/data/coordinator")
    let server = lines.server(cluster: 2, id: 1, listen: "127.0.0.3:9001", machine: "/data/cluster_2")
    let synchronizer = lines.synchronizer(cluster: 2, listen: "127.0.0.3:9003", machine: "/data/cluster_2")
    #expect(
      coordinator.first == "coordinator" && server.first == "server" && synchronizer.first == "synchronizer")
    #expect(value(of: "--listen", in: coordinator) == "127.0.0.1:9000")
    #expect(value(of: "--listen", in: server) == "127.0.0.3:9001")
    #expect(value(of: "--heartbeat", in: server) == "1500ms")
    #expect(value(of: "--miss-count", in: coordinator) == "3")
    #expect(value(of: "--timeline-poll", in: server) == "50ms")
    #expect(value(of: "--sync-interval", in: synchronizer) == "300ms")
    #expect(value(of: "--coordinator", in: synchronizer) == "127.0.0.1:9000")
    #expect(value(of: "--data-dir", in: server) == "/data/cluster_2")
    for arguments in [coordinator, server, synchronizer] {
      #expect(value(of: "--secret-file", in: arguments) == "/run/secret")
      #expect(!arguments.contains("--insecure") && !arguments.contains("--metrics-listen"))
      #expect(value(of: "--log-level", in: arguments) == "info")
    }
  }

  @Test("--insecure instead of a secret file; metrics and a log level only where asked")
  func insecureMetricsAndLogLevel() {
    var insecure = lines
    insecure.secret = .insecure
    insecure.timelinePoll = nil
    let server = insecure.server(
      cluster: 1, id: 2, listen: "127.0.0.2:9002", machine: "/m", metricsListen: "127.0.0.2:9102",
      logLevel: "warning")
    #expect(server.contains("--insecure") && !server.contains("--secret-file"))
    #expect(!server.contains("--timeline-poll"))
    #expect(value(of: "--metrics-listen", in: server) == "127.0.0.2:9102")
    #expect(value(of: "--log-level", in: server) == "warning")
    #expect(!insecure.coordinator(clusters: 1, dataDirectory: nil).contains("--data-dir"))
  }
}
