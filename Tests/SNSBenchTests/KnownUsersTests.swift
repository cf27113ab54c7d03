import SNSCore
import Testing

/// The incremental users set that `sns bench post` profiling led to (``KnownUsers``).
@Suite("known users, folded incrementally")
struct KnownUsersTests {
  @Test("appended records are folded in; a replaced file is rebuilt from scratch")
  func incremental() throws {
    let (one, two, three) = (try UserID(1), try UserID(2), try UserID(3))
    var known = KnownUsers()
    known.update(from: [.user(one)])
    known.update(from: [.user(one), .user(two), .user(two)])
    #expect(known.users == [one, two])
    known.update(from: [.user(three)])
    #expect(known.users == [three])
    known.update(from: [.user(two), .user(one)])
    #expect(known.users == [two, one])
  }

  @Test("the view built from a prepared set equals the one built from the records")
  func sameView() throws {
    let users: [ContextRecord] = [.user(try UserID(1)), .user(try UserID(2))]
    var known = KnownUsers()
    known.update(from: users)
    let user = try UserID(1)
    #expect(
      UserView.build(user: user, users: users, follows: [], timeline: [])
        == UserView.build(user: user, knownUsers: known.users, follows: [], timeline: []))
  }
}
