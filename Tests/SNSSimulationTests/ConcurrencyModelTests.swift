import SNSSimulation
import Testing

/// The `concurrent` fault: several commands and timers at once, interleaved by the seed on one thread.
@Suite("Concurrent commands in the simulation")
struct ConcurrencyModelTests {
  @Test("concurrent steps replay byte for byte, retries meet first attempts still in flight, and all pass")
  func interleavingsReplay() async {
    let options = SimulationOptions(faults: .standard, trace: true)
    var deadlines = 0
    var retriesMetFirstAttempts = 0
    for seed in UInt64(1)...20 {
      let first = await Simulation.run(seed: seed, options: options)
      let again = await Simulation.run(seed: seed, options: options)
      let replayed = first.trace == again.trace
      #expect(replayed, "seed \(seed) did not replay")
      #expect(first.violation == nil, "seed \(seed): \(String(describing: first.violation))")
      deadlines += first.faults["deadline"] ?? 0
      retriesMetFirstAttempts += first.trace.filter { $0.contains("still being written") }.count
      #expect(first.trace.contains { $0.contains("concurrently:") }, "seed \(seed) ran nothing concurrently")
    }
    // A client gave up at its deadline while the server went on, and its retry found the first attempt
    // still being written: only concurrent tasks can do that.
    #expect(deadlines > 0)
    #expect(retriesMetFirstAttempts > 0)
  }
}
