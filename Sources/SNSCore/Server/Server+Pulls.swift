/// Catch-ups and reconcile pulls beside the heartbeat loop: one at a time, the latest request wins, and a
/// request for the pull already running is not queued again.
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
}
