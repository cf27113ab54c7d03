import SNSCore
import Synchronization

/// The network between the simulated processes, on top of ``InMemoryNetwork``: every call goes through
/// ``call(from:to:kind:_:)``, which knows both ends, so partitions cut links (client↔master, master↔slave,
/// server↔coordinator, F↔F) rather than whole hosts, and noise (drops, lost replies, delays, duplicates,
/// messages held back and delivered late) is drawn from the run's seed.
///
/// - Important: the driver runs one step at a time and calls inside a step are sequential, so the order of
///   draws from the generator, and so the whole run, is fixed by the seed.
final class SimulatedLinks: Sendable {
  /// Per-mille rates of each kind of noise, per call. Zero when the kind is switched off or while healing.
  struct Noise: Sendable {
    var drop = 0
    var lostReply = 0
    var delay = 0
    var duplicate = 0
    var hold = 0
    /// Calls whose caller gives up at a deadline while the receiver goes on (only while work runs
    /// concurrently: a caller that gives up needs something else to run meanwhile); a third of it for
    /// calls other than client commands.
    var deadline = 0
    static let none = Noise()
  }

  /// What kind of call, so that only some are held back for late delivery (those whose late arrival is a
  /// real hazard: mirror writes, sync batches, heartbeats).
  enum CallKind: String, Sendable {
    case heartbeat, coordinatorQuery, command, timeline, mirror, catchUp, sync
    var mayBeHeld: Bool { self == .heartbeat || self == .mirror || self == .sync }
  }

  /// A message held back, to be delivered late by ``deliverHeld()``.
  struct Held: Sendable {
    let label: String
    let deliver: @Sendable () async -> Void
  }

  struct State {
    var random: SimulationRandom
    var noise = Noise.none
    /// Blocked links as "a|b" with a < b.
    var blocked: Set<String> = []
    var held: [Held] = []
    var counts: [String: Int] = [:]
    /// Whether calls yield a seeded number of times before and after they are delivered, so that concurrent
    /// tasks interleave there (see ``setInterleaving(_:)``).
    var interleaving = false
    /// Calls whose caller gave up at a deadline while the receiver went on (see ``settleAbandoned()``).
    var abandoned: [Task<Void, Never>] = []
  }
  let state: Mutex<State>
  let network: InMemoryNetwork
  let clock: ManualClock
  /// Endpoint → process name, to find the receiving end of a call.
  let names: Mutex<[Endpoint: String]> = Mutex([:])
  let maximumDelayMilliseconds: Int
  /// The run's one thread, where a call whose caller gave up at its deadline goes on.
  let executor: SimulationExecutor
  /// The largest message a call may carry either way (``SimulationFaults/limits``), as gRPC's maximum message
  /// size limits the real transport; `nil` for no limit.
  let messageLimit: Int?
  /// Messages that were over ``messageLimit``, for the `messages-within-limit` check.
  private let oversized: Mutex<[String]> = Mutex([])

  init(
    random: SimulationRandom, network: InMemoryNetwork, clock: ManualClock, maximumDelayMilliseconds: Int,
    messageLimit: Int? = nil, executor: SimulationExecutor
  ) {
    state = Mutex(State(random: random))
    self.executor = executor
    self.network = network
    self.clock = clock
    self.maximumDelayMilliseconds = maximumDelayMilliseconds
    self.messageLimit = messageLimit
  }

  /// Refuses a message of `bytes` over ``messageLimit`` as the real transport does (`RESOURCE_EXHAUSTED`,
  /// which the transport maps to ``SNSError/invalidArgument(_:)``), and remembers it for the checker.
  func checkSize(_ bytes: Int, of message: String) throws(SNSError) {
    guard let messageLimit, bytes > messageLimit else { return }
    let what = "\(message) of \(bytes) bytes (limit \(messageLimit))"
    oversized.withLock { $0.append(what) }
    throw SNSError.invalidArgument("over the transport's limits: \(what)")
  }

  /// The oversized messages since the last call.
  func takeOversized() -> [String] {
    oversized.withLock { list in
      defer { list = [] }; return list
    }
  }

  func name(_ endpoint: Endpoint, as process: String) { names.withLock { $0[endpoint] = process } }
  func process(at endpoint: Endpoint) -> String {
    names.withLock { $0[endpoint] } ?? endpoint.description
  }

  static func link(_ a: String, _ b: String) -> String { a < b ? "\(a)|\(b)" : "\(b)|\(a)" }

  func block(_ a: String, _ b: String) { _ = state.withLock { $0.blocked.insert(Self.link(a, b)) } }
  func unblock(_ a: String, _ b: String) { _ = state.withLock { $0.blocked.remove(Self.link(a, b)) } }
  func unblockAll() { state.withLock { $0.blocked = [] } }
  func setNoise(_ noise: Noise) { state.withLock { $0.noise = noise } }
  /// While on, each call yields 0–3 times (by the seed) on each side of its delivery: on the run's one
  /// thread, that is where another task's jobs get to run, so the seed picks the interleaving.
  func setInterleaving(_ on: Bool) { state.withLock { $0.interleaving = on } }

  /// How many faults of each kind the network injected (drop, lost-reply, delay, duplicate, hold).
  var counts: [String: Int] { state.withLock { $0.counts } }

  var heldCount: Int { state.withLock { $0.held.count } }

  /// Delivers one held-back message (picked by the seed), late and out of order. Its outcome is ignored, as a
  /// sender that timed out long ago would.
  func deliverHeld() async -> String? {
    let held = state.withLock { state -> Held? in
      guard !state.held.isEmpty else { return nil }
      return state.held.remove(at: state.random.int(in: 0...(state.held.count - 1)))
    }
    guard let held else { return nil }
    await held.deliver()
    return held.label
  }

  /// Drops every held message (when healing: a partition that heals does not release week-old packets).
  func discardHeld() { state.withLock { $0.held = [] } }

  private enum Fate {
    case deliver(delay: Int, duplicate: Bool, loseReply: Bool, hold: Bool, yields: (Int, Int))
    /// The caller waits this many yields for the reply and then gives up (deadline exceeded); the receiver
    /// goes on regardless.
    case deadline(yields: Int)
    case fail(String)
  }

  /// Waits until every call abandoned at its deadline has finished at its receiver, so nothing of a step
  /// runs on into the next one.
  func settleAbandoned() async {
    while let next = state.withLock({ $0.abandoned.isEmpty ? nil : $0.abandoned.removeFirst() }) {
      await next.value
    }
  }

  /// Runs `body` as a task of its own on the run's thread and waits `yields` turns for it: a client whose
  /// deadline passed gets ``SNSError/deadlineExceeded`` while its call goes on at the server, so its retry
  /// (same request key) can arrive while the first attempt is still being written.
  private func withDeadline<T: Sendable>(
    yields: Int, _ body: @escaping @Sendable () async throws -> T
  ) async throws -> T {
    let outcome = Mutex<Result<T, any Error>?>(nil)
    let call = Task(executorPreference: executor) {
      let result: Result<T, any Error>
      do { result = .success(try await body()) } catch { result = .failure(error) }
      outcome.withLock { $0 = result }
    }
    state.withLock { $0.abandoned.append(call) }
    for _ in 0..<yields {
      if outcome.withLock({ $0 != nil }) { break }
      await Task.yield()
    }
    guard let result = outcome.withLock({ $0 }) else { throw SNSError.deadlineExceeded }
    return try result.get()
  }

  private static func yield(_ times: Int) async {
    for _ in 0..<times { await Task.yield() }
  }

  /// Performs `body` as a call from process `from` to process `to`, with the faults the seed decides.
  func call<T: Sendable>(
    from: String, to: String, kind: CallKind, _ body: @escaping @Sendable () async throws -> T
  ) async throws -> T {
    let fate = state.withLock { state -> Fate in
      if state.blocked.contains(Self.link(from, to)) { return .fail("link \(from)→\(to) is partitioned") }
      let noise = state.noise
      if state.random.chance(noise.drop) {
        state.counts["drop", default: 0] += 1
        return .fail("call \(from)→\(to) dropped")
      }
      var delay = 0
      if state.random.chance(noise.delay) {
        delay = state.random.int(in: 1...max(1, maximumDelayMilliseconds))
        state.counts["delay", default: 0] += 1
      }
      let duplicate = state.random.chance(noise.duplicate)
      if duplicate { state.counts["duplicate", default: 0] += 1 }
      let loseReply = state.random.chance(noise.lostReply)
      if loseReply { state.counts["lost-reply", default: 0] += 1 }
      let hold = kind.mayBeHeld && state.random.chance(noise.hold)
      if hold { state.counts["reorder", default: 0] += 1 }
      // Client commands meet deadlines most (a client's retry may meet its first attempt); mirrors,
      // catch-up pages, heartbeats and sync batches too, as gRPC deadlines bound every call.
      let deadline = kind == .command ? noise.deadline : noise.deadline / 3
      if state.interleaving && state.random.chance(deadline) {
        state.counts["deadline", default: 0] += 1
        return .deadline(yields: state.random.int(in: 0...12))
      }
      let yields = state.interleaving ? (state.random.int(in: 0...3), state.random.int(in: 0...3)) : (0, 0)
      return .deliver(delay: delay, duplicate: duplicate, loseReply: loseReply, hold: hold, yields: yields)
    }
    switch fate {
    case .fail(let why):
      throw SNSError.unavailable(why)
    case .deadline(let yields):
      return try await withDeadline(yields: yields, body)
    case .deliver(let delay, let duplicate, let loseReply, let hold, let yields):
      await Self.yield(yields.0)
      if hold {
        // A copy stays in the network and arrives later, after newer messages.
        let label = "\(kind.rawValue) \(from)→\(to)"
        state.withLock { $0.held.append(Held(label: label) { _ = try? await body() }) }
      }
      if delay > 0 { clock.advance(by: .milliseconds(delay)) }
      let result = try await body()
      await Self.yield(yields.1)
      if duplicate { _ = try? await body() }
      if loseReply { throw SNSError.unavailable("reply \(to)→\(from) lost") }
      return result
    }
  }
}
