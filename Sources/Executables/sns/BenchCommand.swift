import ArgumentParser
import Foundation
import SNSBench
import SNSCore

/// `sns bench SCENARIO`: runs benchmark scenarios on loopback; tables on stdout, progress on stderr.
struct BenchCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract:
      "Measure the system against the raw limits: \(BenchScenario.allCases.map(\.rawValue).joined(separator: ", ")) or all.",
    discussion: "Each scenario starts what it needs on loopback and stops it. See docs/BENCHMARKS.md.")

  @Argument(help: "baseline, post, sync, visibility, failover, footprint, or all.") var scenario: String
  @Flag(help: "Smaller counts and shorter runs (CI smoke: `all --quick` takes under 2 minutes).") var quick =
    false
  @Option(help: "Also write the reports as JSON to this file.") var json: String?
  @Option(help: "Drive this master (any csce438.SNSService) instead of starting ours (post only).")
  var target: Endpoint?

  func validate() throws {
    guard scenario == "all" || BenchScenario(rawValue: scenario) != nil else {
      throw ValidationError("unknown scenario '\(scenario)'")
    }
  }

  func run() async throws {
    let scenarios =
      scenario == "all" ? BenchScenario.allCases : [BenchScenario(rawValue: scenario)].compactMap { $0 }
    let settings = BenchSettings(
      quick: quick, target: target, executable: Self.executablePath,
      progress: { line in FileHandle.standardError.write(Data((line + "\n").utf8)) })
    let started = ISO8601DateFormatter().string(from: Date())
    print("sns bench \(scenario)\(quick ? " --quick" : "") — \(started) — \(Bench.machineDescription)")
    var reports: [ScenarioReport] = []
    var failed: [String] = []
    for scenario in scenarios {
      if target != nil, !scenario.acceptsTarget, self.scenario == "all" { continue }
      do {
        let report = try await Bench.run(scenario, settings: settings)
        reports.append(report)
        print("\n" + report.text)
      } catch {
        failed.append(scenario.rawValue)
        var report = ScenarioReport(scenario: scenario.rawValue, title: "FAILED", columns: ["error"])
        report.rows = [["\(error)"]]
        reports.append(report)
        print("\n" + report.text)
      }
    }
    if let json {
      let run = BenchRun(started: started, machine: Bench.machineDescription, quick: quick, reports: reports)
      do {
        try run.json().write(to: URL(fileURLWithPath: json))
      } catch { fail("cannot write \(json): \(error)") }
    }
    if !failed.isEmpty { fail("scenarios failed: \(failed.joined(separator: ", "))") }
  }

  /// This binary, which the failover and footprint scenarios start as coordinator and servers.
  static var executablePath: String? {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
      ?? CommandLine.arguments.first.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
  }
}
