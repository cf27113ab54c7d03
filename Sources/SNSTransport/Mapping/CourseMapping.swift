import Foundation
import SNSCore
import SwiftProtobuf

// Mapping at the edge of the course protocol (csce438): decimal user ids in strings, posts as `Message`.

extension Post {
  /// A post as the course's `Message`: author, text, time; our post sequence in field 10.
  var message: Csce438_Message {
    var message = Csce438_Message()
    message.username = author.description
    message.msg = text.value
    message.timestamp = Google_Protobuf_Timestamp(
      seconds: time.milliseconds / 1000, nanos: Int32(time.milliseconds % 1000) * 1_000_000)
    message.postSequence = id.sequence
    return message
  }

  init(message: Csce438_Message) throws(SNSError) {
    self = try decoding("timeline message") {
      let millis = message.timestamp.seconds * 1000 + Int64(message.timestamp.nanos / 1_000_000)
      return Post(
        id: PostID(author: try UserID(parsing: message.username), sequence: max(1, message.postSequence)),
        time: Timestamp(milliseconds: millis), text: try PostText(message.msg))
    }
  }
}

extension SyncBatch {
  var wire: Tinysns_Internal_V1_SyncBatch {
    var batch = Tinysns_Internal_V1_SyncBatch()
    batch.fromCluster = Int32(from.value)
    batch.users = users.map(\.value)
    batch.follows = follows.map(\.wire)
    batch.posts = posts.map(\.wire)
    batch.backfill = backfill.map(\.wire)
    return batch
  }

  init(wire: Tinysns_Internal_V1_SyncBatch) throws {
    self.init(
      from: try decoding("batch origin") { try ClusterID(Int(wire.fromCluster)) },
      users: try wire.users.map { user in try decoding("batch user") { try UserID(Int(user)) } },
      follows: try wire.follows.map { try FollowEvent(wire: $0) },
      posts: try wire.posts.map { try Post(wire: $0) },
      backfill: try wire.backfill.map { try BackfillCursor(wire: $0) })
  }
}

extension BackfillCursor {
  var wire: Tinysns_Internal_V1_BackfillCursor {
    var cursor = Tinysns_Internal_V1_BackfillCursor()
    cursor.followee = followee.value
    cursor.sinceMs = since.milliseconds
    cursor.afterSequence = afterSequence
    return cursor
  }

  init(wire: Tinysns_Internal_V1_BackfillCursor) throws {
    self.init(
      followee: try decoding("backfill followee") { try UserID(Int(wire.followee)) },
      since: Timestamp(milliseconds: wire.sinceMs), afterSequence: wire.afterSequence)
  }
}

extension SyncAck {
  var wire: Tinysns_Internal_V1_SyncAck {
    var ack = Tinysns_Internal_V1_SyncAck()
    ack.backfill = backfill.map(\.wire)
    ack.more = more.map(\.wire)
    return ack
  }

  init(wire: Tinysns_Internal_V1_SyncAck) throws {
    self.init(
      backfill: try wire.backfill.map { try Post(wire: $0) },
      more: try wire.more.map { try BackfillCursor(wire: $0) })
  }
}

extension CoordinatorStatus {
  var wire: Tinysns_Internal_V1_CoordinatorStatus {
    var status = Tinysns_Internal_V1_CoordinatorStatus()
    status.nowMs = now.milliseconds
    status.clusters = clusters.map { cluster in
      var wire = Tinysns_Internal_V1_CoordinatorStatus.Cluster()
      wire.id = Int32(cluster.id.value)
      wire.epoch = cluster.epoch.value
      wire.master = Int32(cluster.master?.value ?? 0)
      wire.servers = cluster.servers.map { server in
        var ref = Tinysns_Internal_V1_CoordinatorStatus.Server()
        ref.id = Int32(server.id.value)
        ref.host = server.endpoint.host
        ref.port = Int32(server.endpoint.port)
        ref.role = server.role.rawValue
        ref.alive = server.alive
        ref.lastHeartbeatMs = server.lastHeartbeat.milliseconds
        return ref
      }
      if let synchronizer = cluster.synchronizer { wire.synchronizer = synchronizer.wire }
      return wire
    }
    return status
  }

  init(wire: Tinysns_Internal_V1_CoordinatorStatus) throws {
    let clusters = try wire.clusters.map { cluster in
      try decoding("status") {
        CoordinatorStatus.Cluster(
          id: try ClusterID(Int(cluster.id)), epoch: Epoch(cluster.epoch),
          master: cluster.master > 0 ? try ServerID(Int(cluster.master)) : nil,
          servers: try cluster.servers.map { server in
            CoordinatorStatus.Server(
              id: try ServerID(Int(server.id)),
              endpoint: try Endpoint(host: server.host, port: Int(server.port)),
              role: Role(parsing: server.role) ?? .slave, alive: server.alive,
              lastHeartbeat: Timestamp(milliseconds: server.lastHeartbeatMs))
          },
          synchronizer: cluster.hasSynchronizer ? try SynchronizerDescriptor(wire: cluster.synchronizer) : nil
        )
      }
    }
    self.init(now: Timestamp(milliseconds: wire.nowMs), clusters: clusters)
  }
}
