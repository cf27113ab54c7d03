import Foundation
import SNSCore
import SNSSimulation
import Testing

@Suite("Same seed, same trace")
struct DeterminismTests {
  @Test("a seed run twice gives the same trace, byte for byte", arguments: [UInt64(7), 42, 1234])
  func sameSeedSameTrace(seed: UInt64) async {
    let options = SimulationOptions(trace: true)
    let first = await Simulation.run(seed: seed, options: options)
    let second = await Simulation.run(seed: seed, options: options)
    #expect(first.trace.count > 100)
    #expect(first.trace == second.trace)
    #expect(first == second)
  }

  @Test("different seeds give different runs")
  func seedsDiffer() async {
    let one = await Simulation.run(seed: 1, options: SimulationOptions(trace: true))
    let two = await Simulation.run(seed: 2, options: SimulationOptions(trace: true))
    #expect(one.trace != two.trace)
  }

  /// `SNS_SIMULATE_SEED=S swift test --filter replayFromEnvironment` prints the trace of seed S (for debugging
  /// without building the `sns` executable).
  @Test("replay a seed from the environment")
  func replayFromEnvironment() async {
    guard let text = ProcessInfo.processInfo.environment["SNS_SIMULATE_SEED"], let seed = UInt64(text) else {
      return
    }
    let report = await Simulation.run(seed: seed, options: SimulationOptions(trace: true))
    print(report.trace.joined(separator: "\n"))
  }
}
