import SNSCore
import SNSSimulation
import Testing

@Suite("Deterministic simulation sweep")
struct SweepTests {
  @Test("200 seeds with the standard faults pass every checker")
  func ciSweep() async {
    let options = SimulationOptions()
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
