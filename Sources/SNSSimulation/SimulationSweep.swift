/// Runs many seeds and sums them up, as `sns simulate` and CI do.
public struct SimulationSweep: Sendable {
  /// The outcome of a sweep: totals, and each failing seed with its first violation.
  public struct Summary: Hashable, Sendable {
    public var seeds = 0
    public var steps = 0
    public var acknowledgedWrites = 0
    /// Injected faults by kind, over all seeds.
    public var faults: [String: Int] = [:]
    /// Failing seeds in ascending order.
    public var failures: [SimulationReport] = []

    mutating func add(_ report: SimulationReport) {
      seeds += 1
      steps += report.steps
      acknowledgedWrites += report.acknowledgedWrites
      for (kind, count) in report.faults { faults[kind, default: 0] += count }
      if report.violation != nil { failures.append(report) }
    }

    /// The summary table, without wall-clock figures (so that it is the same on every run).
    public var table: String {
      var lines = ["seeds   steps   acked writes   failures", "-----   -----   ------------   --------"]
      lines.append(
        [pad(seeds, 5), pad(steps, 7), pad(acknowledgedWrites, 12), pad(failures.count, 8)].joined(
          separator: "   "))
      lines.append("")
      lines.append("fault kind      injected")
      lines.append("----------      --------")
      for kind in faults.keys.sorted() {
        lines.append(kind.padding(toLength: 16, withPad: " ", startingAt: 0) + pad(faults[kind] ?? 0, 8))
      }
      return lines.joined(separator: "\n")
    }

    func pad(_ value: Int, _ width: Int) -> String {
      let text = String(value)
      return String(repeating: " ", count: max(0, width - text.count)) + text
    }
  }

  public let options: SimulationOptions
  /// How many seeds run at once (each seed is a world of its own, so this does not change any report).
  public let concurrency: Int

  public init(options: SimulationOptions, concurrency: Int = 2) {
    self.options = options
    self.concurrency = max(1, concurrency)
  }

  /// Runs `count` seeds from `first` and reports each as it finishes, in seed order.
  /// `stopAfterFailures` ends the sweep early once that many seeds failed (0: never).
  public func run(
    from first: UInt64, count: Int, stopAfterFailures: Int = 0,
    progress: (SimulationReport) -> Void = { _ in }
  ) async -> Summary {
    var summary = Summary()
    let options = self.options
    var next = 0
    var pending: [UInt64: SimulationReport] = [:]
    var reported = 0
    await withTaskGroup(of: SimulationReport.self) { group in
      func launch() {
        guard next < count else { return }
        let seed = first &+ UInt64(next)
        next += 1
        group.addTask { await Simulation.run(seed: seed, options: options) }
      }
      for _ in 0..<concurrency { launch() }
      while let report = await group.next() {
        pending[report.seed] = report
        // Reports go out in seed order, whatever order the seeds finish in.
        while let ready = pending.removeValue(forKey: first &+ UInt64(reported)) {
          reported += 1
          summary.add(ready)
          progress(ready)
        }
        if stopAfterFailures > 0, summary.failures.count >= stopAfterFailures {
          group.cancelAll()
          break
        }
        launch()
      }
    }
    return summary
  }
}
