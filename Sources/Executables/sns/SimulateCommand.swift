import ArgumentParser
import Foundation
import SNSSimulation

/// `sns simulate`: sweeps seeds of the deterministic simulation and reports failures with their replay command.
struct SimulateCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "simulate",
    abstract: "Run the deterministic simulation over many seeds and check its invariants.",
    discussion: """
      Each seed decides the topology, the workload and every fault. The same seed always prints the same \
      trace. Progress goes to stderr; the summary table (and traces) to stdout. See docs/SIMULATION.md.
      """
  )

  @Option(help: "How many seeds to run.")
  var seeds: Int = 1000

  @Option(name: .customLong("from"), help: "The first seed.")
  var first: UInt64 = 1

  @Option(help: "Clusters per run (2–5); by default each seed chooses.")
  var clusters: Int?

  @Option(
    help: ArgumentHelp(
      "Fault kinds, comma-separated: crash, torn, partition, drop, delay, duplicate, reorder, skew, pause, full, limits, coordinator, concurrent, synchronizer, harsh, amnesia; or standard (all but harsh and amnesia), all (standard and harsh), none. amnesia (coordinator restarts without stored roles) is opt-in (docs/SIMULATION.md)."
    ))
  var faults: String = "standard"

  @Option(help: "Steps of the fault phase per seed.")
  var steps: Int = SimulationOptions().steps

  @Flag(help: "Print every step of every seed (use with --seeds 1).")
  var trace = false

  @Option(help: "Seeds run at once.")
  var jobs: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)

  func validate() throws {
    guard seeds > 0 else { throw ValidationError("--seeds must be at least 1") }
    if let clusters, !(2...5).contains(clusters) { throw ValidationError("--clusters must be 2 to 5") }
    guard steps > 0 else { throw ValidationError("--steps must be at least 1") }
    do { _ = try SimulationFaults(parsing: faults) } catch { throw ValidationError("\(error)") }
  }

  func run() async throws {
    let options = SimulationOptions(
      clusterCount: clusters, faults: try SimulationFaults(parsing: faults), steps: steps, trace: trace)
    let sweep = SimulationSweep(options: options, concurrency: trace ? 1 : jobs)
    let total = seeds
    var done = 0
    let summary = await sweep.run(from: first, count: seeds) { report in
      done += 1
      if trace {
        print(report.trace.joined(separator: "\n"))
      }
      if let violation = report.violation {
        FileHandle.standardError.write(Data("seed \(report.seed) FAILED: \(violation)\n".utf8))
      } else if done % 100 == 0 || done == total {
        FileHandle.standardError.write(Data("\(done)/\(total) seeds\n".utf8))
      }
    }
    print(summary.table)
    guard let failure = summary.failures.first, let violation = failure.violation else { return }
    print("")
    print("FAILED: \(summary.failures.count) of \(summary.seeds) seeds")
    print("first failing seed: \(failure.seed)")
    let listed = summary.failures.prefix(20).map { String($0.seed) }.joined(separator: ", ")
    print("failing seeds: \(listed)\(summary.failures.count > 20 ? ", …" : "")")
    print("first violated invariant: \(violation)")
    print("replay: \(Simulation.replayCommand(seed: failure.seed, options: options))")
    throw ExitCode(1)
  }
}
