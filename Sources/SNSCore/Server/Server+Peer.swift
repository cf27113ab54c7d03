extension Server {
  public func mirror(_ request: MirrorRequest) async throws {
    switch state.onMirror(request, now: clock.now()) {
    case .refuse(let error):
      logger.warning("mirror refused", metadata: ["epoch": "\(request.epoch)", "error": "\(error)"])
      throw error
    case .apply(let records):
      try await store.append(records)
    }
  }

  public func catchUp(epoch: Epoch) async throws -> CatchUpReply {
    _ = try state.onCatchUpRequest(epoch: epoch).get()
    await waitForSoloWrites()
    // Asked again: the role may have changed while waiting.
    let current = try state.onCatchUpRequest(epoch: epoch).get()
    var records: [PlacedRecord] = []
    for case .user(let user) in try await store.records(in: .users) {
      records.append(PlacedRecord(.user(user), in: .users))
    }
    for file in try await store.files() {
      switch file {
      case .follows(let user):
        for case .following(let event) in try await store.records(in: file) where event.follower == user {
          records.append(PlacedRecord(.following(event), in: file))
        }
      case .timeline(let user):
        for case .post(let post) in try await store.records(in: file) where post.author == user {
          records.append(PlacedRecord(.post(post), in: file))
        }
      case .users, .cursors:
        continue
      }
    }
    return CatchUpReply(epoch: current, records: records)
  }
}
