import Logging
import SNSCore
import SNSTransport
import Synchronization

/// Clients following, unfollowing and posting (texts unique in the run) as fast as a short think time allows,
/// each request recorded in a ``ChaosHistory`` with its outcome.
struct ChaosWorkload: Sendable {
  let users: [Int]
  let seed: UInt64
  let coordinator: Endpoint
  let history: ChaosHistory
  let started: ContinuousClock.Instant
  let logger: Logger
  let progress: @Sendable (String) -> Void

  /// Each user's session: calls time out after 1 s; a failover is waited for 3 s, then the request is unknown.
  func session(_ user: UserID, dialer: GRPCDialer) -> SNSClient {
    SNSClient(
      user: user, coordinator: dialer.coordinator(at: coordinator), dialer: dialer, clock: SystemClock(),
      logger: logger, failoverTimeout: .seconds(3), retryDelay: .milliseconds(100))
  }

  /// Logs every user in, then waits until every user is known on every cluster (users travel by sync).
  func prepare(dialer: GRPCDialer, within timeout: Duration) async throws {
    let deadline = ContinuousClock.now + timeout
    let everyone = try users.map { try UserID($0) }
    for user in everyone {
      while (try? await session(user, dialer: dialer).execute(.login))?.status != .success {
        guard ContinuousClock.now < deadline else { throw ChaosError.setup("user \(user) cannot log in") }
        try await Task.sleep(for: .milliseconds(100))
      }
    }
    for user in everyone {
      while Set((try? await session(user, dialer: dialer).execute(.list))?.allUsers ?? []) != Set(everyone) {
        guard ContinuousClock.now < deadline else {
          throw ChaosError.setup("user \(user) does not see everyone")
        }
        try await Task.sleep(for: .milliseconds(100))
      }
    }
  }

  /// Runs every client until `stop` is set.
  func run(dialer: GRPCDialer, stop: ChaosFlag) async {
    await withTaskGroup(of: Void.self) { group in
      for user in users {
        group.addTask { await client(user, dialer: dialer, stop: stop) }
      }
    }
  }

  func client(_ number: Int, dialer: GRPCDialer, stop: ChaosFlag) async {
    guard let user = try? UserID(number) else { return }
    var random = SeededRandom(seed: seed &+ UInt64(number) &* 0x9E37_79B9)
    let session = session(user, dialer: dialer)
    let others = users.filter { $0 != number }
    var following: Set<Int> = []
    var posts = 0
    while !stop.isSet {
      let roll = random.next() % 10
      let action: ChaosAction
      if roll < 5 || others.isEmpty {
        posts += 1
        action = .post("s\(seed) u\(number) p\(posts)")
      } else if roll < 8,
        let followee = others.filter({ !following.contains($0) }).randomElement(using: &random)
      {
        action = .follow(followee)
      } else if let followee = following.sorted().randomElement(using: &random) {
        action = .unfollow(followee)
      } else {
        continue
      }
      let invoked = ContinuousClock.now - started
      // An attempt without an answer is sent again with the same key until one comes (or the run ends), as a
      // careful client does: the system must apply it at most once, and the answer settles whether it did,
      // which keeps the follow-state and delivery checks meaningful over a long run.
      let key = RequestKey.random()
      var outcome = await perform(action, key: key, session: session)
      var attempts = 1
      while outcome.kind == "unknown", !stop.isSet, attempts < Self.attemptLimit {
        try? await Task.sleep(for: .milliseconds(100))
        outcome = await perform(action, key: key, session: session)
        attempts += 1
      }
      history.record(
        ChaosRequest(
          client: number, action: action, invoked: invoked, completed: ContinuousClock.now - started,
          outcome: outcome, attempts: attempts))
      switch (action, outcome) {
      case (.follow(let followee), .ok), (.follow(let followee), .refused("FAILURE_ALREADY_EXISTS")):
        following.insert(followee)
      case (.unfollow(let followee), .ok), (.unfollow(let followee), .refused("FAILURE_NOT_A_FOLLOWER")):
        following.remove(followee)
      default: break
      }
      let count = history.count
      if count % 500 == 0 { progress("[\(ChaosReport.seconds(invoked))] \(count) requests") }
      try? await Task.sleep(for: .milliseconds(20))
    }
  }

  /// Attempts of one action at most: about a minute of failovers, then it stays unknown.
  static let attemptLimit = 15

  func perform(_ action: ChaosAction, key: RequestKey, session: SNSClient) async -> ChaosOutcome {
    do {
      let command: Command
      switch action {
      case .follow(let followee): command = .follow(try UserID(followee), key: key)
      case .unfollow(let followee): command = .unfollow(try UserID(followee), key: key)
      case .post(let text): command = .post(try PostText(text), key: key)
      }
      let reply = try await session.execute(command)
      return reply.status == .success ? .ok : .refused(reply.status.rawValue)
    } catch let error as SNSError {
      switch error {
      case .storage, .invalidArgument, .staleEpoch, .unauthenticated: return .refused("\(error)")
      case .unavailable, .notMaster, .deadlineExceeded: return .unknown("\(error)")
      }
    } catch {
      return .unknown("\(error)")
    }
  }
}

/// A flag tasks can set and read (the workload's stop signal).
final class ChaosFlag: Sendable {
  private let value = Atomic<Bool>(false)
  func set() { value.store(true, ordering: .relaxed) }
  var isSet: Bool { value.load(ordering: .relaxed) }
}
