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
    let (status, output) = try await runSNS(
      ["bench", "all", "--quick", "--json", json], timeout: .seconds(180))
    #expect(status == 0, "\(output.suffix(2000))")
    for scenario in ["baseline", "post", "sync", "visibility", "failover", "footprint"] {
      #expect(output.contains("== \(scenario): "), "no table for \(scenario)")
    }
    #expect(!output.contains("FAILED"))
    let data = try #require(FileManager.default.contents(atPath: json))
    let run = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    let reports = try #require(run["reports"] as? [[String: Any]])
    #expect(reports.count == 6)
    for report in reports {
      let ratios = report["ratios"] as? [[String: Any]] ?? []
      #expect(!ratios.isEmpty, "no ratio in \(report["scenario"] ?? "?")")
    }
  }
}
