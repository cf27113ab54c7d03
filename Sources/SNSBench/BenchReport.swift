import Foundation

/// A quotient of two figures measured in the same run, and whether it meets the scenario's goal.
public struct BenchRatio: Codable, Hashable, Sendable {
  /// What is divided by what, e.g. "post c64 / echo c64 throughput".
  public var name: String
  /// The quotient.
  public var value: Double
  /// The goal, e.g. "≥ 0.50"; `nil` when the ratio is informative only.
  public var goal: String?
  /// Whether ``value`` meets ``goal``; `nil` without a goal.
  public var met: Bool?

  /// A ratio with an optional goal and verdict.
  public init(name: String, value: Double, goal: String? = nil, met: Bool? = nil) {
    self.name = name
    self.value = value
    self.goal = goal
    self.met = met
  }
}

/// What one scenario measured: a table for people, ratios against goals, and flat metrics for machines.
public struct ScenarioReport: Codable, Hashable, Sendable {
  /// The scenario's command-line name, e.g. `post`.
  public var scenario: String
  /// One line saying what was measured.
  public var title: String
  /// Column headers of ``rows``.
  public var columns: [String]
  /// The table, one row per measurement.
  public var rows: [[String]] = []
  /// Ratios against each other and against goals.
  public var ratios: [BenchRatio] = []
  /// Flat numbers by name (units in the name), for the JSON output and plots.
  public var metrics: [String: Double] = [:]
  /// Caveats: what limited the figures, what was skipped and why.
  public var notes: [String] = []

  /// An empty report with its table's columns.
  public init(scenario: String, title: String, columns: [String]) {
    self.scenario = scenario
    self.title = title
    self.columns = columns
  }

  /// The report as plain text: title, aligned table, ratios and notes.
  public var text: String {
    var lines = ["== \(scenario): \(title)"]
    let table = [columns] + rows
    let widths = columns.indices.map { column in
      table.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0
    }
    for (index, row) in table.enumerated() {
      let cells = columns.indices.map { column in
        let cell = column < row.count ? row[column] : ""
        let pad = String(repeating: " ", count: widths[column] - cell.count)
        return column == 0 ? cell + pad : pad + cell
      }
      lines.append("  " + cells.joined(separator: "  "))
      if index == 0 {
        lines.append("  " + widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
      }
    }
    for ratio in ratios {
      var line = "  ratio \(ratio.name) = \(BenchFormat.ratio(ratio.value))"
      if let goal = ratio.goal {
        line += "  goal \(goal): \(ratio.met == true ? "MET" : "NOT MET")"
      }
      lines.append(line)
    }
    for note in notes { lines.append("  note: \(note)") }
    return lines.joined(separator: "\n")
  }
}

/// The JSON document `sns bench --json` writes.
public struct BenchRun: Codable, Sendable {
  /// When the run started (ISO 8601).
  public var started: String
  /// Host name, CPU count and build, to tell runs apart.
  public var machine: String
  /// Whether `--quick` counts were used.
  public var quick: Bool
  /// Every scenario's report, in run order.
  public var reports: [ScenarioReport]

  /// A run record.
  public init(started: String, machine: String, quick: Bool, reports: [ScenarioReport]) {
    self.started = started
    self.machine = machine
    self.quick = quick
    self.reports = reports
  }

  /// Pretty-printed, key-sorted JSON.
  public func json() throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return try encoder.encode(self)
  }
}

/// Number formatting shared by the tables.
enum BenchFormat {
  static func ratio(_ value: Double) -> String { String(format: "%.3f", value) }
  static func rate(_ value: Double) -> String { String(format: "%.0f", value) }
  static func milliseconds(_ value: Double) -> String { String(format: "%.2f", value) }
  static func milliseconds(_ duration: Duration) -> String { milliseconds(duration.milliseconds) }
  static func megabytes(_ kilobytes: Int) -> String { String(format: "%.1f", Double(kilobytes) / 1024) }
}

extension Duration {
  /// The duration in (fractional) milliseconds.
  var milliseconds: Double {
    let (seconds, attoseconds) = components
    return Double(seconds) * 1000 + Double(attoseconds) / 1e15
  }

  /// The duration in (fractional) seconds.
  var seconds: Double { milliseconds / 1000 }
}
