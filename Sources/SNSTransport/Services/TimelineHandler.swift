import Foundation
import Logging
import SNSCore
import SwiftProtobuf

/// `SNSService.Timeline`: the client's first message names it (its `msg` may be empty or a join marker);
/// each later message is a post. The server first sends the latest posts of followees, newest first, then
/// streams new ones as they reach the user's timeline file.
///
/// Posts arrive as the course client reads them, with `fgets`: one trailing line break is dropped. A post that
/// is still invalid, or that the server refused, does not end the stream (the course client could not reopen
/// it): the server answers with a notice, a `Message` from `server` with `notice` set, saying why.
/// Only a server that is not master ends the stream (`UNAVAILABLE`), so clients find the real one.
struct TimelineHandler: Sendable {
  let server: any ClientPort
  let postLimits: PostLimits
  let logger: Logger

  var handler: GRPCMethodHandler {
    .bidirectionalStream(Csce438_Message.self, Csce438_Message.self) { requests, writer, _ in
      try await serve(requests, writer)
    }
  }

  func serve(
    _ requests: AsyncThrowingStream<Csce438_Message, Error>, _ writer: GRPCTypedStreamWriter<Csce438_Message>
  )
    async throws
  {
    var inbound = requests.makeAsyncIterator()
    guard let join = try await inbound.next() else { return }  // left before joining
    let user = try decoding("timeline username") { try UserID(parsing: join.username) }
    let subscription = try await clientFacing { try await server.timeline(for: user) }
    for post in subscription.initial { try await writer.send(post.message) }
    try await withThrowingTaskGroup(of: Void.self) { group in
      group.addTask {
        // A server that is no longer master ends the stream with UNAVAILABLE: clients find the real one.
        try await clientFacing {
          for try await post in subscription.updates { try await writer.send(post.message) }
        }
      }
      // The client's posts, until it closes its side.
      while let message = try await inbound.next() {
        guard message.username == join.username else {
          throw GRPCStatus(
            .invalidArgument, "timeline message names user '\(message.username.prefix(20))', not \(user)")
        }
        if let refusal = try await post(message.msg, by: user) {
          logger.warning("timeline post refused", metadata: ["user": "\(user)", "reason": "\(refusal)"])
          try await writer.send(.notice("post refused: \(refusal)"))
        }
      }
      group.cancelAll()
    }
  }

  /// Stores one post; returns why it was refused, or `nil` when it was stored. Throws only what ends the
  /// stream: this server is not master (`UNAVAILABLE`).
  func post(_ typed: String, by user: UserID) async throws -> String? {
    let text: PostText
    do {
      text = try PostText(typedLine: typed, limits: postLimits)
    } catch {
      return error.description
    }
    do {
      let reply = try await clientFacing { try await server.execute(.post(text), for: user) }
      return reply.status == .success ? nil : reply.status.courseSentence
    } catch let error as SNSError {
      return error.description
    }
  }
}

extension Csce438_Message {
  /// A message about the stream itself, shown by course clients as `server (time) >> text`.
  static func notice(_ text: String) -> Csce438_Message {
    var message = Csce438_Message()
    message.username = "server"
    message.msg = text
    message.timestamp = Google_Protobuf_Timestamp(date: Date())
    message.notice = true
    return message
  }
}
