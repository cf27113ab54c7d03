import Foundation
import SNSCore
import SNSTestSupport
import SNSTransport
import SwiftProtobuf
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// Hostile Timeline streams, raw garbage on the TCP ports, and a flood of connections: clear errors, nothing
/// written, and the deployment keeps serving.
@Suite("Hostile streams, raw bytes and floods", .serialized)
struct HostileInputStreamTests {
  static let timeline = "/csce438.SNSService/Timeline"

  static func message(_ username: String, _ text: String) -> [UInt8] {
    var message = Csce438_Message()
    message.username = username
    message.msg = text
    return (try? message.serializedBytes()) ?? []
  }

  /// Runs `body` against a deployment (secret configured) where users 1 and 2 exist, then checks that the
  /// data directory did not change and that user 1 can still follow user 2.
  func withDeployment(_ body: (SNSOverGRPCTests.Deployment, GRPCChannel) async throws -> Void) async throws {
    try await withTemporaryDirectory { root in
      let deployment = try SNSOverGRPCTests.Deployment(root: root, secret: HostileInputTests.secret)
      await deployment.settleRoles()
      #expect(try await deployment.client(1).execute(.login) == .success)
      #expect(try await deployment.client(2).execute(.login) == .success)
      let before = HostileInputTests.snapshot(root)
      let master = GRPCChannel(target: "127.0.0.1:\(deployment.listeners[1].boundPort)")
      do {
        try await body(deployment, master)
      } catch {
        master.close()
        await deployment.stop()
        throw error
      }
      #expect(HostileInputTests.snapshot(root) == before, "the data directory changed")
      #expect(try await deployment.client(1).execute(.follow(try UserID(2))) == .success)
      master.close()
      await deployment.stop()
    }
  }

  /// Sends `messages` on a Timeline stream, closes the sending side, and returns how the call ended.
  func timelineStatus(_ channel: GRPCChannel, _ messages: [[UInt8]]) async -> GRPCStatus? {
    await statusOf {
      let stream = try await channel.bidirectionalStream(method: Self.timeline, timeout: .seconds(20))
      for message in messages { try await stream.send(message) }
      try await stream.closeSend()
      for try await _ in stream.messages {}
    }
  }

  /// Sends `messages` on a Timeline stream, closes the sending side, and returns how the call ended and the
  /// server's messages.
  func timelineExchange(_ channel: GRPCChannel, _ messages: [[UInt8]]) async -> (
    status: GRPCStatus?, replies: [Csce438_Message]
  ) {
    var replies: [Csce438_Message] = []
    let status = await statusOf {
      let stream = try await channel.bidirectionalStream(method: Self.timeline, timeout: .seconds(20))
      for message in messages { try await stream.send(message) }
      try await stream.closeSend()
      for try await bytes in stream.messages { replies.append(try Csce438_Message(serializedBytes: bytes)) }
    }
    return (status, replies)
  }

  @Test(
    "Timeline: no first message, a bad first message, a message for another user end the stream; a bad post gets a notice"
  )
  func timelineStreams() async throws {
    try await withDeployment { _, master in
      // Leaving before joining is allowed: the call just ends.
      #expect(await timelineStatus(master, []) == nil)
      #expect(await timelineStatus(master, [Self.message("alice", "")])?.code == .invalidArgument)
      #expect(await timelineStatus(master, [Self.message("0", "")])?.code == .invalidArgument)
      #expect(await timelineStatus(master, [Self.message("../1", "")])?.code == .invalidArgument)
      #expect(
        await timelineStatus(master, [Self.message("1", ""), Self.message("2", "posted as someone else")])?
          .code
          == .invalidArgument)
      // A post that is invalid even without its trailing line break is refused with a notice, and the stream
      // goes on until the client ends it.
      for bad in ["two\nlines", "", "\n", "a\rb\n"] {
        let (status, replies) = await timelineExchange(
          master, [Self.message("1", ""), Self.message("1", bad)])
        #expect(status == nil, "\(bad.debugDescription): \(String(describing: status))")
        #expect(
          replies.map(\.username) == ["server"] && replies.allSatisfy(\.notice)
            && replies.allSatisfy { $0.msg.hasPrefix("post refused: invalid post") },
          "\(bad.debugDescription): \(replies)")
      }
      #expect(await timelineStatus(master, [[0xFF, 0xFF, 0xFF]])?.code == .invalidArgument)
    }
  }

  @Test("garbage bytes and truncated HTTP/2 frames on every port; the listeners keep serving")
  func rawGarbage() async throws {
    try await withDeployment { deployment, master in
      let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
      var random = SystemRandomNumberGenerator()
      let garbage = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &random) }
      let inputs: [[UInt8]] = [
        garbage,
        Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8),
        preface,
        preface + [0x00, 0x00],  // a frame header cut after two bytes
        preface + [0x00, 0x00, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03],  // SETTINGS cut short
        preface + [0xFF, 0xFF, 0xFF, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01] + garbage,  // oversized DATA frame
      ]
      for listener in deployment.listeners {
        for input in inputs { sendRaw(input, port: listener.boundPort) }
      }
      // Every listener still answers a real call.
      let coordinator = GRPCChannel(target: "127.0.0.1:\(deployment.listeners[0].boundPort)")
      var id = Csce438_ID()
      id.id = 1
      let server: Csce438_ServerInfo = try await coordinator.unary(
        method: "/csce438.CoordService/GetServer", request: id, timeout: .seconds(20))
      #expect(server.serverID == 1)
      coordinator.close()
      var request = Csce438_Request()
      request.username = "1"
      let reply: Csce438_Reply = try await master.unary(
        method: HostileInputTests.login, request: request, timeout: .seconds(20))
      #expect(reply.msg == ReplyStatus.success.rawValue)
    }
  }

  @Test("a burst of 200 connections with bad requests, then a normal client is served")
  func connectionFlood() async throws {
    try await withDeployment { deployment, _ in
      let port = deployment.listeners[1].boundPort
      let answered = await withTaskGroup(of: Bool.self) { group in
        for index in 0..<200 {
          group.addTask {
            let channel = GRPCChannel(target: "127.0.0.1:\(port)")
            defer { channel.close() }
            var request = Csce438_Request()
            request.username = "flood-\(index)"
            let reply: Csce438_Reply? = try? await channel.unary(
              method: HostileInputTests.login, request: request, timeout: .seconds(20))
            return reply?.msg == ReplyStatus.invalidUsername.rawValue
          }
        }
        return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
      }
      #expect(answered == 200)
    }
  }

  #if os(Linux)
    /// A disk error on one of the master's files (here ENOSPC from `/dev/full`) reaches the client as a clear
    /// error, never as an acknowledgement: the first post, which the slave took, is in doubt (UNAVAILABLE: the
    /// master stores it once the file lets it), later ones to that file are refused for good, and writes to
    /// other files go on.
    @Test("a full disk under one file refuses its posts with a clear error; other users' posts go on")
    func diskFullReachesTheClient() async throws {
      try await withTemporaryDirectory { root in
        let deployment = try SNSOverGRPCTests.Deployment(root: root, secret: HostileInputTests.secret)
        await deployment.settleRoles()
        #expect(try await deployment.client(1).execute(.login) == .success)
        #expect(try await deployment.client(2).execute(.login) == .success)
        try FileManager.default.createSymbolicLink(
          atPath: "\(root)/master_1/1.timeline", withDestinationPath: "/dev/full")
        let master = GRPCChannel(target: "127.0.0.1:\(deployment.listeners[1].boundPort)")
        func post(_ text: String, by user: String) async -> GRPCStatus? {
          var request = Tinysns_Internal_V1_PostRequest()
          request.username = user
          request.text = Data(text.utf8)
          return await statusOf {
            let reply: Tinysns_Internal_V1_PostReply = try await master.unary(
              method: HostileInputTests.postMethod, request: request, timeout: .seconds(20))
            guard reply.msg == ReplyStatus.success.rawValue else { throw GRPCStatus(.unknown, reply.msg) }
          }
        }
        let inDoubt = await post("in doubt", by: "1")
        #expect(inDoubt?.code == .unavailable)
        #expect(
          inDoubt?.message.contains("No space left on device") == true, "\(String(describing: inDoubt))")
        let refused = await post("never acknowledged", by: "1")
        #expect(refused?.code == .internalError)
        #expect(
          refused?.message.contains("No space left on device") == true, "\(String(describing: refused))")
        let otherUser = await post("never acknowledged", by: "2")
        #expect(otherUser == nil, "\(String(describing: otherUser))")
        let slave = (try? String(contentsOfFile: "\(root)/slave_2/1.timeline", encoding: .utf8)) ?? ""
        #expect(slave.contains("in doubt") && !slave.contains("never acknowledged"), "\(slave)")
        master.close()
        await deployment.stop()
      }
    }
  #endif

  /// Connects to 127.0.0.1:`port`, writes `bytes`, and closes without waiting for an answer.
  func sendRaw(_ bytes: [UInt8], port: Int) {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { return }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    #expect(connected == 0, "cannot connect to port \(port)")
    _ = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
  }
}
