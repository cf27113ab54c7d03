import Foundation
import SNSCore
import SNSTestSupport
import SNSTransport
import SwiftProtobuf
import Testing

/// Hostile input on every port of a real gRPC deployment (coordinator, master, slave, synchronizer; cluster
/// secret configured): each case gets a clear answer, and the data directory is byte for byte unchanged.
@Suite("Hostile input over gRPC", .serialized)
struct HostileInputTests {
  /// Which listener of ``SNSOverGRPCTests/Deployment`` a case calls.
  enum Port: Int {
    case coordinator = 0, master, slave, synchronizer
  }

  /// What a case must get back.
  enum Expect {
    /// A non-OK status with this code.
    case status(GRPCStatus.Code)
    /// OK, with a course `Reply` whose `msg` is this text.
    case reply(String)
    /// OK, with a `PostReply` whose `msg` is this text.
    case postReply(String)
  }

  struct Case: CustomTestStringConvertible, Sendable {
    var name: String
    var port: Port
    var method: String
    var request: [UInt8]
    var secret: String?
    var expect: Expect
    var testDescription: String { name }
  }

  static let secret = "s3cret"
  static let invalidUsername = ReplyStatus.invalidUsername.rawValue

  static func bytes(_ message: some SwiftProtobuf.Message) -> [UInt8] {
    (try? message.serializedBytes()) ?? []
  }

  static func request(_ username: String, _ arguments: [String] = []) -> [UInt8] {
    var request = Csce438_Request()
    request.username = username
    request.arguments = arguments
    return bytes(request)
  }

  static func post(_ username: String, _ text: [UInt8]) -> [UInt8] {
    var request = Tinysns_Internal_V1_PostRequest()
    request.username = username
    request.text = Data(text)
    return bytes(request)
  }

  static func id(_ value: Int32) -> [UInt8] {
    var id = Csce438_ID()
    id.id = value
    return bytes(id)
  }

  static func heartbeat(cluster: Int32 = 1, server: Int32 = 9, host: String = "127.0.0.1", port: Int32 = 1)
    -> [UInt8]
  {
    var beat = Tinysns_Internal_V1_HeartbeatRequest()
    beat.cluster = cluster
    beat.server = server
    beat.host = host
    beat.port = port
    return bytes(beat)
  }

  static func slaveQuery(cluster: Int32 = 1, server: Int32 = 9, epoch: UInt64 = 1) -> [UInt8] {
    var query = Tinysns_Internal_V1_SlaveQuery()
    query.cluster = cluster
    query.server = server
    query.epoch = epoch
    return bytes(query)
  }

  static func courseHeartbeat(type: String = "master") -> [UInt8] {
    var info = Csce438_ServerInfo()
    info.serverID = 9
    info.clusterID = 1
    info.hostname = "127.0.0.1"
    info.port = "1"
    info.type = type
    return bytes(info)
  }

  /// A mirror request for cluster 1 carrying one record built by `fill`.
  static func mirror(epoch: UInt64 = 1, _ fill: (inout Tinysns_Internal_V1_Record) -> Void) -> [UInt8] {
    var record = Tinysns_Internal_V1_Record()
    fill(&record)
    var request = Tinysns_Internal_V1_MirrorRequest()
    request.cluster = 1
    request.epoch = epoch
    request.records = [record]
    return bytes(request)
  }

  static func wirePost(author: Int32 = 1, sequence: UInt64 = 1, text: [UInt8] = Array("hi".utf8))
    -> Tinysns_Internal_V1_Post
  {
    var post = Tinysns_Internal_V1_Post()
    post.author = author
    post.sequence = sequence
    post.text = Data(text)
    return post
  }

  static func deliver(_ fill: (inout Tinysns_Internal_V1_SyncBatch) -> Void) -> [UInt8] {
    var batch = Tinysns_Internal_V1_SyncBatch()
    batch.fromCluster = 1
    fill(&batch)
    return bytes(batch)
  }

  static let login = "/csce438.SNSService/Login"
  static let list = "/csce438.SNSService/List"
  static let follow = "/csce438.SNSService/Follow"
  static let unfollow = "/csce438.SNSService/UnFollow"
  static let postMethod = "/tinysns.internal.v1.ClientExtras/Post"
  static let mirrorMethod = "/tinysns.internal.v1.ServerPeer/Mirror"
  static let catchUp = "/tinysns.internal.v1.ServerPeer/CatchUp"
  static let deliverMethod = "/tinysns.internal.v1.Sync/Deliver"
  static let coordinationHeartbeat = "/tinysns.internal.v1.Coordination/Heartbeat"
  static let registerSynchronizer = "/tinysns.internal.v1.Coordination/RegisterSynchronizer"
  static let status = "/tinysns.internal.v1.Coordination/Status"
  static let findSlave = "/tinysns.internal.v1.Coordination/FindSlave"
  static let courseHeartbeatMethod = "/csce438.CoordService/Heartbeat"

  static let cases: [Case] = {
    var cases: [Case] = []
    func add(
      _ name: String, _ port: Port, _ method: String, _ request: [UInt8], secret: String? = nil,
      _ expect: Expect
    ) {
      cases.append(
        Case(name: name, port: port, method: method, request: request, secret: secret, expect: expect))
    }
    // Client-facing user ids: never a file path, never a crash.
    for (label, username) in [
      ("zero", "0"), ("negative", "-1"), ("not a number", "alice"), ("beyond Int32", "2147483648"),
      ("huge", "99999999999999999999999"), ("dot-dot path", "../1"), ("slash", "1/2"), ("NUL", "1\u{0}"),
      ("empty", ""), ("leading space", " 1"), ("plus sign", "+1"),
    ] {
      add("Login with user id \(label)", .master, login, request(username), .reply(invalidUsername))
    }
    add("Follow without an argument", .master, follow, request("1"), .reply(ReplyStatus.invalid.rawValue))
    add("Follow a path", .master, follow, request("1", ["../../etc/passwd"]), .reply(invalidUsername))
    add("Follow user 0", .master, follow, request("1", ["0"]), .reply(invalidUsername))
    add("UnFollow beyond Int32", .master, unfollow, request("1", ["4294967297"]), .reply(invalidUsername))
    add("UnFollow as a path", .master, unfollow, request("/etc", ["1"]), .reply(invalidUsername))
    add("List as a non-number", .master, list, request("x"), .status(.invalidArgument))
    add("List as user 0", .master, list, request("0"), .status(.invalidArgument))
    // Posts.
    add("Post empty", .master, postMethod, post("1", []), .status(.invalidArgument))
    add(
      "Post over the limit", .master, postMethod, post("1", Array(repeating: 0x61, count: 5000)),
      .status(.invalidArgument))
    add("Post with a newline", .master, postMethod, post("1", Array("a\nb".utf8)), .status(.invalidArgument))
    add(
      "Post with a carriage return", .master, postMethod, post("1", Array("a\rb".utf8)),
      .status(.invalidArgument))
    add("Post with NUL", .master, postMethod, post("1", [0x61, 0, 0x62]), .status(.invalidArgument))
    add("Post invalid UTF-8", .master, postMethod, post("1", [0x61, 0xC3, 0x28]), .status(.invalidArgument))
    add("Post as a path", .master, postMethod, post("../1", Array("x".utf8)), .postReply(invalidUsername))
    // Garbage and truncated protobuf, and unknown methods, on every port.
    let truncated = Array(request("12345", ["2"]).dropLast(2))
    for port in [Port.coordinator, .master, .slave, .synchronizer] {
      let method =
        switch port {
        case .coordinator: coordinationHeartbeat
        case .master, .slave: login
        case .synchronizer: deliverMethod
        }
      add(
        "Garbage bytes on \(port)", port, method, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF], secret: secret,
        .status(.invalidArgument))
      add(
        "Unknown method on \(port)", port, "/csce438.SNSService/DropTables", request("1"),
        .status(.unimplemented))
    }
    // Without the secret, an internal method refuses before it parses anything: garbage is UNAUTHENTICATED.
    for (port, method) in [
      (Port.coordinator, coordinationHeartbeat), (.coordinator, findSlave), (.slave, mirrorMethod),
      (.master, catchUp), (.synchronizer, deliverMethod),
    ] {
      add(
        "Garbage bytes to \(method) without secret", port, method, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
        .status(.unauthenticated))
    }
    add("Truncated Login", .master, login, truncated, .status(.invalidArgument))
    add(
      "Truncated Mirror", .slave, mirrorMethod,
      Array(
        mirror {
          $0.user = 5; $0.users = true
        }.dropLast(1)),
      secret: secret, .status(.invalidArgument))
    // Internal methods without, or with a wrong, secret.
    for (label, offered) in [("without", nil), ("with a wrong", "s3cre"), ("with a longer", "s3cret!")] {
      add(
        "Coordination.Heartbeat \(label) secret", .coordinator, coordinationHeartbeat, heartbeat(),
        secret: offered, .status(.unauthenticated))
      add(
        "ServerPeer.Mirror \(label) secret", .slave, mirrorMethod,
        mirror {
          $0.user = 5; $0.users = true
        },
        secret: offered, .status(.unauthenticated))
    }
    add(
      "CoordService.Heartbeat without secret", .coordinator, courseHeartbeatMethod, courseHeartbeat(),
      .status(.unauthenticated))
    add(
      "CoordService.Heartbeat as synchronizer without secret", .coordinator, courseHeartbeatMethod,
      courseHeartbeat(type: "synchronizer"), .status(.unauthenticated))
    add(
      "Coordination.RegisterSynchronizer without secret", .coordinator, registerSynchronizer,
      bytes(Tinysns_Internal_V1_SynchronizerRef()), .status(.unauthenticated))
    add("Coordination.Status without secret", .coordinator, status, [], .status(.unauthenticated))
    add(
      "Coordination.FindSlave without secret", .coordinator, findSlave, slaveQuery(),
      .status(.unauthenticated))
    // Only the master of the current epoch is told it may write alone; a stranger learns the epoch moved on.
    add(
      "Coordination.FindSlave from a server that is not master", .coordinator, findSlave, slaveQuery(),
      secret: secret, .status(.aborted))
    add(
      "Coordination.FindSlave for cluster 0", .coordinator, findSlave, slaveQuery(cluster: 0),
      secret: secret, .status(.invalidArgument))
    add("ServerPeer.CatchUp without secret", .master, catchUp, [], .status(.unauthenticated))
    add(
      "Sync.Deliver without secret", .synchronizer, deliverMethod, deliver { $0.users = [5] },
      .status(.unauthenticated))
    // Internal methods with the secret but invalid content.
    add(
      "Coordination.Heartbeat for cluster 0", .coordinator, coordinationHeartbeat, heartbeat(cluster: 0),
      secret: secret, .status(.invalidArgument))
    add(
      "Coordination.Heartbeat with port 70000", .coordinator, coordinationHeartbeat,
      heartbeat(port: 70000), secret: secret, .status(.invalidArgument))
    add(
      "GetServer for user 0", .coordinator, "/csce438.CoordService/GetServer", id(0),
      .status(.invalidArgument))
    add(
      "GetServer for user -5", .coordinator, "/csce438.CoordService/GetServer", id(-5),
      .status(.invalidArgument))
    add(
      "Mirror a user 0", .slave, mirrorMethod,
      mirror {
        $0.user = 0; $0.users = true
      }, secret: secret,
      .status(.invalidArgument))
    add(
      "Mirror a post into a follow file", .slave, mirrorMethod,
      mirror {
        $0.post = wirePost(); $0.followsOf = 1
      }, secret: secret, .status(.invalidArgument))
    add(
      "Mirror a post with a newline", .slave, mirrorMethod,
      mirror {
        $0.post = wirePost(text: Array("a\nb".utf8)); $0.timelineOf = 1
      }, secret: secret,
      .status(.invalidArgument))
    add(
      "Mirror into timeline of user -1", .slave, mirrorMethod,
      mirror {
        $0.post = wirePost(); $0.timelineOf = -1
      }, secret: secret, .status(.invalidArgument))
    add(
      "Mirror a record without a file", .slave, mirrorMethod, mirror { $0.user = 5 }, secret: secret,
      .status(.invalidArgument))
    add(
      "Deliver user 0", .synchronizer, deliverMethod, deliver { $0.users = [0] }, secret: secret,
      .status(.invalidArgument))
    add(
      "Deliver a post with NUL", .synchronizer, deliverMethod,
      deliver { $0.posts = [wirePost(text: [0x61, 0])] }, secret: secret, .status(.invalidArgument))
    add(
      "Deliver a post by user -3", .synchronizer, deliverMethod,
      deliver { $0.posts = [wirePost(author: -3)] },
      secret: secret, .status(.invalidArgument))
    return cases
  }()

  /// Every regular file under `root` and its bytes (logs excluded: there are none in-process).
  static func snapshot(_ root: String) -> [String: Data] {
    var files: [String: Data] = [:]
    let enumerator = FileManager.default.enumerator(atPath: root)
    while let relative = enumerator?.nextObject() as? String {
      let path = "\(root)/\(relative)"
      var isDirectory: ObjCBool = false
      if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
        files[relative] = FileManager.default.contents(atPath: path)
      }
    }
    return files
  }

  @Test("every hostile case gets a clear answer and changes nothing on disk")
  func table() async throws {
    #expect(Self.cases.count >= 30)
    try await withTemporaryDirectory { root in
      let deployment = try SNSOverGRPCTests.Deployment(root: root, secret: Self.secret)
      await deployment.settleRoles()
      #expect(try await deployment.client(1).execute(.login) == .success)
      #expect(try await deployment.client(2).execute(.login) == .success)
      let before = Self.snapshot(root)
      #expect(!before.isEmpty)
      var channels: [Port: GRPCChannel] = [:]
      for port in [Port.coordinator, .master, .slave, .synchronizer] {
        channels[port] = GRPCChannel(target: "127.0.0.1:\(deployment.listeners[port.rawValue].boundPort)")
      }
      for testCase in Self.cases {
        guard let channel = channels[testCase.port] else { continue }
        let metadata = GRPCMetadata(testCase.secret.map { [("x-sns-secret", $0)] } ?? [])
        var reply: [UInt8]?
        var status: GRPCStatus?
        do {
          reply = try await channel.unary(
            method: testCase.method, request: testCase.request, metadata: metadata, timeout: .seconds(20))
        } catch let error as GRPCStatus {
          status = error
        }
        switch testCase.expect {
        case .status(let code):
          #expect(status?.code == code, "\(testCase.name): \(status.map { "\($0)" } ?? "OK")")
          #expect(status.map { !$0.message.isEmpty } ?? false, "\(testCase.name): status without a message")
        case .reply(let text):
          let decoded = reply.flatMap { try? Csce438_Reply(serializedBytes: $0) }
          #expect(
            decoded?.msg == text, "\(testCase.name): \(status.map { "\($0)" } ?? "\(decoded?.msg ?? "")")")
        case .postReply(let text):
          let decoded = reply.flatMap { try? Tinysns_Internal_V1_PostReply(serializedBytes: $0) }
          #expect(
            decoded?.msg == text, "\(testCase.name): \(status.map { "\($0)" } ?? "\(decoded?.msg ?? "")")")
        }
        #expect(Self.snapshot(root) == before, "\(testCase.name) changed the data directory")
      }
      // Still serving: the legitimate client works after all that.
      #expect(try await deployment.client(1).execute(.follow(try UserID(2))) == .success)
      for channel in channels.values { channel.close() }
      await deployment.stop()
    }
  }
}
