/// What a run did and found: the faults by kind, the requests by outcome, the checks, the seed to replay.
public struct ChaosReport: Sendable {
  public var seed: UInt64
  public var duration: Duration
  public var kinds: [ChaosFaultKind]
  /// Each fault that ran, with when it started, for the log.
  public var faults: [ChaosFault]
  public var history: [ChaosRequest]
  public var result: ChaosCheckResult
  public var replay: String

  /// Requests per action (`post`, `follow`, `unfollow`) and outcome kind.
  public var outcomes: [String: [String: Int]] {
    var table: [String: [String: Int]] = [:]
    for request in history {
      let action: String
      switch request.action {
      case .post: action = "post"
      case .follow: action = "follow"
      case .unfollow: action = "unfollow"
      }
      table[action, default: [:]][request.outcome.kind, default: 0] += 1
    }
    return table
  }

  public var acknowledgedWrites: Int { history.filter { $0.outcome == .ok }.count }

  /// The report as printed at the end of a run.
  public var text: String {
    var lines = [
      "chaos report — seed \(seed), \(Self.seconds(duration)) of faults, faults: \(kinds.map(\.rawValue).joined(separator: ","))"
    ]
    let byKind = Dictionary(grouping: faults, by: \.kind)
    lines.append(
      "faults injected: \(faults.count) ("
        + ChaosFaultKind.allCases.map { "\($0.rawValue) \(byKind[$0]?.count ?? 0)" }.joined(separator: ", ")
        + ")")
    let retried = history.filter { $0.attempts > 1 }
    lines.append(
      "requests: \(history.count) (\(retried.count) sent again with their key after an unknown outcome, "
        + "\(retried.reduce(0) { $0 + $1.attempts - 1 }) retries)")
    for action in ["post", "follow", "unfollow"] {
      let row = outcomes[action] ?? [:]
      lines.append(
        "  \(action.padding(toLength: 9, withPad: " ", startingAt: 0)) ok \(row["ok"] ?? 0), refused \(row["refused"] ?? 0), unknown \(row["unknown"] ?? 0)"
      )
    }
    lines.append("acknowledged writes: \(acknowledgedWrites)")
    for (kind, title) in [("refused", "refused because"), ("unknown", "unknown because")] {
      var reasons: [String: Int] = [:]
      for request in history {
        switch request.outcome {
        case .refused(let why) where kind == "refused": reasons[Self.reason(why), default: 0] += 1
        case .unknown(let why) where kind == "unknown": reasons[Self.reason(why), default: 0] += 1
        default: break
        }
      }
      for (reason, count) in reasons.sorted(by: { $0.value > $1.value }).prefix(5) {
        lines.append("  \(title): \(reason) (\(count))")
      }
    }
    lines.append("checks:")
    for check in ChaosCheck.allCases {
      let failed = result.failures(of: check).count
      let checked = result.checked[check] ?? 0
      lines.append(
        "  \(failed == 0 ? "PASS" : "FAIL") \(check.rawValue): \(checked) checked, \(failed) failed")
    }
    for violation in result.violations.prefix(30) { lines.append("  violation: \(violation)") }
    if result.violations.count > 30 { lines.append("  … \(result.violations.count - 30) more violations") }
    lines.append(result.passed ? "result: PASS (seed \(seed))" : "result: FAIL (seed \(seed))")
    lines.append("replay: \(replay)")
    return lines.joined(separator: "\n")
  }

  /// An error text without the parts that differ per request (file paths, numbers).
  static func reason(_ text: String) -> String {
    String(text.prefix { $0 != "/" && !$0.isNumber }.prefix(80)).trimmingCharacters(in: .whitespaces)
  }

  /// `12.3s`.
  public static func seconds(_ duration: Duration) -> String {
    let milliseconds = duration.wholeMilliseconds
    return "\(milliseconds / 1000).\(String(milliseconds % 1000 / 100))s"
  }
}
