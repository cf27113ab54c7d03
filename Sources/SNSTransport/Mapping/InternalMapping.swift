import Foundation
import SNSCore
import SwiftProtobuf

// Protobuf ↔ SNSCore for the internal services. Decoding validates every field with the core's validating
// initialisers: anything malformed becomes `SNSError.invalidArgument`, never a crash or a file path.

typealias WireFollowEvent = Tinysns_Internal_V1_FollowEvent
typealias WirePost = Tinysns_Internal_V1_Post
typealias WireRecord = Tinysns_Internal_V1_Record
typealias WireServerRef = Tinysns_Internal_V1_ServerRef

/// Runs a validating conversion, turning validation failures into `INVALID_ARGUMENT`.
func decoding<T>(_ what: String, _ body: () throws -> T) throws(SNSError) -> T {
  do {
    return try body()
  } catch let error as ValidationError {
    throw .invalidArgument("\(what): \(error)")
  } catch let error as SNSError {
    throw error
  } catch {
    throw .invalidArgument("\(what): \(error)")
  }
}

extension FollowEvent {
  var wire: WireFollowEvent {
    var event = WireFollowEvent()
    event.unfollow = kind == .unfollow
    event.follower = follower.value
    event.followee = followee.value
    event.sequence = sequence
    event.timeMs = time.milliseconds
    event.key = key?.value ?? 0
    return event
  }

  init(wire: WireFollowEvent) throws(SNSError) {
    self = try decoding("follow event") {
      guard wire.sequence > 0 else { throw SNSError.invalidArgument("sequence 0") }
      return FollowEvent(
        kind: wire.unfollow ? .unfollow : .follow, follower: try UserID(Int(wire.follower)),
        followee: try UserID(Int(wire.followee)), sequence: wire.sequence,
        time: Timestamp(milliseconds: wire.timeMs), key: RequestKey(wire.key))
    }
  }
}

extension Post {
  var wire: WirePost {
    var post = WirePost()
    post.author = author.value
    post.sequence = id.sequence
    post.timeMs = time.milliseconds
    post.text = Data(text.value.utf8)
    post.key = key?.value ?? 0
    return post
  }

  init(wire: WirePost, limits: PostLimits = .default) throws(SNSError) {
    self = try decoding("post") {
      guard wire.sequence > 0 else { throw SNSError.invalidArgument("sequence 0") }
      return Post(
        id: PostID(author: try UserID(Int(wire.author)), sequence: wire.sequence),
        time: Timestamp(milliseconds: wire.timeMs),
        text: try PostText(utf8: Array(wire.text), limits: limits),
        key: RequestKey(wire.key))
    }
  }
}

extension PlacedRecord {
  var wire: WireRecord {
    var record = WireRecord()
    switch file {
    case .users: record.users = true
    case .follows(let user): record.followsOf = user.value
    case .timeline(let user): record.timelineOf = user.value
    case .cursors: record.cursors = true
    }
    switch self.record {
    case .user(let user): record.user = user.value
    case .following(let event): record.following = event.wire
    case .follower(let event): record.follower = event.wire
    case .post(let post): record.post = post.wire
    case .cursor(let cursor):
      var wire = Tinysns_Internal_V1_Cursor()
      wire.stream = cursor.stream.rawValue
      wire.user = cursor.user.value
      wire.sequence = cursor.sequence
      record.cursor = wire
    }
    return record
  }

  init(wire: WireRecord) throws(SNSError) {
    let file: ContextFile
    switch wire.file {
    case .users: file = .users
    case .cursors: file = .cursors
    case .followsOf(let user): file = .follows(try decoding("record file") { try UserID(Int(user)) })
    case .timelineOf(let user): file = .timeline(try decoding("record file") { try UserID(Int(user)) })
    case nil: throw .invalidArgument("record without a file")
    }
    let record: ContextRecord
    switch wire.record {
    case .user(let user): record = .user(try decoding("user record") { try UserID(Int(user)) })
    case .following(let event): record = .following(try FollowEvent(wire: event))
    case .follower(let event): record = .follower(try FollowEvent(wire: event))
    case .post(let post): record = .post(try Post(wire: post))
    case .cursor(let cursor):
      guard let stream = SyncCursor.Stream(rawValue: cursor.stream) else {
        throw .invalidArgument("cursor stream '\(cursor.stream.prefix(20))'")
      }
      record = .cursor(
        SyncCursor(
          stream: stream, user: try decoding("cursor") { try UserID(Int(cursor.user)) },
          sequence: cursor.sequence))
    case nil: throw .invalidArgument("record without content")
    }
    // A record must live in the file it belongs to: nothing from the network picks an arbitrary file.
    guard Self.belongs(record, in: file) else {
      throw .invalidArgument("record \(record.key) does not belong in \(file)")
    }
    self.init(record, in: file)
  }

  static func belongs(_ record: ContextRecord, in file: ContextFile) -> Bool {
    switch (record, file) {
    case (.user, .users), (.cursor, .cursors): true
    case (.following(let event), .follows(let owner)): event.follower == owner
    case (.follower(let event), .follows(let owner)): event.followee == owner
    case (.post, .timeline): true
    case (.user, _), (.cursor, _), (.following, _), (.follower, _), (.post, _): false
    }
  }
}

extension ServerDescriptor {
  var wire: WireServerRef {
    var ref = WireServerRef()
    ref.cluster = Int32(cluster.value)
    ref.id = Int32(id.value)
    ref.host = endpoint.host
    ref.port = Int32(endpoint.port)
    ref.role = role.rawValue
    return ref
  }

  init(wire: WireServerRef) throws(SNSError) {
    self = try decoding("server") {
      guard let role = Role(parsing: wire.role) else {
        throw SNSError.invalidArgument("role '\(wire.role.prefix(20))'")
      }
      return ServerDescriptor(
        cluster: try ClusterID(Int(wire.cluster)), id: try ServerID(Int(wire.id)),
        endpoint: try Endpoint(host: wire.host, port: Int(wire.port)), role: role)
    }
  }
}

extension SynchronizerDescriptor {
  var wire: Tinysns_Internal_V1_SynchronizerRef {
    var ref = Tinysns_Internal_V1_SynchronizerRef()
    ref.cluster = Int32(cluster.value)
    ref.host = endpoint.host
    ref.port = Int32(endpoint.port)
    return ref
  }

  init(wire: Tinysns_Internal_V1_SynchronizerRef) throws(SNSError) {
    self = try decoding("synchronizer") {
      SynchronizerDescriptor(
        cluster: try ClusterID(Int(wire.cluster)),
        endpoint: try Endpoint(host: wire.host, port: Int(wire.port)))
    }
  }
}
