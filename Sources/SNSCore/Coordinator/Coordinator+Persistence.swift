/// The coordinator's saves of its roles: at most one in flight, in order, each with the roles as they were
/// when it was asked for.
struct RolePersistence {
  /// What the store is known to hold.
  var saved: CoordinatorRoles?
  /// The save asked for last and not yet confirmed, with the roles it writes.
  var pending: (roles: CoordinatorRoles, task: Task<Void, any Error>)?
}

extension Coordinator {
  /// Returns once the store holds the roles as they are now, so the caller may answer. Saves queue behind
  /// each other (a later one never lands before an earlier one); callers whose roles equal the save in
  /// flight wait for it instead of saving again.
  func persistRoles() async throws {
    guard let roleStore else { return }
    let roles = state.roles
    if roles == persistence.saved { return }
    let task: Task<Void, any Error>
    if let pending = persistence.pending, pending.roles == roles {
      task = pending.task
    } else {
      let previous = persistence.pending?.task
      task = Task {
        _ = await previous?.result
        try await roleStore.save(roles)
      }
      persistence.pending = (roles, task)
    }
    do {
      try await task.value
    } catch {
      if persistence.pending?.task == task { persistence.pending = nil }
      SNSMetrics.coordinator(.roleSaveFailed)
      throw SNSError.unavailable("the coordinator cannot store its roles: \(error)")
    }
    if persistence.pending?.task == task {
      persistence.pending = nil
      persistence.saved = roles
    }
  }
}
