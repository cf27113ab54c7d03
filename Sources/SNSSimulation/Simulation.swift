import SNSCore

/// Which faults a simulation run may inject. Parsed from `sns simulate --faults crash,partition,…`.
public struct SimulationFaults: OptionSet, Hashable, Sendable {
  public let rawValue: Int
  public init(rawValue: Int) { self.rawValue = rawValue }

  /// A server process dies (kill -9) and restarts later over the same directory.
  public static let crash = SimulationFaults(rawValue: 1 << 0)
  /// A server dies inside a write: its directory keeps what was fsynced and a seed-chosen part of the rest,
  /// torn anywhere, as after a power cut.
  public static let torn = SimulationFaults(rawValue: 1 << 1)
  /// Links cut: client↔master, master↔slave, server↔coordinator, F↔F.
  public static let partition = SimulationFaults(rawValue: 1 << 2)
  /// Calls fail before reaching the receiver, or their reply is lost after it acted.
  public static let drop = SimulationFaults(rawValue: 1 << 3)
  /// Calls take virtual time (the whole world's clock moves while one waits).
  public static let delay = SimulationFaults(rawValue: 1 << 4)
  /// Server-to-server, heartbeat and sync calls arrive twice.
  public static let duplicate = SimulationFaults(rawValue: 1 << 5)
  /// Mirror, heartbeat and sync calls leave a copy that arrives later, after newer ones.
  public static let reorder = SimulationFaults(rawValue: 1 << 6)
  /// Every process has its own clock offset.
  public static let skew = SimulationFaults(rawValue: 1 << 7)
  /// A server freezes (no heartbeats, no answers) and resumes with its old in-memory state: a zombie master.
  public static let pause = SimulationFaults(rawValue: 1 << 8)
  /// Breaks the assumption of at most one failure per cluster at a time: failures overlap.
  public static let harsh = SimulationFaults(rawValue: 1 << 9)
  /// A server's disk fills up for a while: every append and rewrite in its directory fails with ENOSPC and
  /// writes nothing, and the process lives on.
  public static let full = SimulationFaults(rawValue: 1 << 10)

  /// Messages between processes are limited in size as gRPC limits them, at a small scale: transfers page at
  /// 128–1,024 bytes (by the seed) and no message may exceed twice its page plus 512 bytes, so backlogs,
  /// catch-ups and sync batches take many pages, and one that does not page is caught
  /// (`messages-within-limit`).
  public static let limits = SimulationFaults(rawValue: 1 << 11)
  /// The coordinator process dies (kill -9) and a new one starts at the same address 50–600 ms later, over
  /// the roles its previous run stored, as `sns coordinator --data-dir` does.
  public static let coordinator = SimulationFaults(rawValue: 1 << 12)
  /// Coordinator restarts as ``coordinator``, but with nothing stored: the new process knows only what
  /// heartbeats and registrations tell it, as `sns coordinator` without `--data-dir`. Not in ``standard``
  /// (nor in `all`): it still finds lost writes (docs/SIMULATION.md).
  public static let amnesia = SimulationFaults(rawValue: 1 << 13)

  /// Several users' client commands run at once and interleave at every call between processes, in an
  /// order the seed picks: the servers' actors are entered again while a command waits (reentrancy).
  public static let concurrent = SimulationFaults(rawValue: 1 << 14)

  /// kill -9 of a cluster's synchronizer, and a new process later over the same directories: it resumes from
  /// the progress the last one saved (cursors and positions), with nothing of its memory.
  public static let synchronizer = SimulationFaults(rawValue: 1 << 15)

  /// A cluster's machine loses power: both servers and the synchronizer die at once, and each server
  /// directory keeps only what was fsynced (and a seed-chosen, torn part of the rest). All restart later.
  public static let power = SimulationFaults(rawValue: 1 << 16)

  /// Everything except ``harsh`` and ``amnesia``: what CI sweeps.
  public static let standard: SimulationFaults = [
    .crash, .torn, .partition, .drop, .delay, .duplicate, .reorder, .skew, .pause, .full, .limits,
    .coordinator, .concurrent, .synchronizer, .power,
  ]

  /// The standard faults before power cuts joined them.
  public static let standardWithoutPower = standard.subtracting([.power])

  /// The standard faults before concurrent commands joined them.
  public static let standardWithoutConcurrency = standard.subtracting([.concurrent, .synchronizer, .power])

  // Regression seeds replay the run they were found in with the faults of then.

  /// The standard faults with message limits, as the regression seeds found with them ran (before
  /// coordinator restarts joined them).
  public static let standardWithLimits = standard.subtracting([
    .coordinator, .concurrent, .synchronizer, .power,
  ])

  /// The standard faults before message limits joined them.
  public static let standardWithoutLimits = standard.subtracting([
    .limits, .coordinator, .concurrent, .synchronizer, .power,
  ])

  /// The standard faults before full disks and message limits joined them.
  public static let standardWithoutFullDisks = standard.subtracting([
    .full, .limits, .coordinator, .concurrent, .synchronizer, .power,
  ])

  /// Names as the command line spells them, in a fixed order.
  public static let names: [(String, SimulationFaults)] = [
    ("crash", .crash), ("torn", .torn), ("partition", .partition), ("drop", .drop), ("delay", .delay),
    ("duplicate", .duplicate), ("reorder", .reorder), ("skew", .skew), ("pause", .pause), ("harsh", .harsh),
    ("full", .full), ("limits", .limits), ("coordinator", .coordinator),
    ("amnesia", .amnesia), ("concurrent", .concurrent), ("synchronizer", .synchronizer),
    ("power", .power),
  ]

  /// Parses `crash,partition` (also `standard`, `all`, `none`). Returns `nil` naming the unknown word.
  public init(parsing text: String) throws(SimulationError) {
    var faults: SimulationFaults = []
    for word in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() })
    where !word.isEmpty {
      switch word {
      case "standard": faults.formUnion(.standard)
      case "all": faults.formUnion(.standard.union(.harsh))
      case "none": continue
      default:
        guard let match = Self.names.first(where: { $0.0 == word }) else {
          throw .unknownFault(word)
        }
        faults.insert(match.1)
      }
    }
    self = faults
  }

  /// The comma-separated names, as `--faults` takes them.
  public var spelled: String {
    let words = Self.names.filter { contains($0.1) }.map(\.0)
    return words.isEmpty ? "none" : words.joined(separator: ",")
  }
}

/// A bad simulation option.
public enum SimulationError: Error, Hashable, Sendable, CustomStringConvertible {
  case unknownFault(String)
  case invalidClusterCount(Int)
  public var description: String {
    switch self {
    case .unknownFault(let word):
      "unknown fault '\(word)'; known: \(SimulationFaults.names.map(\.0).joined(separator: ", ")), standard, all"
    case .invalidClusterCount(let count): "invalid cluster count \(count): expected 2 to 5"
    }
  }
}

/// How to run one seed. Everything not here is decided by the seed.
public struct SimulationOptions: Hashable, Sendable {
  /// Clusters; `nil` lets the seed choose 2–5.
  public var clusterCount: Int?
  public var faults: SimulationFaults
  /// Steps of the fault phase (client commands, timer ticks, faults), before healing and checking.
  public var steps: Int
  /// Bugs switched on in every server, to show the checkers catch them (never in deployment).
  public var plantedBugs: PlantedBugs
  /// Keep the readable trace of every step (otherwise only the last lines, for failures).
  public var trace: Bool

  public init(
    clusterCount: Int? = nil, faults: SimulationFaults = .standard, steps: Int = 300,
    plantedBugs: PlantedBugs = [], trace: Bool = false
  ) {
    self.clusterCount = clusterCount
    self.faults = faults
    self.steps = steps
    self.plantedBugs = plantedBugs
    self.trace = trace
  }
}

/// The first invariant a run broke.
public struct SimulationViolation: Hashable, Sendable, CustomStringConvertible {
  /// Which invariant, by its short name (see `docs/SIMULATION.md`).
  public let invariant: String
  public let detail: String
  /// The step after which it was found (`nil`: at the final check).
  public let step: Int?
  public var description: String {
    "\(invariant) (\(step.map { "after step \($0)" } ?? "at the final check")): \(detail)"
  }
}

/// What one seed did and found.
public struct SimulationReport: Hashable, Sendable {
  public let seed: UInt64
  public let clusterCount: Int
  public let steps: Int
  /// Injected faults by kind, sorted by kind.
  public let faults: [String: Int]
  public let violation: SimulationViolation?
  /// The readable trace: every step when ``SimulationOptions/trace`` is on, else the tail before a failure.
  public let trace: [String]
  /// Acknowledged client writes, for the summary.
  public let acknowledgedWrites: Int
}

/// The deterministic simulation of a whole Tiny SNS: coordinator, clusters of master, slave and synchronizer,
/// clients, on a simulated network, disk and clock, all decided by one seed.
public enum Simulation {
  /// Runs one seed to completion. The same seed and options always give the same report, byte for byte.
  public static func run(seed: UInt64, options: SimulationOptions = SimulationOptions()) async
    -> SimulationReport
  {
    await SimulationExecutor.run(name: "sns-simulation") { executor in
      let world = SimulationWorld(seed: seed, options: options, executor: executor)
      return await world.run()
    }
  }

  /// The command that replays `seed` with a readable trace.
  public static func replayCommand(seed: UInt64, options: SimulationOptions) -> String {
    var command = "swift run sns simulate --from \(seed) --seeds 1 --trace"
    if let clusters = options.clusterCount { command += " --clusters \(clusters)" }
    if options.faults != .standard { command += " --faults \(options.faults.spelled)" }
    if options.steps != SimulationOptions().steps { command += " --steps \(options.steps)" }
    return command
  }
}
