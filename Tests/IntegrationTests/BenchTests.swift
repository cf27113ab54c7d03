import Foundation
import Testing

/// CI smoke of `sns bench all --quick`: every scenario runs, prints its table and ratios, and stops what it
/// started. No speed thresholds: the machines are shared and noisy.
@Suite("sns bench", .serialized)
struct BenchTests {
  @Test("bench all --quick prints every scenario's table and ratio")
  func allQuick() async throws {
    let json = NSTemporaryDirectory() + "sns-bench-\(UUID().uuidString).json"
    defer { try? FileManager.default.removeItem(atPath: json) }
    // A stray secret in the environment must not reach the bench's own deployments.
    let secret = NSTemporaryDirectory() + "sns-bench-stray-secret-\(UUID().uuidString)"
    try "not the bench's secret\n".write(toFile: secret, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: secret) }
    let (status, output) = try await runSNS(
      ["bench", "all", "--quick", "--json", json], timeout: .seconds(600),
      environment: ["SNS_SECRET_FILE": secret])
    #expect(status == 0, "\(output.suffix(2000))")
    for scenario in ["baseline", "post", "sync", "visibility", "failover", "footprint", "catchup"] {
      #expect(output.contains("== \(scenario): "), "no table for \(scenario)")
    }
    #expect(!output.contains("FAILED"))
    let data = try #require(FileManager.default.contents(atPath: json))
    let run = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    let reports = try #require(run["reports"] as? [[String: Any]])
    #expect(reports.count == 7)
    for report in reports {
      let ratios = report["ratios"] as? [[String: Any]] ?? []
      // A ratio over a run that completed nothing is skipped, and the report says so.
      let skipped = (report["notes"] as? [String] ?? []).contains { $0.contains("ratio skipped") }
      #expect(!ratios.isEmpty || skipped, "no ratio in \(report["scenario"] ?? "?")")
    }
  }

  @Test(
    "bench post --target a master of a 3-cluster deployment, twice: only that cluster's users, new ones each run"
  )
  func targetTwice() async throws {
    try await withClusterUp(clusters: 3) { up in
      let target = "127.0.0.3:\(up.basePort + 1)"  // cluster 2's first master
      for run in 1...2 {
        let (status, output) = try await runSNS(
          ["bench", "post", "--quick", "--target", target, "--coordinator", up.coordinator],
          timeout: .seconds(120))
        #expect(status == 0, "run \(run): \(output.suffix(2000))")
        #expect(!output.contains("FAILED"), "run \(run): \(output.suffix(2000))")
        #expect(output.contains("post (acked)"), "run \(run): \(output.suffix(2000))")
      }
    }
  }
}
