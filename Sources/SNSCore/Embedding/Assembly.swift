import Foundation
import Logging

/// How every deployment of Tiny SNS is put together: the façade (``TinySNS``), the benchmarks' loopback
/// deployment, `sns server` and `sns synchronizer`. One machine's data directory (a cluster's, `machine`)
/// holds its servers' context directories and its synchronizer's positions, by the rule of
/// ``ServerDirectoryLayout``; the network is whatever `dialer` and `coordinator` reach.
public enum Assembly {
  /// A server over its context directory in `machine`: the one it used before, whatever its role then, else
  /// the one named after `roleIfNew`. Returns the directory too, for the logs.
  ///
  /// - Throws: ``SNSError/storage(_:)`` when the directory cannot be opened (see ``FileContextStore``).
  public static func server(
    _ configuration: ServerConfiguration, machine: String, roleIfNew: Role, coordinator: any CoordinatorPort,
    dialer: any Dialer, clock: any SNSClock, logger: Logger,
    cacheBudget: Int = FileContextStore.defaultCacheBudget
  ) throws -> (server: Server, directory: String) {
    let directory = ServerDirectoryLayout.serverDirectory(
      in: machine, id: configuration.id, roleIfNew: roleIfNew)
    let store = try FileContextStore(directory: directory, logger: logger, cacheBudget: cacheBudget)
    let server = Server(
      configuration: configuration, store: store, coordinator: coordinator, dialer: dialer, clock: clock,
      logger: logger)
    return (server, directory)
  }

  /// The synchronizer of `configuration.cluster` over `machine`: it reads and writes every server directory
  /// there in place, and keeps its positions in `synchronizer_<cluster>`.
  ///
  /// - Throws: ``SNSError/storage(_:)`` when its positions directory cannot be opened.
  public static func synchronizer(
    _ configuration: SynchronizerConfiguration, machine: String, coordinator: any CoordinatorPort,
    dialer: any Dialer, clock: any SNSClock, logger: Logger, lease: any SynchronizerLease = SoleSynchronizer()
  ) throws -> Synchronizer {
    let positions = (machine as NSString).appendingPathComponent(
      ServerDirectoryLayout.synchronizerDirectoryName(cluster: configuration.cluster))
    return Synchronizer(
      configuration: configuration,
      directories: FileServerDirectories(dataDirectory: machine, logger: logger),
      progressStore: try FileSyncProgressStore(directory: positions, logger: logger),
      coordinator: coordinator,
      dialer: dialer, clock: clock, logger: logger, lease: lease)
  }
}
