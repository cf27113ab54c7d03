import ArgumentParser
import Foundation
import SNSBench
import SNSCore
import SNSTransport

/// `sns bench SCENARIO`: runs benchmark scenarios on loopback; tables on stdout, progress on stderr.
struct BenchCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract:
      "Measure the system against the raw limits: \(BenchScenario.allCases.map(\.rawValue).joined(separator: ", ")) or all.",
    discussion: "Each scenario starts what it needs on loopback and stops it. See docs/BENCHMARKS.md.")

  @Argument(help: "baseline, post, sync, visibility, failover, footprint, catchup, or all.") var scenario:
    String
  @Flag(help: "Smaller counts and shorter runs (CI smoke: `all --quick` takes under 2 minutes).") var quick =
    false
  @Option(help: "Also write the reports as JSON to this file.") var json: String?
  @Option(help: "Drive this master (any csce438.SNSService) instead of starting ours (post only).")
  var target: Endpoint?
  @Option(
    help:
      "With --target: the deployment's coordinator, asked (GetServer) which cluster the target serves, so only its users log in."
  )
  var coordinator: Endpoint?
  @Option(
    help: "With --target and no --coordinator: the target's cluster and the number of clusters, e.g. 2/3.")
  var cluster: String?

  func validate() throws {
    guard scenario == "all" || BenchScenario(rawValue: scenario) != nil else {
      throw ValidationError("unknown scenario '\(scenario)'")
    }
    guard target != nil || (coordinator == nil && cluster == nil) else {
      throw ValidationError("--coordinator and --cluster describe a --target")
    }
    if let cluster { _ = try Self.parseCluster(cluster) }
  }

  /// `C/N`: cluster C of N.
  static func parseCluster(_ text: String) throws -> ClusterUsers {
    let parts = text.split(separator: "/").compactMap { Int($0) }
    guard parts.count == 2, parts[1] >= 1, (1...parts[1]).contains(parts[0]) else {
      throw ValidationError("--cluster '\(text)': expected CLUSTER/CLUSTERS, e.g. 2/3")
    }
    return ClusterUsers(cluster: parts[0], of: parts[1])
  }

  /// Which users may log in at the target: from --cluster, from the coordinator, or cluster 1 of 1.
  func targetUsers() async throws -> ClusterUsers {
    if let cluster { return try Self.parseCluster(cluster) }
    guard let coordinator, let target else { return ClusterUsers() }
    let dialer = GRPCDialer(options: CallOptions(timeout: .seconds(5)))
    defer { dialer.close() }
    do {
      return try await ClusterUsers.served(by: target, asking: dialer.coordinator(at: coordinator))
    } catch {
      fail("cannot tell which cluster \(target) serves from the coordinator at \(coordinator): \(error)")
    }
  }

  func run() async throws {
    let scenarios =
      scenario == "all" ? BenchScenario.allCases : [BenchScenario(rawValue: scenario)].compactMap { $0 }
    var settings = BenchSettings(
      quick: quick, target: target, executable: Self.executablePath,
      progress: { line in FileHandle.standardError.write(Data((line + "\n").utf8)) })
    settings.users = try await targetUsers()
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

  /// This binary, which the failover, footprint and catchup scenarios start as coordinator and servers.
  static var executablePath: String? {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
      ?? CommandLine.arguments.first.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
  }
}
