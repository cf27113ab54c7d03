import Testing

@testable import SNSCore

@Suite("RecordCodec")
struct RecordCodecTests {
  // MARK: Fixtures

  static func user(_ value: Int) -> UserID {
    do { return try UserID(value) } catch { fatalError("fixture user id \(value): \(error)") }
  }

  static func text(_ value: String) -> PostText {
    do { return try PostText(value) } catch { fatalError("fixture text: \(error)") }
  }

  static let samples: [ContextRecord] = [
    .user(user(7)),
    .user(user(Int(Int32.max))),
    .following(
      FollowEvent(
        kind: .follow, follower: user(1), followee: user(2), sequence: 3,
        time: .init(milliseconds: 1_700_000_000_123))),
    .following(
      FollowEvent(
        kind: .unfollow, follower: user(1), followee: user(2), sequence: .max, time: .init(milliseconds: -5))),
    .follower(
      FollowEvent(
        kind: .unfollow, follower: user(1), followee: user(2), sequence: 4, time: .init(milliseconds: 0))),
    .follower(
      FollowEvent(
        kind: .follow, follower: user(9), followee: user(8), sequence: 1, time: .init(milliseconds: .max))),
    .post(
      Post(
        id: PostID(author: user(2), sequence: 5), time: .init(milliseconds: 1_700_000_000_123),
        text: text("hello, world"))),
    .post(
      Post(
        id: PostID(author: user(2), sequence: 6), time: .init(milliseconds: .min),
        text: text("  spaced  out  "))),
    .post(
      Post(
        id: PostID(author: user(3), sequence: 1), time: .init(milliseconds: 1),
        text: text("ünïcødé 🎉 t=5 seq=3 \t tab"))),
    .post(
      Post(
        id: PostID(author: user(3), sequence: 2), time: .init(milliseconds: 1),
        text: text("abcdef12 post 1-1 t=1 x"))),
    .cursor(SyncCursor(stream: .user, user: user(7), sequence: 1)),
    .cursor(SyncCursor(stream: .follows, user: user(7), sequence: 0)),
    .cursor(SyncCursor(stream: .posts, user: user(7), sequence: 12)),
  ]

  /// A line with a correct checksum around `payload`, so that decoding gets past the checksum.
  static func line(_ payload: String) -> String {
    "\(RecordCodec.hex(CRC32C.checksum(payload.utf8))) \(payload)"
  }

  static func decodingError(_ line: String) -> RecordDecodingError? {
    do {
      _ = try RecordCodec.decode(line)
      return nil
    } catch {
      return error
    }
  }

  // MARK: Checksum

  @Test func crc32cMatchesTheStandardCheckValues() {
    #expect(CRC32C.checksum("123456789".utf8) == 0xE306_9283)
    #expect(CRC32C.checksum([UInt8]()) == 0)
    #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
    #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
  }

  // MARK: Round trip

  @Test(arguments: RecordCodecTests.samples)
  func roundTrip(_ record: ContextRecord) throws {
    let encoded = RecordCodec.encode(record)
    #expect(encoded.hasSuffix("\n"))
    #expect(encoded.dropLast().contains("\n") == false)
    #expect(try RecordCodec.decode(encoded) == record)
    #expect(try RecordCodec.decode(String(encoded.dropLast())) == record)
    let bytes = Array(encoded.utf8)
    #expect(try RecordCodec.decode(line: bytes.dropLast()) == record)
  }

  @Test func linesLookAsDocumented() throws {
    let follow = FollowEvent(
      kind: .follow, follower: Self.user(1), followee: Self.user(2), sequence: 3,
      time: .init(milliseconds: 1_700_000_000_123))
    let post = Post(
      id: PostID(author: Self.user(2), sequence: 5), time: .init(milliseconds: 1_700_000_000_123),
      text: Self.text("hello world"))
    #expect(RecordCodec.payload(of: .user(Self.user(7))) == "user 7")
    #expect(RecordCodec.payload(of: .following(follow)) == "following 1 2 follow seq=3 t=1700000000123")
    #expect(RecordCodec.payload(of: .follower(follow)) == "follower 1 2 follow seq=3 t=1700000000123")
    #expect(RecordCodec.payload(of: .post(post)) == "post 2-5 t=1700000000123 hello world")
    #expect(
      RecordCodec.payload(of: .cursor(SyncCursor(stream: .posts, user: Self.user(7), sequence: 12)))
        == "cursor posts 7 12")
    // The exact lines shown in docs/FILE-FORMAT.md.
    #expect(RecordCodec.encode(.user(Self.user(7))) == "f2511957 user 7\n")
    #expect(
      RecordCodec.encode(.post(post)).hasPrefix("\(Self.line("post 2-5 t=1700000000123 hello world"))\n"))
    let documented = Post(
      id: post.id, time: post.time, text: Self.text("hello, world"))
    #expect(RecordCodec.encode(.post(documented)) == "be9a77a8 post 2-5 t=1700000000123 hello, world\n")
    let keyed = Post(
      id: PostID(author: Self.user(2), sequence: 6), time: .init(milliseconds: 1_700_000_000_456),
      text: Self.text("typed at the course client"), key: RequestKey(0x9f86_d081_884c_7d65))
    #expect(
      RecordCodec.encode(.post(keyed))
        == "4e6f9bad post 2-6 t=1700000000456,k=9f86d081884c7d65 typed at the course client\n")
    let first = FollowEvent(
      kind: .follow, follower: follow.follower, followee: follow.followee, sequence: 1, time: follow.time)
    #expect(RecordCodec.encode(.following(first)) == "ed90ced4 following 1 2 follow seq=1 t=1700000000123\n")
    let keyedFollow = FollowEvent(
      kind: .follow, follower: follow.follower, followee: Self.user(3), sequence: 5,
      time: .init(milliseconds: 1_700_000_000_789), key: RequestKey(0x2c26_b46b_68ff_c68f))
    let keyedLine = RecordCodec.encode(.following(keyedFollow))
    #expect(keyedLine.hasSuffix(" following 1 3 follow seq=5 t=1700000000789,k=2c26b46b68ffc68f\n"))
    #expect(try RecordCodec.decode(keyedLine) == .following(keyedFollow))
    #expect(try RecordCodec.decode(RecordCodec.encode(.follower(keyedFollow))) == .follower(keyedFollow))
    // A follow line with a damaged key is damage, not a follow without one.
    #expect(Self.decodingError(Self.line("following 1 3 follow seq=5 t=1700000000789,k=2c26")) != nil)
    let checksum = RecordCodec.encode(.user(Self.user(7))).prefix(9)
    #expect(checksum.last == " ")
    #expect(checksum.dropLast().allSatisfy { $0.isHexDigit && !$0.isUppercase })
  }

  // MARK: Damage

  @Test func damagedLinesAreReportedAsDamage() throws {
    let good = Self.line("user 7")
    // Flip the user id: the checksum no longer matches.
    let flipped = good.replacingOccurrences(of: "user 7", with: "user 8")
    #expect(
      Self.decodingError(flipped).map { if case .checksumMismatch = $0 { true } else { false } } == true)
    for bad in [
      "", "user 7", "1234567 user 7", "ABCDEF01 user 7", "zzzzzzzz user 7", "\(good.prefix(8))",
      "\(good.prefix(8))_user 7",
    ] {
      #expect(Self.decodingError(bad) == .missingChecksum, "\(bad)")
    }
    let uppercase = good.prefix(8).uppercased() + good.dropFirst(8)
    if uppercase != good { #expect(Self.decodingError(uppercase)?.isDamage == true) }
    #expect(Self.decodingError(flipped)?.isDamage == true)
  }

  // MARK: Malformed payloads (with valid checksums)

  @Test(arguments: ["0", "-1", "99999999999", "2147483648", "../x", "7x", " 7", "", "+7", "1e3", "0x10", "٣"])
  func badUserIDsAreRefused(_ id: String) {
    for payload in [
      "user \(id)", "following \(id) 2 follow seq=1 t=1", "follower 1 \(id) follow seq=1 t=1",
      "post \(id)-1 t=1 hi", "cursor posts \(id) 1",
    ] {
      let error = Self.decodingError(Self.line(payload))
      #expect(error != nil, "\(payload)")
      #expect(error?.isDamage == false, "\(payload)")
    }
  }

  @Test(arguments: [
    "user", "user 7 8", "following 1 2 follow seq=1", "following 1 2 follow seq=1 t=1 extra",
    "follower 1 2", "post 2-5 t=1", "post 2-5", "cursor posts 7", "cursor posts 7 1 2",
    "following 1 2 follows seq=1 t=1", "following 1 2 follow sequence=1 t=1",
    "following 1 2 follow seq=-1 t=1",
    "following 1 2 follow seq=1 time=1", "following 1 2 follow seq=1 t=", "following 1 2 follow seq= t=1",
    "following 1  2 follow seq=1 t=1", "following 1 2 follow seq=18446744073709551616 t=1",
    "following 1 2 follow seq=1 t=9223372036854775808", "following 1 2 follow seq=1 t=--1",
    "post 2 t=1 hi", "post 2- t=1 hi", "post -5 t=1 hi", "post 2-5 1 hi", "post 2-5 t=1 ", "post 2-x t=1 hi",
    "cursor post 7 1", "cursor posts 7 -1", "cursor posts 7 x", "users 7", "USER 7", "", " user 7", "user 7 ",
  ])
  func malformedPayloadsAreRefused(_ payload: String) {
    let error = Self.decodingError(Self.line(payload))
    #expect(error != nil, "\(payload) decoded")
    #expect(error?.isDamage == false)
  }

  @Test func postTextMustBeValid() throws {
    var invalidUTF8 = Array("post 2-5 t=1 ab".utf8)
    invalidUTF8.insert(0xFF, at: invalidUTF8.count - 1)
    let checksum = Array(RecordCodec.hex(CRC32C.checksum(invalidUTF8)).utf8)
    var line = checksum + [UInt8(ascii: " ")] + invalidUTF8
    #expect(throws: RecordDecodingError.invalidValue(.invalidPost(.invalidUTF8))) {
      try RecordCodec.decode(line: line[...])
    }
    for (bytes, problem) in [
      (Array("a\u{0}b".utf8), ValidationError.PostProblem.containsNUL),
      (Array("a\rb".utf8), .containsNewline),
      (Array("a\u{2028}b".utf8), .containsNewline),
    ] {
      let payload = Array("post 2-5 t=1 ".utf8) + bytes
      line = Array(RecordCodec.hex(CRC32C.checksum(payload)).utf8) + [UInt8(ascii: " ")] + payload
      #expect(throws: RecordDecodingError.invalidValue(.invalidPost(problem))) {
        try RecordCodec.decode(line: line[...])
      }
    }
    // Longer than the default post limit still reads back: the writer validated it with its own limits.
    let long = String(repeating: "x", count: 5000)
    let record = try RecordCodec.decode(Self.line("post 2-5 t=1 \(long)"))
    if case .post(let post) = record { #expect(post.text.value == long) } else { Issue.record("not a post") }
  }

  @Test func unknownKindIsWholeButUnreadable() {
    #expect(Self.decodingError(Self.line("like 1 2")) == .unknownKind("like"))
  }

  /// Random bytes and randomly damaged lines never crash the decoder, and whatever does decode encodes back
  /// to exactly the same line (a damaged line must not pass as a different record).
  @Test func fuzzedLinesNeverCrash() {
    var random = SeededRandom(seed: 0x5EED_C0DE)
    let lines = Self.samples.map { Array(RecordCodec.encode($0).utf8.dropLast()) }
    for round in 0..<5000 {
      var bytes: [UInt8]
      if round % 2 == 0 {
        bytes = lines[Int(random.next() % UInt64(lines.count))]
        for _ in 0...(random.next() % 3) where !bytes.isEmpty {
          let at = Int(random.next() % UInt64(bytes.count))
          bytes[at] = UInt8(truncatingIfNeeded: random.next())
        }
      } else {
        bytes = (0..<(random.next() % 40)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
      }
      if let record = try? RecordCodec.decode(line: bytes[...]) {
        #expect(Array(RecordCodec.encode(record).utf8.dropLast()) == bytes, "seed round \(round)")
      }
    }
  }
}
