import Foundation
import Testing

/// Whether scripts/chaos can run here (root, and the tools it uses), and was asked for: the runs still find
/// open bugs now and then (docs/RELIABILITY.md, "What it found"), so `make test` leaves them out until those
/// are fixed; `SNS_CHAOS_TESTS=1 swift test --filter ChaosTests` runs them.
let mayRunChaos =
  ProcessInfo.processInfo.environment["SNS_CHAOS_TESTS"] == "1" && getuid() == 0
  && ["/usr/sbin/ip", "/usr/sbin/nft", "/usr/bin/strace", "/usr/bin/setpriv"].allSatisfy {
    FileManager.default.isExecutableFile(atPath: $0)
  }

/// The chaos harness's CI schedule: `scripts/chaos` with fixed seeds, 40 s of faults each, in a private network
/// namespace. `kill` and `fsync` faults are left out: they find open bugs (docs/RELIABILITY.md, "What it
/// found"), and CI must be green on today's code. Every check must pass, and nothing may outlive the run (the namespace is
/// gone afterwards; processes, nftables rules and tmpfs mounts live only inside it).
@Suite(
  "Chaos (real processes, seeded faults)", .serialized,
  .enabled(
    if: mayRunChaos, "needs SNS_CHAOS_TESTS=1, root, ip, nft, strace and setpriv (scripts/install-deps)"))
struct ChaosTests {
  static let seeds: [UInt64] = [1, 2]

  static var script: String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("scripts/chaos").path
  }

  static let faults = "pause,partition,loss,disk"

  @Test("seeds 1 and 2, 40 s of pause, partition, loss and disk faults each: every check passes")
  func fixedSeeds() async throws {
    try SNSBinary.check()
    for seed in Self.seeds {
      let namespace = "sns-chaos-test-\(seed)-\(getpid())"
      let chaos = try await run(
        Self.script, ["--seed", "\(seed)", "--minutes", "0.67", "--faults", Self.faults],
        timeout: .seconds(600),
        environment: ["SNS_BINARY": SNSBinary.path, "SNS_CHAOS_NETNS": namespace])
      let report = chaos.output.split(separator: "\n").filter { !$0.hasPrefix("ts=") }.suffix(40)
      print(report.joined(separator: "\n"))
      #expect(chaos.status == 0, "seed \(seed): exit status \(chaos.status)")
      #expect(chaos.output.contains("result: PASS (seed \(seed))"), "seed \(seed) did not pass")
      let namespaces = try await run("/usr/sbin/ip", ["netns", "list"], timeout: .seconds(30))
      #expect(!namespaces.output.contains(namespace), "seed \(seed): namespace \(namespace) left behind")
    }
  }
}
