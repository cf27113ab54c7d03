import Foundation
import SNSBench
import Testing

@Suite("bench reports")
struct BenchReportTests {
  @Test("a report prints its table, ratios with verdicts, and notes")
  func text() {
    var report = ScenarioReport(scenario: "post", title: "posts", columns: ["measurement", "ops/s"])
    report.rows = [["post", "1200"], ["echo", "24000"]]
    report.ratios = [BenchRatio(name: "post / echo", value: 0.05, goal: "≥ 0.50", met: false)]
    report.notes = ["noisy machine"]
    let lines = report.text.split(separator: "\n").map(String.init)
    #expect(lines.first == "== post: posts")
    #expect(lines.contains("  measurement  ops/s"))
    #expect(lines.contains("  post          1200"))
    #expect(lines.contains("  ratio post / echo = 0.050  goal ≥ 0.50: NOT MET"))
    #expect(lines.last == "  note: noisy machine")
  }

  @Test("the JSON run round-trips")
  func json() throws {
    var report = ScenarioReport(scenario: "sync", title: "t", columns: ["a"])
    report.metrics = ["sync.ratio": 1.02]
    let run = BenchRun(started: "now", machine: "m", quick: true, reports: [report])
    let decoded = try JSONDecoder().decode(BenchRun.self, from: try run.json())
    #expect(decoded.reports == [report])
  }

  @Test("the baseline scenario runs in-process with quick settings (smoke, no thresholds)")
  func baselineSmoke() async throws {
    let report = try await Bench.run(.baseline, settings: BenchSettings(quick: true))
    #expect(report.rows.count == 3)
    // How many operations finish depends on the machine's load: every ratio is either there or said to be
    // skipped, and none is negative or infinite.
    let skipped = report.notes.filter { $0.contains("ratio skipped") }.count
    #expect(report.ratios.count + skipped == 2, "\(report.ratios) \(report.notes)")
    #expect(report.ratios.allSatisfy { $0.value.isFinite && $0.value >= 0 })
  }
}
