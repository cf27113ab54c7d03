/// The coordinator's saves of its roles: one at a time, each of the roles as they were when it began.
struct RolePersistence {
  /// What the store is known to hold.
  var saved: CoordinatorRoles?
  /// Whether a save is in flight.
  var saving = false
  /// Callers waiting for the save in flight to end.
  var waiting: [CheckedContinuation<Void, Never>] = []

  mutating func finishSave() {
    saving = false
    for waiter in waiting { waiter.resume() }
    waiting = []
  }
}

extension Coordinator {
  /// Returns once the store holds the roles as they are now, so the caller may answer. One save runs at a
  /// time (a later one can never land before an earlier one); a caller that finds one in flight waits for it
  /// and then looks again: the save it waited for may already hold its change.
  func persistRoles() async throws {
    guard let roleStore else { return }
    while persistence.saving {
      await withCheckedContinuation { persistence.waiting.append($0) }
    }
    let roles = state.roles
    if roles == persistence.saved { return }
    persistence.saving = true
    do {
      try await roleStore.save(roles)
    } catch {
      persistence.finishSave()
      SNSMetrics.coordinator(.roleSaveFailed)
      throw SNSError.unavailable("the coordinator cannot store its roles: \(error)")
    }
    persistence.saved = roles
    persistence.finishSave()
  }
}
