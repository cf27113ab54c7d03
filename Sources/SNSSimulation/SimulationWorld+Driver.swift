import SNSCore

extension SimulationWorld {
  /// Runs the fault phase, heals, lets the system settle and sync, and checks the end state.
  func run() async -> SimulationReport {
    history.keepAll = options.trace
    trace(
      "seed \(seed): \(clusterCount) clusters, \(users.count) users, faults \(options.faults.spelled)"
        + (skews.values.contains { $0 != 0 }
          ? ", clock skews "
            + skews.keys.sorted().map { "\($0)\(skews[$0] ?? 0 >= 0 ? "+" : "")\(skews[$0] ?? 0)" }
            .joined(separator: " ") : ""))
    links.setNoise(noise)
    while step < options.steps, violation == nil {
      step += 1
      await takeStep()
      await afterStep()
    }
    if violation == nil { await quiesce() }
    if violation == nil { await checkFinal() }
    if let violation { trace("VIOLATION \(violation)") }
    var faults = faultCounts
    for (kind, count) in links.counts { faults[kind, default: 0] += count }
    return SimulationReport(
      seed: seed, clusterCount: clusterCount, steps: step, faults: faults, violation: violation,
      trace: history.tail, acknowledgedWrites: history.entries.filter(\.isAcknowledgedWrite).count)
  }

  /// The noise rates (per mille of calls) the enabled fault kinds allow.
  var noise: SimulatedLinks.Noise {
    let faults = options.faults
    return SimulatedLinks.Noise(
      drop: faults.contains(.drop) ? 20 : 0, lostReply: faults.contains(.drop) ? 10 : 0,
      delay: faults.contains(.delay) ? 60 : 0, duplicate: faults.contains(.duplicate) ? 30 : 0,
      hold: faults.contains(.reorder) ? 15 : 0, deadline: faults.contains(.concurrent) ? 60 : 0)
  }

  func takeStep() async {
    let faultKinds: SimulationFaults = [.crash, .torn, .partition, .pause]
    let weights = [
      45,  // a client command
      40,  // time passes; due timers fire
      options.faults.isDisjoint(with: faultKinds) ? 0 : 6,  // a fault begins
      links.heldCount > 0 ? 4 : 0,  // a held-back message arrives late
      3,  // a synchronizer round out of schedule
      options.faults.contains(.concurrent) ? 12 : 0,  // several client commands at once
    ]
    switch random.weighted(weights) {
    case 0: await clientStep()
    case 1: await tick()
    case 2: await injectFault()
    case 3:
      if let label = await links.deliverHeld() { trace("late delivery of \(label)") }
    case 4:
      if let slot = random.pick(synchronizers) { await syncRound(slot) }
    case 5: await concurrentStep()
    default: break
    }
  }

  /// Runs invariants that hold at every moment, and turns crashes inside appends into process crashes.
  func afterStep() async {
    for directory in disk.takeCrashed() {
      guard let slot = servers.first(where: { $0.directory == directory }), slot.status == .running else {
        continue
      }
      trace("\(slot.name) crashed inside an append (torn write)")
      count("torn")
      crash(slot)
    }
    await checkStep()
  }

  // MARK: Client workload

  func clientStep() async {
    guard let user = random.pick(users) else { return }
    let command = chooseCommand(for: user)
    guard let command else {
      await enterTimeline(user)
      return
    }
    let outcome: SimulationHistory.Outcome
    var epoch: Epoch?
    do {
      let reply = try await user.client.execute(command)
      outcome = .reply(reply.status)
      epoch = reply.masterEpoch
    } catch {
      outcome = .failed("\(error)")
    }
    await record(user, command, outcome, masterEpoch: epoch)
  }

  /// Records a finished command in the history and the trace, and checks an acknowledged write at once. An
  /// acknowledged write is attributed to the master that answered and the epoch it says it answered in (its
  /// role may have changed since, while other work ran).
  func record(
    _ user: UserSlot, _ command: Command, _ outcome: SimulationHistory.Outcome, masterEpoch: Epoch?
  ) async {
    var server: String?
    var epoch: Epoch?
    if command.isWrite, outcome == .reply(.success), let endpoint = await user.client.master,
      let slot = slot(at: endpoint)
    {
      server = slot.name
      epoch = masterEpoch
      if command == .login { user.registered = true }
    }
    let entry = SimulationHistory.Entry(
      step: step, time: elapsed, user: user.user, command: command, outcome: outcome, server: server,
      epoch: epoch)
    history.record(entry)
    let result: String
    switch outcome {
    case .reply(let status): result = status.rawValue
    case .failed(let why): result = "error: \(why)"
    }
    trace(
      "\(user.name) \(command.traced) -> \(result)\(server.map { " at \($0) e\(epoch?.value ?? 0)" } ?? "")")
    if entry.isAcknowledgedWrite { checkAcknowledgement(entry) }
  }

  /// The next command of `user`, or `nil` for entering timeline mode.
  func chooseCommand(for user: UserSlot) -> Command? {
    if !user.registered, random.chance(800) { return .login }
    let other = random.pick(users.filter { $0.user != user.user })?.user ?? user.user
    switch random.weighted([30, 15, 30, 15, 10]) {
    case 0: return .follow(other)
    case 1: return .unfollow(other)
    case 2:
      user.posts += 1
      guard let text = try? PostText("\(user.name) post \(user.posts)") else { return .list }
      return .post(text)
    case 3: return .list
    default: return nil
    }
  }

  func enterTimeline(_ user: UserSlot) async {
    do {
      let subscription = try await user.client.timeline()
      trace("\(user.name) TIMELINE -> \(subscription.initial.count) posts")
    } catch {
      trace("\(user.name) TIMELINE -> error: \(error)")
    }
  }

  // MARK: Timers

  /// Time passes by a few milliseconds; every heartbeat, liveness check and sync round now due fires, in an
  /// order the seed picks. Faults whose time is up end first.
  func tick() async {
    clock.advance(by: .milliseconds(random.int(in: 1...40)))
    await endDueFaults()
    for timer in random.shuffled(dueTimers()) {
      switch timer {
      case .heartbeat(let slot): await heartbeat(slot)
      case .liveness:
        await checkLiveness()
        nextLivenessCheck = clock.now().milliseconds + heartbeatInterval.wholeMilliseconds / 4
      case .sync(let slot): await syncRound(slot)
      }
    }
  }

  enum Timer {
    case heartbeat(ServerSlot)
    case liveness
    case sync(SynchronizerSlot)

    var traced: String {
      switch self {
      case .heartbeat(let slot): "\(slot.name) heartbeat"
      case .liveness: "liveness check"
      case .sync(let slot): "\(slot.name) round"
      }
    }
  }

  /// Every heartbeat, liveness check and sync round due now, in a fixed order.
  func dueTimers() -> [Timer] {
    let now = clock.now().milliseconds
    var due: [Timer] = servers.filter { $0.status == .running && $0.nextHeartbeat <= now }.map {
      .heartbeat($0)
    }
    if nextLivenessCheck <= now { due.append(.liveness) }
    due += synchronizers.filter { !$0.crashed && $0.nextRound <= now }.map { .sync($0) }
    return due
  }

  func heartbeat(_ slot: ServerSlot) async {
    let before = await slot.server.phase
    await slot.server.heartbeat()
    let after = await slot.server.phase
    slot.nextHeartbeat =
      clock.now().milliseconds + heartbeatInterval.wholeMilliseconds
      - Int64(random.int(in: 0...10))
    if before != after { trace("\(slot.name) heartbeat: \(before.traced) -> \(after.traced)") }
  }

  func syncRound(_ slot: SynchronizerSlot) async {
    guard !slot.crashed else { return }
    slot.nextRound = clock.now().milliseconds + syncInterval.wholeMilliseconds
    do {
      let report = try await slot.synchronizer.round()
      if report.users + report.follows + report.posts > 0 || !report.failed.isEmpty {
        trace(
          "\(slot.name) round: \(report.users) users, \(report.follows) follows, \(report.posts) posts"
            + (report.failed.isEmpty
              ? "" : ", failed to \(report.failed.map(\.description).joined(separator: ","))"))
      }
    } catch {
      trace("\(slot.name) round failed: \(error)")
    }
  }
}
