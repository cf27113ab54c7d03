import Foundation
import SNSCore

/// The scenarios of `sns bench`, in the order `all` runs them.
public enum BenchScenario: String, CaseIterable, Codable, Sendable {
  /// Raw unary echo over SNSTransport and a raw fsync'd append loop: the physical limits.
  case baseline
  /// Acknowledged posts (mirrored, fsynced on both servers) at concurrency 1 and 64.
  case post
  /// One synchronizer round with 1,000 new posts, over a small and a large history.
  case sync
  /// A post's ack to its arrival in a follower's timeline stream on another cluster.
  case visibility
  /// kill -9 of a master under load to the first acknowledged post on the new master.
  case failover
  /// RSS and restart time of a server holding many users and posts.
  case footprint

  /// Whether `--target` applies (the scenario drives a master through WIRE.md's `SNSService`).
  public var acceptsTarget: Bool { self == .post }
}

/// Settings shared by every scenario.
public struct BenchSettings: Sendable {
  /// Smaller counts and shorter runs, so that `all` fits a CI smoke run.
  public var quick: Bool
  /// A master to drive instead of our own (client-facing scenarios only).
  public var target: Endpoint?
  /// The `sns` binary, for the scenarios that start real processes (failover, footprint).
  public var executable: String?
  /// Where scenarios create (and remove) their temporary directories.
  public var scratchDirectory: String
  /// Receives progress lines (the command prints them on stderr).
  public var progress: @Sendable (String) -> Void

  /// Settings; `scratchDirectory` defaults to the system's temporary directory.
  public init(
    quick: Bool, target: Endpoint? = nil, executable: String? = nil,
    scratchDirectory: String = NSTemporaryDirectory(),
    progress: @escaping @Sendable (String) -> Void = { _ in }
  ) {
    self.quick = quick
    self.target = target
    self.executable = executable
    self.scratchDirectory = scratchDirectory
    self.progress = progress
  }

  /// `full` normally, `quick` under `--quick`.
  func pick<T>(full: T, quick: T) -> T { self.quick ? quick : full }
}

/// Runs benchmark scenarios.
public enum Bench {
  /// Runs one scenario: it starts what it needs on loopback, measures, stops everything and removes its files.
  public static func run(_ scenario: BenchScenario, settings: BenchSettings) async throws -> ScenarioReport {
    settings.progress("[\(scenario.rawValue)] starting\(settings.quick ? " (quick)" : "")")
    let started = ContinuousClock.now
    let report: ScenarioReport
    switch scenario {
    case .baseline: report = try await BaselineScenario(settings: settings).run()
    case .post: report = try await PostScenario(settings: settings).run()
    case .sync: report = try await SyncScenario(settings: settings).run()
    case .visibility: report = try await VisibilityScenario(settings: settings).run()
    case .failover: report = try await FailoverScenario(settings: settings).run()
    case .footprint: report = try await FootprintScenario(settings: settings).run()
    }
    settings.progress(
      "[\(scenario.rawValue)] done in \(BenchFormat.milliseconds((ContinuousClock.now - started).seconds))s")
    return report
  }

  /// Host name, CPU count and build kind, for reports.
  public static var machineDescription: String {
    #if DEBUG
      let build = "debug"
    #else
      let build = "release"
    #endif
    let info = ProcessInfo.processInfo
    return
      "\(info.hostName), \(info.activeProcessorCount) CPUs, \(info.operatingSystemVersionString), \(build) build"
  }
}

/// A scratch directory that is removed when the scenario ends, however it ends.
func withScratchDirectory<T>(
  _ settings: BenchSettings, _ name: String, _ body: (String) async throws -> T
) async throws -> T {
  let path = (settings.scratchDirectory as NSString).appendingPathComponent(
    "sns-bench-\(name)-\(UUID().uuidString.prefix(8))")
  try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(atPath: path) }
  return try await body(path)
}
