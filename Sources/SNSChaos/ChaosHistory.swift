import Synchronization

/// What a workload client asked for. Users are plain numbers here so histories are easy to build by hand.
public enum ChaosAction: Hashable, Sendable, CustomStringConvertible {
  case follow(Int)
  case unfollow(Int)
  /// A post with a text unique in the whole run.
  case post(String)

  public var description: String {
    switch self {
    case .follow(let user): "follow \(user)"
    case .unfollow(let user): "unfollow \(user)"
    case .post(let text): "post \"\(text)\""
    }
  }
}

/// How a request ended, as its client saw it.
public enum ChaosOutcome: Hashable, Sendable, CustomStringConvertible {
  /// Acknowledged (`SUCCESS`): it must be durable and, after sync, visible to whom it concerns.
  case ok
  /// A final answer that it did not happen (a storage error, a failure reply): it must be visible nowhere.
  case refused(String)
  /// Timed out or lost its connection: it may or may not have happened, once.
  case unknown(String)

  /// `ok`, `refused` or `unknown`: the report's columns.
  public var kind: String {
    switch self {
    case .ok: "ok"
    case .refused: "refused"
    case .unknown: "unknown"
    }
  }

  public var description: String {
    switch self {
    case .ok: "ok"
    case .refused(let why): "refused (\(why))"
    case .unknown(let why): "unknown (\(why))"
    }
  }
}

/// One request of the workload: who, what, when it was sent and answered (since the run started), the outcome.
public struct ChaosRequest: Hashable, Sendable {
  public var client: Int
  public var action: ChaosAction
  public var invoked: Duration
  public var completed: Duration
  public var outcome: ChaosOutcome
  /// How many times it was sent, all with one request key: more than once when an attempt's outcome was
  /// unknown (the first attempt at `invoked`, the answer of the last at `completed`).
  public var attempts: Int

  public init(
    client: Int, action: ChaosAction, invoked: Duration, completed: Duration, outcome: ChaosOutcome,
    attempts: Int = 1
  ) {
    self.client = client
    self.action = action
    self.invoked = invoked
    self.completed = completed
    self.outcome = outcome
    self.attempts = attempts
  }
}

/// Every request of a run, appended by the workload's clients concurrently.
public final class ChaosHistory: Sendable {
  private let requests = Mutex<[ChaosRequest]>([])

  public init() {}

  public func record(_ request: ChaosRequest) {
    requests.withLock { $0.append(request) }
  }

  /// The requests so far, in the order they completed.
  public var all: [ChaosRequest] { requests.withLock { $0 } }

  public var count: Int { requests.withLock { $0.count } }
}
