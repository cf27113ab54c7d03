import SNSCore
import Synchronization

/// The coordinator's roles file in the simulation: a save is durable when it returns, and it outlives the
/// coordinator processes that wrote it.
final class SimulatedRoleStore: CoordinatorRoleStore {
  private let roles = Mutex<CoordinatorRoles?>(nil)

  var stored: CoordinatorRoles? { roles.withLock { $0 } }

  func load() async throws -> CoordinatorRoles? { stored }

  func save(_ new: CoordinatorRoles) async throws {
    roles.withLock { $0 = new }
  }
}
