import Foundation
import SNSTestSupport
import Testing

/// Whether scripts/chaos can run here (root, and the tools it uses) and was asked for: scripts/test runs it
/// on its own after the other integration tests (`SNS_CHAOS_TESTS=1`), so that their processes do not share
/// the two cores with it.
let mayRunChaos =
  ProcessInfo.processInfo.environment["SNS_CHAOS_TESTS"] == "1" && getuid() == 0
  && ["/usr/sbin/ip", "/usr/sbin/nft", "/usr/bin/strace", "/usr/bin/setpriv"].allSatisfy {
    FileManager.default.isExecutableFile(atPath: $0)
  }

/// The chaos harness's CI schedule: `scripts/chaos` with fixed seeds, 40 s of faults of every kind each, in a
/// private network namespace. Every check must pass, and nothing may outlive the run (the namespace is gone
/// afterwards; processes, nftables rules and tmpfs mounts live only inside it).
@Suite(
  "Chaos (real processes, seeded faults)", .serialized,
  .enabled(
    if: mayRunChaos, "needs SNS_CHAOS_TESTS=1, root, ip, nft, strace and setpriv (scripts/install-deps)"))
struct ChaosTests {
  static let seeds: [UInt64] = [1, 2]

  static var script: String { packageRoot.appendingPathComponent("scripts/chaos").path }

  static let faults = "kill,pause,partition,loss,disk,fsync"

  @Test("seeds 1 and 2, 40 s of kill, pause, partition, loss, disk and fsync faults each: every check passes")
  func fixedSeeds() async throws {
    try SNSBinary.check()
    for seed in Self.seeds {
      let namespace = "sns-chaos-test-\(seed)-\(getpid())"
      let chaos = try await runToCompletion(
        Self.script, ["--seed", "\(seed)", "--minutes", "0.67", "--faults", Self.faults],
        timeout: .seconds(600),
        environment: ["SNS_BINARY": SNSBinary.path, "SNS_CHAOS_NETNS": namespace])
      let report = chaos.output.split(separator: "\n").filter { !$0.hasPrefix("ts=") }.suffix(40)
      print(report.joined(separator: "\n"))
      #expect(chaos.status == 0, "seed \(seed): exit status \(chaos.status)")
      #expect(chaos.output.contains("result: PASS (seed \(seed))"), "seed \(seed) did not pass")
      let namespaces = try await runToCompletion("/usr/sbin/ip", ["netns", "list"], timeout: .seconds(30))
      #expect(!namespaces.output.contains(namespace), "seed \(seed): namespace \(namespace) left behind")
    }
  }
}
