import SNSCore

/// The kinds of fault a run injects (`--faults`).
public enum ChaosFaultKind: String, Hashable, Sendable, CaseIterable, Comparable {
  /// kill -9 of a server or synchronizer, restarted when the fault ends (an old master rejoins as slave).
  case kill
  /// SIGSTOP of a server or synchronizer for longer than the failure window, then SIGCONT.
  case pause
  /// Every packet between two processes dropped (nftables), both ways.
  case partition
  /// A share of one process's packets dropped at random (nftables `numgen random`).
  case loss
  /// A server's own small tmpfs filled up, then freed.
  case disk
  /// A server's fsyncs slowed or failing with EIO (strace fault injection), then strace detached.
  case fsync

  public static func < (lhs: ChaosFaultKind, rhs: ChaosFaultKind) -> Bool {
    allCases.firstIndex(of: lhs) ?? 0 < allCases.firstIndex(of: rhs) ?? 0
  }

  /// `kill,pause,…` or `all`.
  public static func parse(_ text: String) throws -> Set<ChaosFaultKind> {
    if text == "all" { return Set(allCases) }
    var kinds: Set<ChaosFaultKind> = []
    for word in text.split(separator: ",") {
      guard let kind = ChaosFaultKind(rawValue: String(word)) else {
        throw ChaosError.usage(
          "unknown fault '\(word)': expected \(allCases.map(\.rawValue).joined(separator: ",")) or all")
      }
      kinds.insert(kind)
    }
    return kinds
  }
}

/// One planned fault: what, against which process(es), when (from the run's start) and for how long.
public struct ChaosFault: Hashable, Sendable, CustomStringConvertible {
  public enum Detail: Hashable, Sendable {
    case none
    /// Per cent of packets dropped (loss).
    case percent(Int)
    /// fsync delayed by this many milliseconds, or failing with EIO when 0.
    case fsyncDelay(milliseconds: Int)
  }
  public var kind: ChaosFaultKind
  /// Process names (`master-<c>` and `slave-<c>`, resolved at the fault's start, `synchronizer-<c>`,
  /// `coordinator`); two for a partition.
  public var targets: [String]
  public var detail: Detail
  public var start: Duration
  public var length: Duration

  public var description: String {
    let what: String
    switch detail {
    case .none: what = ""
    case .percent(let percent): what = " \(percent)%"
    case .fsyncDelay(let milliseconds): what = milliseconds == 0 ? " EIO" : " delay \(milliseconds) ms"
    }
    return "\(kind.rawValue)\(what) \(targets.joined(separator: " <-> ")) for \(length.wholeMilliseconds) ms"
  }
}

/// A run's fault plan, decided by its seed alone: in each of `lanes` lanes, faults one after another with
/// pauses between (so up to `lanes` faults overlap), from after a warm-up until shortly before the end, so the
/// last seconds are quiet before healing.
public struct ChaosSchedule: Hashable, Sendable {
  public var faults: [ChaosFault]

  /// - Parameters:
  ///   - failureWindow: `miss-count × heartbeat`; pauses last longer than it.
  public init(
    seed: UInt64, duration: Duration, kinds: Set<ChaosFaultKind>, clusters: Int, failureWindow: Duration,
    lanes: Int = 2
  ) {
    var random = SeededRandom(seed: seed)
    var faults: [ChaosFault] = []
    for lane in 0..<max(1, lanes) {
      let first = Duration.seconds(2) + .milliseconds(Int(random.next() % 2000) * lane)
      faults += Self.lane(
        &random, from: first, until: duration - .seconds(2), kinds: kinds, clusters: clusters,
        failureWindow: failureWindow)
    }
    self.faults = faults.sorted { $0.start < $1.start }
  }

  static func lane(
    _ random: inout SeededRandom, from first: Duration, until end: Duration, kinds: Set<ChaosFaultKind>,
    clusters: Int, failureWindow: Duration
  ) -> [ChaosFault] {
    let kinds = kinds.sorted()
    // Servers by role, resolved when the fault starts (`master-2`: whichever server is cluster 2's master then).
    let servers = (1...clusters).flatMap { ["master-\($0)", "slave-\($0)"] }
    let synchronizers = (1...clusters).map { "synchronizer-\($0)" }
    let everyone = ["coordinator"] + servers + synchronizers
    func pick<T>(_ choices: [T]) -> T { choices[Int(random.next() % UInt64(choices.count))] }
    func milliseconds(_ range: ClosedRange<Int>) -> Duration {
      .milliseconds(range.lowerBound + Int(random.next() % UInt64(range.count)))
    }
    var faults: [ChaosFault] = []
    var at = first
    while !kinds.isEmpty {
      let kind = pick(kinds)
      var fault = ChaosFault(
        kind: kind, targets: [], detail: .none, start: at, length: milliseconds(800...3000))
      switch kind {
      case .kill:
        fault.targets = [pick(servers + synchronizers)]
      case .pause:
        fault.targets = [pick(servers + synchronizers)]
        fault.length = failureWindow + milliseconds(300...2500)
      case .partition:
        let first = pick(everyone)
        fault.targets = [first, pick(everyone.filter { $0 != first })]
      case .loss:
        fault.targets = [pick(everyone)]
        fault.detail = .percent(10 + Int(random.next() % 41))
      case .disk:
        fault.targets = [pick(servers)]
      case .fsync:
        fault.targets = [pick(servers)]
        fault.detail = .fsyncDelay(milliseconds: random.next() % 3 == 0 ? 0 : 50 + Int(random.next() % 451))
      }
      guard at + fault.length <= end else { break }
      faults.append(fault)
      at = at + fault.length + milliseconds(300...2000)
    }
    return faults
  }
}

/// A run that cannot start or was misused.
public enum ChaosError: Error, CustomStringConvertible {
  case usage(String)
  case setup(String)

  public var description: String {
    switch self {
    case .usage(let why): why
    case .setup(let why): why
    }
  }
}
