import Testing

@testable import SNSCore

/// A server folds each user's files as they grow; the view it gets must be the one a fold of the whole files
/// gives, whatever the chunks the appends came in.
@Suite("UserFold")
struct UserFoldTests {
  typealias Fixture = FileContextStoreTests

  /// Random follow files (the user's events and their followers', in a shuffled file order, as several
  /// writers append them) and timelines (own and followees' posts, some with request keys).
  static func randomFiles(user: Int, using generator: inout some RandomNumberGenerator) -> (
    follows: [ContextRecord], timeline: [ContextRecord]
  ) {
    var follows: [ContextRecord] = []
    for sequence in 1...UInt64.random(in: 1...60, using: &generator) {
      let other = Int.random(in: 1...8, using: &generator)
      let kind: FollowEvent.Kind = Bool.random(using: &generator) ? .follow : .unfollow
      let event = FollowEvent(
        kind: kind, follower: Fixture.user(user), followee: Fixture.user(other == user ? user + 1 : other),
        sequence: sequence, time: Timestamp(milliseconds: 1))
      follows.append(.following(event))
      let follower = Fixture.user(Int.random(in: 10...14, using: &generator))
      follows.append(
        .follower(
          FollowEvent(
            kind: Bool.random(using: &generator) ? .follow : .unfollow, follower: follower,
            followee: Fixture.user(user), sequence: sequence, time: Timestamp(milliseconds: 1))))
    }
    follows.shuffle(using: &generator)
    var timeline: [ContextRecord] = []
    for sequence in 1...UInt64.random(in: 1...50, using: &generator) {
      let author = Bool.random(using: &generator) ? user : 20
      guard case .post(let post) = Fixture.post(author, sequence) else { continue }
      let key = Bool.random(using: &generator) ? RequestKey.random() : nil
      timeline.append(.post(Post(id: post.id, time: post.time, text: post.text, key: key)))
    }
    return (follows, timeline)
  }

  /// `records` cut into random consecutive chunks.
  static func chunks(of records: [ContextRecord], using generator: inout some RandomNumberGenerator)
    -> [ArraySlice<ContextRecord>]
  {
    var result: [ArraySlice<ContextRecord>] = []
    var start = 0
    while start < records.count {
      let end = min(records.count, start + Int.random(in: 0...7, using: &generator))
      result.append(records[start..<end])
      start = end
    }
    return result
  }

  @Test("folding a user's files in chunks gives the view of the whole files")
  func chunkedFoldMatchesTheWholeFold() {
    var generator = SystemRandomNumberGenerator()
    for _ in 0..<200 {
      let (follows, timeline) = Self.randomFiles(user: 3, using: &generator)
      var fold = UserFold(user: Fixture.user(3))
      var offset: Int64 = 0
      for chunk in Self.chunks(of: follows, using: &generator) {
        offset += Int64(chunk.count)
        fold.foldFollows(Array(chunk), next: FilePosition(offset: offset))
      }
      offset = 0
      for chunk in Self.chunks(of: timeline, using: &generator) {
        offset += Int64(chunk.count)
        fold.foldTimeline(Array(chunk), next: FilePosition(offset: offset))
      }
      let whole = UserView.build(user: Fixture.user(3), knownUsers: [], follows: follows, timeline: timeline)
      #expect(fold.view(knownUsers: []) == whole)
    }
  }

  @Test("a file that started over (replaced or cut) is folded again from nothing")
  func aFileThatStartedOverIsFoldedAgain() {
    let user = Fixture.user(1)
    let follow = FollowEvent(
      kind: .follow, follower: user, followee: Fixture.user(2), sequence: 1, time: Timestamp(milliseconds: 1))
    let other = FollowEvent(
      kind: .follow, follower: user, followee: Fixture.user(3), sequence: 1, time: Timestamp(milliseconds: 1))
    var fold = UserFold(user: user)
    fold.foldFollows([.following(follow)], next: FilePosition(offset: 40))
    #expect(fold.view(knownUsers: []).following == [Fixture.user(2)])
    // The master's version of the same key, in a file read again from its start.
    fold.foldFollows([.following(other)], next: FilePosition(offset: 30))
    #expect(fold.view(knownUsers: []).following == [Fixture.user(3)])

    fold.foldTimeline([Fixture.post(1, 5)], next: FilePosition(offset: 50))
    #expect(fold.view(knownUsers: []).lastPostSequence == 5)
    fold.foldTimeline([], next: .start)
    #expect(fold.view(knownUsers: []).lastPostSequence == 0)
  }

  @Test("a retry is recognised among the user's latest keyed posts")
  func latestKeysAreKept() {
    let keys = (1...UInt64(UserFold.recentKeyCount + 10)).compactMap(RequestKey.init)
    var fold = UserFold(user: Fixture.user(1))
    for (index, key) in keys.enumerated() {
      guard case .post(let post) = Fixture.post(1, UInt64(index + 1)) else { continue }
      fold.foldTimeline(
        [.post(Post(id: post.id, time: post.time, text: post.text, key: key))],
        next: FilePosition(offset: Int64(index + 1)))
    }
    let view = fold.view(knownUsers: [])
    #expect(view.postKeys == Set(keys.suffix(UserFold.recentKeyCount)))
    #expect(view.lastPostSequence == UInt64(keys.count))
  }

  @Test("a retried follow change is recognised among the user's latest keyed follow events")
  func latestFollowKeysAreKept() {
    let keys = (1...UInt64(UserFold.recentKeyCount + 10)).compactMap(RequestKey.init)
    var fold = UserFold(user: Fixture.user(1))
    for (index, key) in keys.enumerated() {
      let event = FollowEvent(
        kind: index.isMultiple(of: 2) ? .follow : .unfollow, follower: Fixture.user(1),
        followee: Fixture.user(2),
        sequence: UInt64(index + 1), time: Timestamp(milliseconds: Int64(index)), key: key)
      fold.foldFollows([.following(event)], next: FilePosition(offset: Int64(index + 1)))
    }
    let view = fold.view(knownUsers: [])
    #expect(view.followKeys == Set(keys.suffix(UserFold.recentKeyCount)))
    #expect(view.postKeys.isEmpty)
    // A follow file that starts over (replaced) forgets the keys it held.
    fold.foldFollows([], next: FilePosition(offset: 0))
    #expect(fold.view(knownUsers: []).followKeys.isEmpty)
  }
}
