import Foundation
import Logging
import SNSCore

/// A master/slave server's gRPC surface: the course's `SNSService` (open to any client), our
/// `ClientExtras.Post`, and `ServerPeer` (mirroring and catch-up, behind the cluster secret).
///
/// Course replies (`SUCCESS`, `FAILURE_…`) travel in `Reply.msg` with an OK status, because course clients
/// read the text only when the status is OK. A server that cannot take the request at all answers
/// `UNAVAILABLE` (course clients then ask the coordinator again); malformed requests `INVALID_ARGUMENT`.
public enum ServerService {
  public static func handlers(
    _ server: any ClientPort & ServerPeerPort, secret: SecretCheck, postLimits: PostLimits = .default,
    logger: Logger = Logger(label: "sns.server.timeline")
  ) -> [String: GRPCMethodHandler] {
    @Sendable func run(_ command: (UserID) throws -> Command, for username: String) async throws
      -> Csce438_Reply
    {
      var reply = Csce438_Reply()
      let user: UserID
      let parsed: Command
      do {
        user = try UserID(parsing: username)
        parsed = try command(user)
      } catch let error as ReplyStatus {
        reply.msg = error.rawValue
        return reply
      } catch {
        reply.msg = ReplyStatus.invalidUsername.rawValue
        return reply
      }
      reply.msg = try await clientFacing { try await server.execute(parsed, for: user) }.status.rawValue
      return reply
    }
    @Sendable func target(_ request: Csce438_Request) throws -> UserID {
      guard let argument = request.arguments.first else { throw ReplyStatus.invalid }
      return try UserID(parsing: argument)
    }
    return [
      Methods.login: .unary { (request: Csce438_Request, _) in
        try await run({ _ in .login }, for: request.username)
      },
      Methods.follow: .unary { (request: Csce438_Request, _) in
        try await run(
          { _ in .follow(try target(request), key: RequestKey(request.key)) }, for: request.username)
      },
      Methods.unfollow: .unary { (request: Csce438_Request, _) in
        try await run(
          { _ in .unfollow(try target(request), key: RequestKey(request.key)) }, for: request.username)
      },
      Methods.list: .unary { (request: Csce438_Request, _) in
        let user = try decoding("username") { try UserID(parsing: request.username) }
        let reply = try await clientFacing { try await server.execute(.list, for: user) }
        guard reply.status == .success else { throw GRPCStatus(.invalidArgument, reply.status.rawValue) }
        var list = Csce438_ListReply()
        list.allUsers = reply.allUsers.map(\.description)
        list.followers = reply.followers.map(\.description)
        return list
      },
      Methods.post: .unary { (request: Tinysns_Internal_V1_PostRequest, _) in
        var reply = Tinysns_Internal_V1_PostReply()
        guard let user = try? UserID(parsing: request.username) else {
          reply.msg = ReplyStatus.invalidUsername.rawValue
          return reply
        }
        let text = try decoding("post") { try PostText(utf8: Array(request.text), limits: postLimits) }
        let post = Command.post(text, key: RequestKey(request.key))
        reply.msg = try await clientFacing { try await server.execute(post, for: user) }.status.rawValue
        return reply
      },
      Methods.timeline: TimelineHandler(server: server, postLimits: postLimits, logger: logger).handler,
      Methods.mirror: .authenticated(by: secret) { (request: Tinysns_Internal_V1_MirrorRequest, context) in
        let cluster = try decoding("mirror cluster") { try ClusterID(Int(request.cluster)) }
        let records = try request.records.map { try PlacedRecord(wire: $0) }
        try await server.mirror(
          MirrorRequest(cluster: cluster, epoch: Epoch(request.epoch), records: records))
        return Tinysns_Internal_V1_Empty()
      },
      Methods.catchUp: .authenticated(by: secret) { (request: Tinysns_Internal_V1_CatchUpRequest, context) in
        try await server.catchUp(try CatchUpRequest(wire: request)).wire
      },
    ]
  }
}

extension ReplyStatus: Error {}

/// Runs a client-facing call; "not master" becomes `UNAVAILABLE`, the code course clients fail over on.
func clientFacing<T>(_ body: () async throws -> T) async throws -> T {
  do {
    return try await body()
  } catch SNSError.notMaster(let why) {
    throw GRPCStatus(.unavailable, "not master: \(why)")
  }
}
