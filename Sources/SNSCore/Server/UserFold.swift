/// What a server's files say about one user, kept up to date from the bytes appended to their follow file
/// and timeline since the last command, so that a command costs the new records, not the user's history.
///
/// Folds exactly as ``UserView/build(user:knownUsers:follows:timeline:)`` does, but keeps only the request
/// keys (with their sequences) of the user's latest ``recentKeyCount`` keyed posts and follow events: a retry
/// comes while its first attempt is among the client's latest writes.
struct UserFold: Sendable {
  let user: UserID
  private(set) var followsPosition = FilePosition.start
  private(set) var timelinePosition = FilePosition.start
  /// Per followee, the user's latest event about them.
  private var ownEvents: [UserID: (sequence: UInt64, kind: FollowEvent.Kind)] = [:]
  /// Per follower, their latest event about the user.
  private var followerEvents: [UserID: (sequence: UInt64, kind: FollowEvent.Kind)] = [:]
  private var lastFollowSequence: UInt64 = 0
  private var lastPostSequence: UInt64 = 0
  /// The request keys of the latest keyed posts, oldest first, at most ``recentKeyCount``.
  private var recentKeys = RecentKeys()
  /// The request keys of the user's latest keyed follow events, the same way.
  private var recentFollowKeys = RecentKeys()

  /// How many of a user's latest keyed posts (and, apart, follow events) a retry is checked against.
  static let recentKeyCount = 64

  init(user: UserID) {
    self.user = user
  }

  /// Whether `next` came back for a read after `position` that started the file over (it was replaced, cut,
  /// or removed): then the records are the whole file and what was folded before no longer holds.
  static func startedOver(after position: FilePosition, next: FilePosition) -> Bool {
    next.offset < position.offset || (position.identity != nil && next.identity != position.identity)
  }

  mutating func foldFollows(_ records: [ContextRecord], next: FilePosition) {
    if Self.startedOver(after: followsPosition, next: next) {
      ownEvents = [:]
      followerEvents = [:]
      lastFollowSequence = 0
      recentFollowKeys = RecentKeys()
    }
    followsPosition = next
    for record in records {
      switch record {
      case .following(let event) where event.follower == user:
        lastFollowSequence = max(lastFollowSequence, event.sequence)
        if let key = event.key { recentFollowKeys.add(key, sequence: event.sequence) }
        if (ownEvents[event.followee]?.sequence ?? 0) <= event.sequence {
          ownEvents[event.followee] = (event.sequence, event.kind)
        }
      case .follower(let event) where event.followee == user:
        if (followerEvents[event.follower]?.sequence ?? 0) <= event.sequence {
          followerEvents[event.follower] = (event.sequence, event.kind)
        }
      default: continue
      }
    }
  }

  mutating func foldTimeline(_ records: [ContextRecord], next: FilePosition) {
    if Self.startedOver(after: timelinePosition, next: next) {
      lastPostSequence = 0
      recentKeys = RecentKeys()
    }
    timelinePosition = next
    for case .post(let post) in records where post.author == user {
      lastPostSequence = max(lastPostSequence, post.id.sequence)
      if let key = post.key { recentKeys.add(key, sequence: post.id.sequence) }
    }
  }

  func view(knownUsers: Set<UserID>) -> UserView {
    UserView(
      knownUsers: knownUsers,
      following: Set(ownEvents.filter { $0.value.kind == .follow }.keys),
      followers: Set(followerEvents.filter { $0.value.kind == .follow }.keys),
      lastFollowSequence: lastFollowSequence, lastPostSequence: lastPostSequence,
      postKeys: recentKeys.keys, followKeys: recentFollowKeys.keys)
  }

  /// The sequences of the user's recent posts that carry `key` (more than one: a write stored once per
  /// attempt).
  func postSequences(carrying key: RequestKey) -> [UInt64] { recentKeys.sequences(carrying: key) }

  /// The sequences of the user's recent follow events that carry `key`.
  func followSequences(carrying key: RequestKey) -> [UInt64] { recentFollowKeys.sequences(carrying: key) }

  /// The latest ``UserFold/recentKeyCount`` keyed records, each as its key and sequence, oldest first.
  private struct RecentKeys: Sendable {
    private var entries: [(key: RequestKey, sequence: UInt64)] = []

    var keys: Set<RequestKey> { Set(entries.map(\.key)) }

    func sequences(carrying key: RequestKey) -> [UInt64] {
      entries.filter { $0.key == key }.map(\.sequence)
    }

    mutating func add(_ key: RequestKey, sequence: UInt64) {
      guard !entries.contains(where: { $0.key == key && $0.sequence == sequence }) else { return }
      entries.append((key, sequence))
      if entries.count > UserFold.recentKeyCount { entries.removeFirst() }
    }
  }
}
