import Foundation
import Logging
import Synchronization

/// Names of the directories under one machine's `<data-dir>` (DESIGN.md §4): `<role>_<id>` for servers, as the
/// server first started, and `synchronizer_<cluster>`.
public enum ServerDirectoryLayout {
  /// `<root>/cluster_<n>`: the data directory of cluster `n`'s machine in a deployment under one root, as
  /// `sns cluster up`, the façade, the benchmarks and the chaos harness lay it out.
  public static func machineDirectory(in root: String, cluster: ClusterID) -> String {
    (root as NSString).appendingPathComponent("cluster_\(cluster)")
  }

  /// The role a server of a new cluster starts with: server 1 registers first and becomes master.
  public static func firstRole(of id: ServerID) -> Role { id.value == 1 ? .master : .slave }

  public static func serverDirectoryName(role: Role, id: ServerID) -> String { "\(role.rawValue)_\(id)" }
  public static func synchronizerDirectoryName(cluster: ClusterID) -> String { "synchronizer_\(cluster)" }

  /// The server id a directory name belongs to (`master_3` → 3), or `nil` for anything else.
  public static func serverID(ofDirectoryName name: String) -> ServerID? {
    for role in [Role.master, .slave] where name.hasPrefix("\(role.rawValue)_") {
      return try? ServerID(parsing: name.dropFirst(role.rawValue.count + 1))
    }
    return nil
  }

  /// The directory a server uses: the one it used before (whatever role it had), else `<role>_<id>`.
  public static func serverDirectory(in dataDirectory: String, id: ServerID, roleIfNew: Role) -> String {
    for role in [Role.master, .slave] {
      let path = (dataDirectory as NSString).appendingPathComponent(serverDirectoryName(role: role, id: id))
      var isDirectory: ObjCBool = false
      if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
        return path
      }
    }
    return (dataDirectory as NSString).appendingPathComponent(serverDirectoryName(role: roleIfNew, id: id))
  }
}

extension ServerID {
  /// Parses a decimal server id (digits only).
  public init(parsing text: some StringProtocol) throws(ValidationError) {
    guard let number = plainDecimal(text) else { throw .invalidServerID(String(text.prefix(40))) }
    try self.init(number)
  }
}

/// The server directories under one data directory, opened as ``FileContextStore``s without reading their files
/// (``FileContextStore/openingLazily(directory:logger:fileSystem:cacheBudget:)``: the servers own them) and kept open.
public final class FileServerDirectories: ServerDirectories {
  let dataDirectory: String
  let logger: Logger
  let cacheBudget: Int
  let opened = Mutex<[String: FileContextStore]>([:])

  /// A synchronizer's stores cache records within `cacheBudget` bytes each: its scans read past positions
  /// without caching, and its appends need only each file's keys, which every store keeps anyway.
  public static let defaultCacheBudget = 1 << 20

  public init(dataDirectory: String, logger: Logger, cacheBudget: Int = defaultCacheBudget) {
    self.dataDirectory = dataDirectory
    self.logger = logger
    self.cacheBudget = cacheBudget
  }

  public func stores() async throws -> [ServerID: any ContextStore] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: dataDirectory)) ?? []
    var result: [ServerID: any ContextStore] = [:]
    for name in names.sorted() {
      guard let id = ServerDirectoryLayout.serverID(ofDirectoryName: name) else { continue }
      let path = (dataDirectory as NSString).appendingPathComponent(name)
      if let store = opened.withLock({ $0[path] }) {
        result[id] = store
        continue
      }
      let store = try FileContextStore.openingLazily(
        directory: path, logger: logger, cacheBudget: cacheBudget)
      opened.withLock { $0[path] = store }
      result[id] = store
    }
    return result
  }
}
