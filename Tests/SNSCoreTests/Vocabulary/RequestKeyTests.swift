import Testing

@testable import SNSCore

/// A retried post carries the key of its first attempt: the server stores one post per key.
@Suite("Request keys: a retry never duplicates")
struct RequestKeyTests {
  let t0 = Timestamp(milliseconds: 5_000_000)
  let key = RequestKey(0x9f86_d081_884c_7d65) ?? .random()

  func master() -> ServerState {
    var state = ServerState(
      configuration: ServerConfiguration(
        cluster: cluster(1), id: server(1), endpoint: endpoint("127.0.0.2:9001"), clusterCount: 3))
    _ = state.onStart(now: t0)
    _ = state.onHeartbeatReply(
      RoleAssignment(role: .master, epoch: Epoch(1), master: nil, slave: nil), sentAt: t0, now: t0)
    return state
  }

  func view(keys: Set<RequestKey> = []) -> UserView {
    UserView(knownUsers: [user(1)], lastPostSequence: 7, postKeys: keys)
  }

  @Test("a keyed post's line keeps its key; a line without one still reads; a bad key is malformed")
  func codec() throws {
    let post = Post(
      id: PostID(author: user(2), sequence: 6), time: Timestamp(milliseconds: 1_700_000_000_456),
      text: text("k=0000000000000001 looks like a key"), key: key)
    let line = RecordCodec.payload(of: .post(post))
    #expect(line == "post 2-6 t=1700000000456,k=9f86d081884c7d65 k=0000000000000001 looks like a key")
    #expect(try RecordCodec.decode(RecordCodec.encode(.post(post))) == .post(post))
    let plain = Post(id: post.id, time: post.time, text: post.text)
    #expect(try RecordCodec.decode(RecordCodec.encode(.post(plain))) == .post(plain))
    for bad in ["t=1,k=", "t=1,k=9F86D081884C7D65", "t=1,x=9f86d081884c7d65", "t=1,k=0000000000000000"] {
      let payload = "post 2-6 \(bad) hi"
      let damaged = "\(RecordCodec.hex(CRC32C.checksum(payload.utf8))) \(payload)\n"
      #expect(throws: RecordDecodingError.self, "\(bad)") { try RecordCodec.decode(damaged) }
    }
  }

  @Test("a retry of a stored post is answered SUCCESS and writes nothing")
  func storedRetry() throws {
    var state = master()
    let retry = state.onCommand(.post(text("x"), key: key), for: user(1), view: view(keys: [key]), now: t0)
    #expect(retry == .reply(.success))
  }

  @Test("a retry while the first attempt is in flight is refused; once it ended, the key may be tried again")
  func inFlightRetry() throws {
    var state = master()
    guard
      case .write(let first) = state.onCommand(
        .post(text("x"), key: key), for: user(1), view: view(), now: t0)
    else {
      Issue.record("the first attempt should write")
      return
    }
    #expect(
      first.records.map(\.record) == [
        .post(Post(id: PostID(author: user(1), sequence: 8), time: t0, text: text("x"), key: key))
      ])
    guard
      case .refuse(.unavailable) = state.onCommand(
        .post(text("x"), key: key), for: user(1), view: view(), now: t0)
    else {
      Issue.record("a concurrent retry must not write a second copy")
      return
    }
    state.onWriteEnded(first)  // say it was refused: nothing stored here, so the next retry writes
    guard
      case .write(let retry) = state.onCommand(
        .post(text("x"), key: key), for: user(1), view: view(), now: t0 + .seconds(1))
    else {
      Issue.record("after a refused first attempt, a retry writes")
      return
    }
    // The very same post: a slave that kept the first attempt appends nothing new.
    #expect(retry.records == first.records)
    // Posts without a key are all new.
    guard case .write = state.onCommand(.post(text("x")), for: user(1), view: view(), now: t0),
      case .write = state.onCommand(.post(text("x")), for: user(1), view: view(), now: t0)
    else {
      Issue.record("unkeyed posts write")
      return
    }
  }
}
