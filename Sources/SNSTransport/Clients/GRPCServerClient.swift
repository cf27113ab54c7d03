import Foundation
import SNSCore
import SwiftProtobuf

/// ``ClientPort`` and ``ServerPeerPort`` over gRPC: the course's `SNSService`, our `ClientExtras.Post` for
/// acknowledged posts, and `ServerPeer` for mirroring and catch-up.
struct GRPCServerClient: ClientPort, ServerPeerPort {
  let channel: GRPCChannel
  let options: CallOptions

  func execute(_ command: Command, for user: UserID) async throws -> Reply {
    var request = Csce438_Request()
    request.username = user.description
    switch command {
    case .login:
      return try reply(try await channel.call(options, Methods.login, request, Csce438_Reply.self).msg)
    case .list:
      let list = try await channel.call(options, Methods.list, request, Csce438_ListReply.self)
      return Reply(
        .success,
        allUsers: try list.allUsers.map { text in try decoding("user list") { try UserID(parsing: text) } },
        followers: try list.followers.map { text in
          try decoding("follower list") { try UserID(parsing: text) }
        })
    case .follow(let target, let key):
      request.arguments = [target.description]
      request.key = key?.value ?? 0
      return try reply(try await channel.call(options, Methods.follow, request, Csce438_Reply.self).msg)
    case .unfollow(let target, let key):
      request.arguments = [target.description]
      request.key = key?.value ?? 0
      return try reply(try await channel.call(options, Methods.unfollow, request, Csce438_Reply.self).msg)
    case .post(let text, let key):
      var post = Tinysns_Internal_V1_PostRequest()
      post.username = user.description
      post.text = Data(text.value.utf8)
      post.key = key?.value ?? 0
      return try reply(
        try await channel.call(options, Methods.post, post, Tinysns_Internal_V1_PostReply.self).msg)
    }
  }

  func reply(_ message: String) throws -> Reply {
    guard let status = ReplyStatus(rawValue: message) else {
      throw SNSError.invalidArgument("unexpected reply '\(message.prefix(60))'")
    }
    return Reply(status)
  }

  func timeline(for user: UserID) async throws -> TimelineSubscription {
    let stream = try await translatingStatus {
      try await channel.bidirectionalStream(method: Methods.timeline, metadata: options.metadata)
    }
    var join = Csce438_Message()
    join.username = user.description
    try await translatingStatus { try await stream.send(try join.serializedBytes()) }
    let reader = TimelineReader(stream: stream)
    let updates = AsyncThrowingStream<Post, Error>(unfolding: { try await reader.next() })
    return TimelineSubscription(initial: [], updates: updates)
  }

  func mirror(_ request: MirrorRequest) async throws {
    var wire = Tinysns_Internal_V1_MirrorRequest()
    wire.cluster = Int32(request.cluster.value)
    wire.epoch = request.epoch.value
    wire.records = request.records.map(\.wire)
    _ = try await channel.call(options, Methods.mirror, wire, Tinysns_Internal_V1_Empty.self)
  }

  func catchUp(_ request: CatchUpRequest) async throws -> CatchUpReply {
    let reply = try await channel.call(
      options, Methods.catchUp, request.wire, Tinysns_Internal_V1_CatchUpReply.self)
    return try CatchUpReply(wire: reply)
  }
}

struct GRPCSynchronizerClient: SynchronizerPort {
  let channel: GRPCChannel
  let options: CallOptions

  func deliver(_ batch: SyncBatch) async throws -> SyncAck {
    let ack = try await channel.call(options, Methods.deliver, batch.wire, Tinysns_Internal_V1_SyncAck.self)
    return try SyncAck(wire: ack)
  }
}

/// Pulls posts off a Timeline stream one at a time, so the subscription needs no task of its own.
actor TimelineReader {
  let stream: GRPCClientStream
  var iterator: AsyncThrowingStream<[UInt8], Error>.Iterator

  init(stream: GRPCClientStream) {
    self.stream = stream
    self.iterator = stream.messages.makeAsyncIterator()
  }

  func next() async throws -> Post? {
    // The iterator is a reference to the stream's storage, so advancing a copy advances it.
    var current = iterator
    defer { iterator = current }
    do {
      while let bytes = try await current.next(isolation: self) {
        let message = try Csce438_Message(serializedBytes: bytes)
        // Notices answer posts sent on the stream; this client posts through `ClientExtras.Post` instead.
        guard !message.notice else { continue }
        return try Post(message: message)
      }
      return nil
    } catch let status as GRPCStatus {
      throw status.snsError
    }
  }

  deinit { stream.cancel() }
}
