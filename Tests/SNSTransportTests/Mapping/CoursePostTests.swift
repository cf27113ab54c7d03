import Foundation
import SNSCore
import SNSTestSupport
import SNSTransport
import SwiftProtobuf
import Testing

/// Posts as the course client sends them on the Timeline stream: read with `fgets`, each ends with the line
/// break the user typed.
@Suite("Course client posts on the Timeline stream")
struct CoursePostTests {
  static func message(_ username: String, _ text: String) -> [UInt8] {
    var message = Csce438_Message()
    message.username = username
    message.msg = text
    return (try? message.serializedBytes()) ?? []
  }

  @Test(
    "a post ending in \\n or \\r\\n is stored without it; a refused post gets a notice and the next one is stored"
  )
  func trailingNewline() async throws {
    try await withTemporaryDirectory { root in
      let deployment = try SNSOverGRPCTests.Deployment(root: root)
      await deployment.settleRoles()
      #expect(try await deployment.client(1).execute(.login) == .success)
      let master = GRPCChannel(target: "127.0.0.1:\(deployment.listeners[1].boundPort)")
      defer { master.close() }
      let stream = try await master.bidirectionalStream(
        method: "/csce438.SNSService/Timeline", timeout: .seconds(20))
      for text in ["", "first post\n", "too\nmany lines\n", "second post\r\n"] {
        try await stream.send(Self.message("1", text))
      }
      var replies = stream.messages.makeAsyncIterator()
      let notice = try Csce438_Message(serializedBytes: try #require(try await replies.next()))
      #expect(notice.notice && notice.username == "server", "\(notice)")
      #expect(notice.msg == "post refused: invalid post: contains a line break")
      try await stream.closeSend()
      while try await replies.next() != nil {}

      let store = try FileContextStore(directory: "\(root)/master_1", logger: SNSOverGRPCTests.logger)
      let posts = try await store.records(in: .timeline(try UserID(1))).compactMap {
        if case .post(let post) = $0 { post.text.value } else { nil }
      }
      #expect(posts == ["first post", "second post"])
      await deployment.stop()
    }
  }
}
