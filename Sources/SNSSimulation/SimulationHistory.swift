import SNSCore

/// Every client request of a run with its outcome, and the readable trace of every step.
final class SimulationHistory {
  /// How a request ended. Only `.reply(.success)` of a write counts as acknowledged; errors and timeouts
  /// leave the outcome unknown (the write may or may not have happened).
  enum Outcome: Hashable {
    case reply(ReplyStatus)
    case failed(String)
  }

  struct Entry {
    let step: Int
    let time: Int64
    let user: UserID
    let command: Command
    let outcome: Outcome
    /// The server that answered and its epoch, for acknowledged writes.
    let server: String?
    let epoch: Epoch?

    var isAcknowledgedWrite: Bool { command.isWrite && outcome == .reply(.success) }
  }

  var entries: [Entry] = []
  /// When false, only the last lines are kept (enough to show what led to a failure).
  var keepAll = false
  private(set) var lines: [String] = []
  let tailLength = 80

  func record(_ entry: Entry) { entries.append(entry) }

  func trace(_ line: String) {
    lines.append(line)
    if !keepAll, lines.count > tailLength * 2 { lines.removeFirst(lines.count - tailLength) }
  }

  var tail: [String] { keepAll ? lines : Array(lines.suffix(tailLength)) }
}

extension Command {
  /// The command as the trace shows it.
  var traced: String {
    switch self {
    case .login: "LOGIN"
    case .list: "LIST"
    case .follow(let user, _): "FOLLOW \(user)"
    case .unfollow(let user, _): "UNFOLLOW \(user)"
    case .post(let text, _): "POST '\(text)'"
    }
  }
}

extension ServerState.Phase {
  /// The phase as the trace shows it.
  var traced: String {
    switch self {
    case .registering: "registering"
    case .master(let epoch, let slave): "master e\(epoch)\(slave == nil ? " (no slave)" : "")"
    case .slave(let epoch, _, let caughtUp): "slave e\(epoch)\(caughtUp ? "" : " (catching up)")"
    }
  }
}
