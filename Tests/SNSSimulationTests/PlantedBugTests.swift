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
    await expectCaught(.ignoreRequestKeys, by: "no-duplicate-posts", within: 400)
  }

  @Test("a master that ignores request keys stores a retried follow twice: the duplicate check catches it")
  func ignoreRequestKeysOfFollows() async {
    await expectCaught(.ignoreFollowKeys, by: "no-duplicate-follows", within: 200)
  }

  @Test("a catch-up answered in one reply whatever its size is caught by the message limit")
  func unpagedCatchUp() async {
    await expectCaught(.unpagedCatchUp, by: "messages-within-limit", within: 200, faults: .standardWithLimits)
  }

  @Test("a synchronizer that saves positions past undelivered items loses them at a restart: caught")
  func savePositionsPastPendingItems() async {
    await expectCaught(.savePositionsPastPendingItems, by: "timeline-fan-out", within: 200)
  }

  @Test("a store that acknowledges appends before fsyncing them loses them in a crash: caught")
  func acknowledgeBeforeFsync() async {
    await expectCaught(.acknowledgeBeforeFsync, by: "acknowledged-writes-survive", within: 200)
  }

  /// Sweeps seeds 1…`count` with `bug` planted and expects `invariant` to fail on one of them.
  func expectCaught(
    _ bug: PlantedBugs, by invariant: String, within count: Int, faults: SimulationFaults = .standard
  ) async {
    let options = SimulationOptions(faults: faults, plantedBugs: bug)
    // A planted bug may break other invariants first (a retry written under a new key can also be a write
    // its master refused), so the sweep goes on past those.
    let summary = await SimulationSweep(options: options).run(from: 1, count: count, stopAfterFailures: 50)
    guard let caught = summary.failures.first(where: { $0.violation?.invariant == invariant }),
      let violation = caught.violation
    else {
      Issue.record("no seed of 1…\(count) failed \(invariant) with the planted bug \(bug)")
      return
    }
    print("planted bug found: seed \(caught.seed): \(violation)")
  }
}
