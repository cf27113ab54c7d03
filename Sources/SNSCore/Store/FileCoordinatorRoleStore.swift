import Foundation

/// Keeps a coordinator's ``CoordinatorRoles`` in `<directory>/roles.json`: JSON a person can read with
/// `cat`, replaced whole on every save (written beside it, fsynced, renamed over it, directory fsynced), so a
/// crash leaves either the old roles or the new ones. Saves are rare: one per registration, promotion,
/// catch-up or "no live slave" answer, never per heartbeat.
public struct FileCoordinatorRoleStore: CoordinatorRoleStore {
  public let directory: String
  let fileSystem = POSIXFileSystem()
  var path: String { (directory as NSString).appendingPathComponent("roles.json") }

  /// Creates `directory` if needed.
  public init(directory: String) throws {
    try FileContextStore.prepare(directory: directory, on: fileSystem)
    self.directory = directory
  }

  static let threads = BlockingThreads(name: "sns-roles", count: 1)

  public func load() async throws -> CoordinatorRoles? {
    let path = self.path
    let bytes = await Self.threads.run { () -> Result<Data?, SNSError> in
      do throws(SNSError) {
        guard try fileSystem.status(atPath: path) != nil else { return .success(nil) }
        guard let data = FileManager.default.contents(atPath: path) else {
          return .failure(.storage("cannot read \(path)"))
        }
        return .success(data)
      } catch { return .failure(error) }
    }
    guard let data = try bytes.get() else { return nil }
    do {
      return try JSONDecoder().decode(StoredRoles.self, from: data).roles()
    } catch {
      throw SNSError.storage("\(path) is not a coordinator's roles file: \(error)")
    }
  }

  public func save(_ roles: CoordinatorRoles) async throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    let bytes = Array(try encoder.encode(StoredRoles(roles))) + [UInt8(ascii: "\n")]
    let (path, directory) = (self.path, self.directory)
    try await Self.threads.run { () -> Result<Void, SNSError> in
      do throws(SNSError) {
        try fileSystem.replaceFile(at: path, in: directory, with: bytes, via: path + ".saving")
        return .success(())
      } catch { return .failure(error) }
    }.get()
  }
}

/// The file's shape: plain numbers and strings, validated into vocabulary types on load.
private struct StoredRoles: Codable {
  struct Server: Codable {
    var id: Int
    var endpoint: String
    var syncGeneration: UInt64
    var inSync: Bool
  }
  struct Cluster: Codable {
    var id: Int
    var epoch: UInt64
    var master: Int?
    var servers: [Server]
  }
  var clusters: [Cluster]

  init(_ roles: CoordinatorRoles) {
    clusters = roles.clusters.keys.sorted().compactMap { id in
      guard let cluster = roles.clusters[id] else { return nil }
      return Cluster(
        id: id.value, epoch: cluster.epoch.value, master: cluster.master?.value,
        servers: cluster.servers.keys.sorted().compactMap { serverID in
          guard let server = cluster.servers[serverID] else { return nil }
          return Server(
            id: serverID.value, endpoint: "\(server.endpoint)", syncGeneration: server.syncGeneration,
            inSync: server.inSync)
        })
    }
  }

  func roles() throws -> CoordinatorRoles {
    var roles = CoordinatorRoles()
    for cluster in clusters {
      var servers: [ServerID: CoordinatorRoles.Server] = [:]
      for server in cluster.servers {
        servers[try ServerID(server.id)] = CoordinatorRoles.Server(
          endpoint: try Endpoint(parsing: server.endpoint), syncGeneration: server.syncGeneration,
          inSync: server.inSync)
      }
      roles.clusters[try ClusterID(cluster.id)] = CoordinatorRoles.Cluster(
        epoch: Epoch(cluster.epoch), master: try cluster.master.map { try ServerID($0) }, servers: servers)
    }
    return roles
  }
}
