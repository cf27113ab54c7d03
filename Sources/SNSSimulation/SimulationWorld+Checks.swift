import SNSCore

/// What the checkers remember between steps.
struct AcknowledgementLedger {
  /// Per cluster and epoch, the server that acknowledged writes in it.
  var writers: [ClusterID: [Epoch: String]] = [:]
  /// Per cluster, the highest epoch in which a write was acknowledged.
  var highest: [ClusterID: Epoch] = [:]
}

extension SimulationWorld {
  func fail(_ invariant: String, _ detail: String, final: Bool = false) {
    guard violation == nil else { return }
    violation = SimulationViolation(invariant: invariant, detail: detail, step: final ? nil : step)
  }

  /// One writer per cluster and epoch, and never an older epoch once a newer one acknowledged: two servers
  /// taking writes at once is how acknowledged writes get lost.
  func checkAcknowledgement(_ entry: SimulationHistory.Entry) {
    guard let server = entry.server, let epoch = entry.epoch else { return }
    let cluster = cluster(of: entry.user)
    if let other = ledger.writers[cluster]?[epoch], other != server {
      fail(
        "one-writer-per-epoch",
        "cluster \(cluster): \(server) acknowledged \(entry.command.traced) in epoch \(epoch), in which \(other) acknowledged writes"
      )
    }
    ledger.writers[cluster, default: [:]][epoch] = server
    if let highest = ledger.highest[cluster], epoch < highest {
      fail(
        "one-writer-per-epoch",
        "cluster \(cluster): \(server) acknowledged \(entry.command.traced) in epoch \(epoch) after epoch \(highest) took writes"
      )
    }
    ledger.highest[cluster] = max(ledger.highest[cluster] ?? epoch, epoch)
  }

  /// Invariants after every step: no foreign data without a sync round; no two masters of one epoch.
  func checkStep() async {
    if let first = visibility.takeViolations().first { fail("visible-only-after-sync", first) }
    if let first = links.takeOversized().first { fail("messages-within-limit", first) }
    for cluster in synchronizers.map(\.cluster) {
      var masters: [Epoch: String] = [:]
      for slot in servers(of: cluster) where slot.status != .crashed {
        guard case .master(let epoch, _) = await slot.server.phase else { continue }
        if let other = masters[epoch] {
          fail(
            "one-master-per-epoch",
            "cluster \(cluster): \(other) and \(slot.name) are both master of epoch \(epoch)")
        }
        masters[epoch] = slot.name
      }
    }
  }

  // MARK: Quiescence

  /// Heals every fault, lets heartbeats settle the roles, then runs three full sync passes.
  func quiesce() async {
    trace("heal: faults end, noise stops")
    links.setNoise(.none)
    links.discardHeld()
    links.unblockAll()
    await endDueFaults(all: true)
    for slot in servers where slot.status == .crashed { restart(slot) }
    var settledRounds = 0
    for _ in 0..<40 where settledRounds < 2 {
      await passQuietly(.milliseconds(40))
      var settled = true
      for cluster in synchronizers.map(\.cluster) where !(await isSettled(cluster)) { settled = false }
      settledRounds = settled ? settledRounds + 1 : 0
    }
    if settledRounds < 2 {
      var phases: [String] = []
      for slot in servers { phases.append("\(slot.name): \((await slot.server.phase).traced)") }
      fail(
        "roles-settle", "after healing, roles did not settle: \(phases.joined(separator: ", "))", final: true)
      return
    }
    for pass in 1...3 {
      await passQuietly(syncInterval)
      for slot in synchronizers {
        do {
          try await slot.synchronizer.round()
        } catch {
          fail("sync-after-healing", "pass \(pass): \(slot.name) round failed: \(error)", final: true)
          return
        }
      }
    }
    await passQuietly(.milliseconds(40))
    trace("settled and synced")
  }

  /// Lets `duration` pass without faults, every server heartbeating at least every 40 ms, so that nobody is
  /// declared dead while the system is supposed to be quiet.
  func passQuietly(_ duration: Duration) async {
    var left = duration.wholeMilliseconds
    repeat {
      let chunk = min(left, 40)
      clock.advance(by: .milliseconds(chunk))
      left -= chunk
      for slot in servers { await heartbeat(slot) }
      await checkLiveness()
    } while left > 0
  }
}
