import SNSCore

extension SimulationWorld {
  /// A busy moment: time passes as in ``tick()``, and then several users' commands (2–4, one per user, as
  /// each client is sequential; mostly of one cluster) run at once with every timer now due (heartbeats,
  /// which may start a catch-up or a reconcile, the liveness check, sync rounds). They run as concurrent
  /// tasks on the run's one thread, and every call between processes yields a seeded number of times, so they
  /// interleave at the servers' suspension points (actor reentrancy) in an order the seed decides. Each is
  /// recorded when it finishes.
  func concurrentStep() async {
    clock.advance(by: .milliseconds(random.int(in: 1...40)))
    await endDueFaults()
    guard let first = random.pick(users) else { return }
    var chosen: [(UserSlot, Command)] = []
    var candidates = users
    for _ in 0..<random.int(in: 2...4) {
      let sameCluster = candidates.filter { cluster(of: $0.user) == cluster(of: first.user) }
      let pool =
        chosen.isEmpty ? [first] : random.chance(667) && !sameCluster.isEmpty ? sameCluster : candidates
      guard let user = random.pick(pool) else { break }
      candidates.removeAll { $0 === user }
      if let command = chooseCommand(for: user) { chosen.append((user, command)) }
    }
    let timers = random.shuffled(dueTimers())
    guard !chosen.isEmpty || !timers.isEmpty else { return }
    trace(
      "concurrently: "
        + (chosen.map { "\($0.0.name) \($0.1.traced)" } + timers.map(\.traced)).joined(separator: ", "))
    var phases: [String: ServerState.Phase] = [:]
    for case .heartbeat(let slot) in timers { phases[slot.name] = await slot.server.phase }
    links.setInterleaving(true)
    enum Finished: Sendable {
      case command(Int, SimulationHistory.Outcome, Epoch?)
      case timer(Int, Result<Synchronizer.RoundReport?, SNSError>)
    }
    await withTaskGroup(of: Finished.self) { group in
      for (index, (user, command)) in chosen.enumerated() {
        let client = user.client
        group.addTask {
          do {
            let reply = try await client.execute(command)
            return .command(index, .reply(reply.status), reply.masterEpoch)
          } catch {
            return .command(index, .failed("\(error)"), nil)
          }
        }
      }
      for (index, timer) in timers.enumerated() {
        switch timer {
        case .heartbeat(let slot):
          let server = slot.server
          group.addTask {
            await server.heartbeat()
            return .timer(index, .success(nil))
          }
        case .liveness:
          let coordinator = coordinatorDown ? nil : coordinator
          group.addTask {
            await coordinator?.checkLiveness()
            return .timer(index, .success(nil))
          }
        case .sync(let slot):
          let synchronizer = slot.synchronizer
          group.addTask {
            do { return .timer(index, .success(try await synchronizer.round())) } catch {
              return .timer(index, .failure(.unavailable("\(error)")))
            }
          }
        }
      }
      for await finished in group {
        switch finished {
        case .command(let index, let outcome, let epoch):
          await record(chosen[index].0, chosen[index].1, outcome, masterEpoch: epoch)
        case .timer(let index, let result):
          switch timers[index] {
          case .heartbeat(let slot):
            let after = await slot.server.phase
            slot.nextHeartbeat = clock.now().milliseconds + heartbeatInterval.wholeMilliseconds
            if let before = phases[slot.name], before != after {
              trace("\(slot.name) heartbeat: \(before.traced) -> \(after.traced)")
            }
          case .liveness:
            nextLivenessCheck = clock.now().milliseconds + heartbeatInterval.wholeMilliseconds / 4
          case .sync(let slot):
            slot.nextRound = clock.now().milliseconds + syncInterval.wholeMilliseconds
            switch result {
            case .success(let report?): trace("\(slot.name) round: \(report.posts) posts")
            case .success(nil): break
            case .failure(let error): trace("\(slot.name) round failed: \(error)")
            }
          }
        }
      }
    }
    await links.settleAbandoned()
    links.setInterleaving(false)
  }
}
