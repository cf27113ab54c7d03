/// Catch-ups, reconcile pulls and backlog flushes beside the heartbeat loop. Pulls run one at a time, the latest
/// request wins, and a request for the pull already running is not queued again.
extension Server {
  enum PullJob: Hashable, Sendable {
    case catchUp(ServerDescriptor, Epoch, generation: UInt64)
    case reconcile(ServerDescriptor, Epoch)
  }

  func want(_ job: PullJob) {
    guard job != runningPull else { return }
    wantedPull = job
    pullRequested.yield()
  }

  func run(_ job: PullJob) async {
    runningPull = job
    defer { runningPull = nil }
    switch job {
    case .catchUp(let master, let epoch, let generation):
      await catchUp(from: master, epoch: epoch, generation: generation)
    case .reconcile(let slave, let epoch):
      await reconcile(from: slave, epoch: epoch)
    }
  }

  /// Runs wanted pulls until cancelled.
  func runPulls() async throws {
    for await _ in pullRequests {
      while let job = wantedPull {
        wantedPull = nil
        await run(job)
      }
      try Task.checkCancellation()
    }
  }

  /// Runs the flushes the heartbeat answers ask for, until cancelled. A mirror to a slow slave waits up to its
  /// deadline, and an owed write for a slow disk: awaited in the heartbeat loop, either would delay the next
  /// heartbeat past the failure window, and the coordinator would count a working master as dead.
  func runBacklogFlushes() async throws {
    for await _ in flushRequests {
      await flushBacklog()
      try Task.checkCancellation()
    }
  }

  /// Sends the slave what it has not acknowledged yet, and writes what this server owes its own disk.
  func flushBacklog() async {
    if case .master(_, let slave?) = state.phase, !unmirrored.isEmpty {
      _ = await mirror(records: [], to: slave, epoch: state.epoch)
    }
    _ = await storeOwedLocally()
  }
}
