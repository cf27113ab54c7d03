import SNSCore
import Testing

@Suite("Vocabulary validation")
struct VocabularyTests {
  @Test(
    "bad user ids are typed errors",
    arguments: [
      "0", "-1", "abc", "", " 1", "1 ", "2147483648", "99999999999", "../1", "1/2", "1\u{0}", "+5", "0x10",
    ])
  func badUserIDs(text: String) {
    #expect(throws: ValidationError.self) { try UserID(parsing: text) }
  }

  @Test("good user ids parse", arguments: [("1", 1), ("42", 42), ("2147483647", 2_147_483_647)])
  func goodUserIDs(text: String, value: Int32) throws {
    #expect(try UserID(parsing: text).value == value)
  }

  @Test("bad posts are typed errors")
  func badPosts() {
    #expect(throws: ValidationError.invalidPost(.empty)) { try PostText("") }
    #expect(throws: ValidationError.invalidPost(.containsNewline)) { try PostText("a\nb") }
    #expect(throws: ValidationError.invalidPost(.containsNewline)) { try PostText("a\rb") }
    #expect(throws: ValidationError.invalidPost(.containsNUL)) { try PostText("a\u{0}b") }
    #expect(throws: ValidationError.invalidPost(.invalidUTF8)) { try PostText(utf8: [0x61, 0xFF, 0x62]) }
    #expect(throws: ValidationError.invalidPost(.tooLong(bytes: 1025, limit: 1024))) {
      try PostText(String(repeating: "x", count: 1025))
    }
    #expect(throws: ValidationError.self) { try PostText("abc", limits: PostLimits(maximumBytes: 2)) }
    #expect((try? PostText("héllo wörld ✓")) != nil)
  }

  @Test("endpoints and durations parse or fail clearly")
  func endpointsAndDurations() throws {
    #expect(try Endpoint(parsing: "127.0.0.2:5000") == Endpoint(host: "127.0.0.2", port: 5000))
    #expect(try Endpoint(parsing: "[::1]:7").description == "[::1]:7")
    #expect(throws: ValidationError.self) { try Endpoint(parsing: "nohost") }
    #expect(throws: ValidationError.self) { try Endpoint(parsing: "h:70000") }
    #expect(try Duration(parsing: "250ms") == .milliseconds(250))
    #expect(try Duration(parsing: "10s") == .seconds(10))
    #expect(try Duration(parsing: "2m") == .seconds(120))
    #expect(try Duration(parsing: "1.5s") == .milliseconds(1500))
    #expect(throws: ValidationError.self) { try Duration(parsing: "fast") }
    #expect(throws: ValidationError.self) { try Duration(parsing: "-1s") }
  }

  @Test("context file names round trip and refuse anything else")
  func fileNames() {
    for file in [ContextFile.users, .cursors, .follows(user(7)), .timeline(user(12))] {
      #expect(ContextFile(fileName: file.fileName) == file)
    }
    for name in ["../users", "0.timeline", "x.follow", "7.timeline.tmp", "-1.follow", ""] {
      #expect(ContextFile(fileName: name) == nil)
    }
  }
}
