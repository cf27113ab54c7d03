extension ServerState {
  /// What to do with a mirror request from a master.
  public enum MirrorDecision: Hashable, Sendable {
    /// Append the records (idempotently) and acknowledge.
    case apply([PlacedRecord])
    case refuse(SNSError)
  }

  /// A master's writes arrive. Older epochs are refused; a newer epoch than this server knows means the
  /// coordinator moved on and this server (even if it thought itself master) is now the slave.
  public mutating func onMirror(_ request: MirrorRequest, now: Timestamp) -> MirrorDecision {
    guard request.cluster == configuration.cluster else {
      return .refuse(
        .invalidArgument("mirror for cluster \(request.cluster) sent to cluster \(configuration.cluster)"))
    }
    switch phase {
    case .registering:
      // Which epoch is current is not known yet: a deposed master's late mirror must not leave its refused
      // writes here. The master counts this as a slave that did not answer and retries after its next beat.
      return .refuse(.unavailable("server \(configuration.id) is still registering with the coordinator"))
    case .slave(let epoch, let master, let caughtUp):
      guard request.epoch >= epoch || configuration.plantedBugs.contains(.skipEpochCheck) else {
        return .refuse(.staleEpoch(current: epoch))
      }
      if request.epoch > epoch {
        phase = .slave(epoch: request.epoch, master: master, caughtUp: caughtUp)
      }
      return .apply(request.records)
    case .master(let epoch, _):
      guard request.epoch > epoch || configuration.plantedBugs.contains(.skipEpochCheck) else {
        return request.epoch == epoch
          ? .refuse(.notMaster("this server is master of epoch \(epoch)"))
          : .refuse(.staleEpoch(current: epoch))
      }
      phase = .slave(epoch: request.epoch, master: nil, caughtUp: false)
      leaseExpiry = nil
      return .apply(request.records)
    }
  }

  /// A slave asks for everything this server wrote. Only the master of that epoch (or newer) answers.
  public func onCatchUpRequest(epoch requested: Epoch) -> Result<Epoch, SNSError> {
    switch phase {
    case .master(let epoch, _) where requested <= epoch:
      return .success(epoch)
    case .slave(let epoch, _, _) where requested == epoch:
      // The master of this epoch, freshly started, pulls what its slave holds (see `reconcile`).
      return .success(epoch)
    case .master, .slave, .registering:
      return .failure(.notMaster("server \(configuration.id) is not master of epoch \(requested)"))
    }
  }
}
