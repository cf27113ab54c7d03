import SNSCore
import SNSSimulation
import Testing

@Suite("Deterministic simulation sweep")
struct SweepTests {
  /// Invariants whose violations are open findings, not yet fixed (see docs/SIMULATION.md, "Open findings").
  /// They are reported as known issues so CI stays green while they are worked on; any other violation fails.
  /// `acknowledged-writes-survive`: seeds 40 and 54 (a restarted master reuses a sequence its slave already holds
  /// from a write whose local append died in a crash; the slave's idempotent append keeps the orphan).
  static let openFindings: Set<String> = ["timeline-fan-out", "list", "acknowledged-writes-survive"]

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
      if Self.openFindings.contains(violation.invariant) {
        withKnownIssue("open finding", isIntermittent: true) { Issue.record(message) }
      } else {
        Issue.record(message)
      }
    }
  }
}
