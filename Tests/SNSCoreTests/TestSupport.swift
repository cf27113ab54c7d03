import Foundation
import Logging
import SNSCore
import SNSTestSupport
import Testing

func user(_ value: Int) -> UserID {
  // Test literals are positive and small.
  guard let id = try? UserID(value) else { preconditionFailure("bad test user id \(value)") }
  return id
}

func text(_ value: String) -> PostText {
  guard let text = try? PostText(value) else { preconditionFailure("bad test post \(value)") }
  return text
}

func cluster(_ value: Int) -> ClusterID {
  guard let id = try? ClusterID(value) else { preconditionFailure("bad test cluster \(value)") }
  return id
}

func server(_ value: Int) -> ServerID {
  guard let id = try? ServerID(value) else { preconditionFailure("bad test server \(value)") }
  return id
}

func endpoint(_ text: String) -> Endpoint {
  guard let endpoint = try? Endpoint(parsing: text) else { preconditionFailure("bad test endpoint \(text)") }
  return endpoint
}

let quietLogger = Logger.quiet()

/// A second synchronizer of cluster `number` over `sns`'s server directories, with its own cursor directory
/// `cursors` (a restarted one, or one with another page size): nothing in memory, only the files.
func extraSynchronizer(
  ofCluster number: Int, in sns: TinySNS, clock: any SNSClock, cursors: String,
  pageBytes: Int = CatchUpRequest.defaultPageBytes, scanChunkRecords: Int? = nil,
  progress: ((any SyncProgressStore) -> any SyncProgressStore)? = nil
) throws -> Synchronizer {
  let machine = (sns.root as NSString).appendingPathComponent("cluster_\(number)")
  var configuration = SynchronizerConfiguration(
    cluster: cluster(number), endpoint: endpoint("cluster\(number)-synchronizer:11000"), clusterCount: 3)
  configuration.transferPageBytes = pageBytes
  if let scanChunkRecords { configuration.scanChunkRecords = scanChunkRecords }
  let store = try FileSyncProgressStore(
    directory: (machine as NSString).appendingPathComponent(cursors), logger: quietLogger)
  return Synchronizer(
    configuration: configuration,
    directories: FileServerDirectories(dataDirectory: machine, logger: quietLogger),
    progressStore: progress?(store) ?? store,
    coordinator: sns.network.coordinator(at: sns.coordinatorEndpoint), dialer: sns.network, clock: clock,
    logger: quietLogger)
}

/// The posts of a user's timeline file in a server directory, in timeline order (oldest first).
func timelinePosts(_ sns: TinySNS, cluster: Int, server: Int, user: UserID) async throws -> [Post] {
  let directory = ServerDirectoryLayout.serverDirectory(
    in: (sns.root as NSString).appendingPathComponent("cluster_\(cluster)"), id: SNSCoreTests.server(server),
    roleIfNew: .master)
  let store = try FileContextStore(directory: directory, logger: quietLogger)
  return try await store.records(in: .timeline(user)).compactMap {
    if case .post(let p) = $0 { p } else { nil }
  }.sorted()
}

/// A façade on a manual clock whose cluster 1 has server 1 as master and server 2 as its slave (two rounds of
/// heartbeats), or nil (recorded as an issue) if the roles did not come out so.
func tinySNSWithRoles(root: String, clock: ManualClock) async throws -> (
  sns: TinySNS, master: Server, slave: Server, epoch: Epoch
)? {
  let sns = try TinySNS(root: root, clock: clock, heartbeatInterval: .seconds(10), logger: quietLogger)
  await sns.heartbeatAll()
  await sns.heartbeatAll()
  let master = sns.servers[0][0]
  let slave = sns.servers[0][1]
  guard case .master(let epoch, _) = await master.phase, case .slave = await slave.phase else {
    Issue.record("server 1 should be master and server 2 its slave")
    return nil
  }
  return (sns, master, slave, epoch)
}

/// Server `id`'s directory of cluster 1 under `root`, as ``tinySNSWithRoles(root:clock:)`` lays it out (server 1
/// starts as master).
func clusterOneDirectory(_ root: String, server id: Int) -> String {
  ServerDirectoryLayout.serverDirectory(
    in: (root as NSString).appendingPathComponent("cluster_1"), id: server(id),
    roleIfNew: id == 1 ? .master : .slave)
}
