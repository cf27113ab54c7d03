import SNSCore
import SNSSimulation
import Testing

@Suite("Deterministic simulation sweep")
struct SweepTests {
  /// Standard faults, and harsh mode (failures overlap within a cluster, outside the failure model; it found
  /// the orphan-record bugs, seeds 170 and 2967).
  @Test(
    "200 seeds pass every checker",
    arguments: [SimulationFaults.standard, SimulationFaults.standard.union(.harsh)])
  func ciSweep(faults: SimulationFaults) async {
    let options = SimulationOptions(faults: faults)
    let summary = await SimulationSweep(options: options).run(from: 1, count: 200)
    #expect(summary.seeds == 200)
    for failure in summary.failures {
      guard let violation = failure.violation else { continue }
      let message = Comment(
        rawValue:
          "seed \(failure.seed): \(violation)\nreplay: \(Simulation.replayCommand(seed: failure.seed, options: options))"
      )
      Issue.record(message)
    }
  }
}
