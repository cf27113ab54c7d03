import SNSCore

/// `SNSService.Timeline`: the client's first message names it (its `msg` may be empty or a join marker);
/// each later message is a post. The server first sends the latest posts newest first, then streams posts as
/// they reach the user's timeline file.
struct TimelineHandler: Sendable {
  let server: any ClientPort
  let postLimits: PostLimits

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
        for try await post in subscription.updates { try await writer.send(post.message) }
      }
      // The client's posts, until it closes its side.
      while let message = try await inbound.next() {
        guard message.username == join.username else {
          throw GRPCStatus(
            .invalidArgument, "timeline message names user '\(message.username.prefix(20))', not \(user)")
        }
        let text = try decoding("post") { try PostText(message.msg, limits: postLimits) }
        let reply = try await clientFacing { try await server.execute(.post(text), for: user) }
        guard reply.status == .success else { throw GRPCStatus(.invalidArgument, reply.status.rawValue) }
      }
      group.cancelAll()
    }
  }
}
