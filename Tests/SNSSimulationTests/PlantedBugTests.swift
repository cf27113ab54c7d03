import SNSCore
import SNSSimulation
import Testing

@Suite("The checkers can fail")
struct PlantedBugTests {
  @Test("a master that acknowledges before mirroring is caught within 200 seeds, with a replayable seed")
  func acknowledgeBeforeMirror() async {
    let options = SimulationOptions(plantedBugs: .acknowledgeBeforeMirror)
    let summary = await SimulationSweep(options: options).run(from: 1, count: 200, stopAfterFailures: 3)
    let caught = summary.failures.first { $0.violation?.invariant == "acknowledged-writes-survive" }
    guard let caught, let violation = caught.violation else {
      Issue.record("the sweep did not notice acknowledged writes that only the master had")
      return
    }
    print("planted bug found: seed \(caught.seed): \(violation)")
    print(
      "replay: \(Simulation.replayCommand(seed: caught.seed, options: options)) (with the planted bug on)")
    // The seed alone replays the failure, trace and all.
    let replay = await Simulation.run(seed: caught.seed, options: options)
    #expect(replay.violation == violation)
    #expect(replay.trace == caught.trace)
  }

  @Test("a master that ignores request keys stores a retried post twice: the duplicate check catches it")
  func ignoreRequestKeys() async {
    let options = SimulationOptions(plantedBugs: .ignoreRequestKeys)
    let summary = await SimulationSweep(options: options).run(from: 1, count: 400, stopAfterFailures: 3)
    let caught = summary.failures.first { $0.violation?.invariant == "no-duplicate-posts" }
    guard let caught, let violation = caught.violation else {
      Issue.record("the sweep did not notice a post stored twice after a retry")
      return
    }
    print("planted bug found: seed \(caught.seed): \(violation)")
  }

  @Test("a catch-up answered in one reply whatever its size is caught by the message limit")
  func unpagedCatchUp() async {
    let options = SimulationOptions(plantedBugs: .unpagedCatchUp)
    let summary = await SimulationSweep(options: options).run(from: 1, count: 200, stopAfterFailures: 3)
    let caught = summary.failures.first { $0.violation?.invariant == "messages-within-limit" }
    guard let caught, let violation = caught.violation else {
      Issue.record("the sweep did not notice a catch-up reply over the message limit")
      return
    }
    print("planted bug found: seed \(caught.seed): \(violation)")
  }
}
