/// A post as the checker needs it: who wrote it and its text.
public struct ChaosPost: Hashable, Sendable {
  public var author: Int
  public var text: String
  public init(author: Int, text: String) {
    self.author = author
    self.text = text
  }
}

/// One of a user's own follow events (`following` records of `<user>.follow`), in sequence order.
public struct ChaosFollowEvent: Hashable, Sendable {
  public var followee: Int
  public var follows: Bool
  public var sequence: UInt64
  public init(followee: Int, follows: Bool, sequence: UInt64) {
    self.followee = followee
    self.follows = follows
    self.sequence = sequence
  }
}

/// What one server directory holds at the end of a run, read through the store.
public struct ChaosServerFiles: Hashable, Sendable {
  public var cluster: Int
  public var server: Int
  /// Posts of each `<user>.timeline` (own and delivered), in file order.
  public var timelines: [Int: [ChaosPost]]
  /// Each user's own follow events, from `<user>.follow`.
  public var follows: [Int: [ChaosFollowEvent]]

  public init(
    cluster: Int, server: Int, timelines: [Int: [ChaosPost]] = [:], follows: [Int: [ChaosFollowEvent]] = [:]
  ) {
    self.cluster = cluster
    self.server = server
    self.timelines = timelines
    self.follows = follows
  }

  /// Whom `user` follows after all of their events in this directory.
  public func followees(of user: Int) -> Set<Int> {
    var followees: Set<Int> = []
    for event in (follows[user] ?? []).sorted(by: { $0.sequence < $1.sequence }) {
      if event.follows { followees.insert(event.followee) } else { followees.remove(event.followee) }
    }
    return followees
  }
}

/// The deployment after healing and a few sync rounds: every server's files, each cluster's final master
/// and whether it answered a client.
public struct ChaosFinalState: Hashable, Sendable {
  public var clusterCount: Int
  public var servers: [ChaosServerFiles]
  /// The coordinator's master of each cluster at the end (nil: none).
  public var masters: [Int: Int]
  /// Clusters whose master answered a LIST at the end.
  public var answering: Set<Int>
  /// Every time a server took the master role, from its log (`role changed … to="master(epoch: E`).
  public var masterships: [ChaosMastership]

  public init(
    clusterCount: Int, servers: [ChaosServerFiles], masters: [Int: Int], answering: Set<Int>,
    masterships: [ChaosMastership] = []
  ) {
    self.clusterCount = clusterCount
    self.servers = servers
    self.masters = masters
    self.answering = answering
    self.masterships = masterships
  }

  /// The cluster that owns `user`: `((u - 1) mod N) + 1`, as the coordinator assigns it.
  public func cluster(of user: Int) -> Int { (user - 1) % clusterCount + 1 }

  /// The final master's files of `user`'s cluster.
  public func master(of user: Int) -> ChaosServerFiles? {
    let cluster = cluster(of: user)
    guard let id = masters[cluster] else { return nil }
    return servers.first { $0.cluster == cluster && $0.server == id }
  }
}

/// A server of a cluster became master of an epoch (a line of its log).
public struct ChaosMastership: Hashable, Sendable {
  public var cluster: Int
  public var server: Int
  public var epoch: UInt64
  public init(cluster: Int, server: Int, epoch: UInt64) {
    self.cluster = cluster
    self.server = server
    self.epoch = epoch
  }

  /// The masterships a server's log records: the epochs of its `role changed` lines that end as master.
  public static func parse(log: String, cluster: Int, server: Int) -> [ChaosMastership] {
    log.split(separator: "\n").compactMap { line in
      guard line.contains("msg=\"role changed\""), let range = line.range(of: "to=\"master(epoch: ") else {
        return nil
      }
      let digits = line[range.upperBound...].prefix { $0.isNumber }
      return UInt64(digits).map { ChaosMastership(cluster: cluster, server: server, epoch: $0) }
    }
  }
}
