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
  /// A slave joining a master that holds many posts: catch-up time, then kill -9 of the master.
  case catchup

  /// Whether `--target` applies (the scenario drives a master through WIRE.md's `SNSService`).
  public var acceptsTarget: Bool { self == .post }
}

/// Settings shared by every scenario.
public struct BenchSettings: Sendable {
  /// Smaller counts and shorter runs, so that `all` fits a CI smoke run.
  public var quick: Bool
  /// A master to drive instead of our own (client-facing scenarios only).
  public var target: Endpoint?
  /// Whose users the client-facing scenarios log in: all of them must belong to the master's cluster.
  public var users: ClusterUsers = ClusterUsers()
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
    case .catchup: report = try await CatchUpScenario(settings: settings).run()
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

/// The users of one cluster of `clusterCount`, in order: user `u` is in cluster `((u-1) mod N) + 1`.
public struct ClusterUsers: Hashable, Sendable {
  public var cluster: Int
  public var clusterCount: Int

  public init(cluster: Int = 1, of clusterCount: Int = 1) {
    self.cluster = cluster
    self.clusterCount = clusterCount
  }

  /// The `k`-th user of the cluster (from 1).
  public func user(_ k: Int) throws -> UserID { try UserID((k - 1) * clusterCount + cluster) }

  public func contains(_ user: UserID) -> Bool { (Int(user.value) - 1) % clusterCount + 1 == cluster }

  /// Which user of the cluster `user` is (from 1); only for users it ``contains(_:)``.
  public func index(_ user: UserID) -> Int { (Int(user.value) - cluster) / clusterCount + 1 }

  /// The users of the cluster whose master is `target`, found with the course's `GetServer` lookups (open to
  /// any client): users 1, 2, … are in clusters 1, 2, … until a user's master is user 1's again.
  public static func served(by target: Endpoint, asking coordinator: any CoordinatorPort) async throws
    -> ClusterUsers
  {
    let first = try await coordinator.master(forUser: try UserID(1)).endpoint
    var targetCluster = first == target ? 1 : nil
    for user in 2...1001 {
      let master = try await coordinator.master(forUser: try UserID(user)).endpoint
      if master == first {
        guard let targetCluster else { throw BenchError.setup("no cluster's master listens on \(target)") }
        return ClusterUsers(cluster: targetCluster, of: user - 1)
      }
      if master == target { targetCluster = user }
    }
    throw BenchError.setup("more than 1000 clusters?")
  }
}
