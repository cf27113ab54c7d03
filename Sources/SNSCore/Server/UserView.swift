/// What a server's files say about one user, gathered by the actor before the state machine decides a command.
public struct UserView: Hashable, Sendable {
  /// Every user in the server's `users` file.
  public var knownUsers: Set<UserID>
  /// Whom the user follows now (from their own follow events).
  public var following: Set<UserID>
  /// Who follows the user now (from follower records delivered by synchronizers).
  public var followers: Set<UserID>
  /// The highest follow-event sequence in the user's follow file (0 if none).
  public var lastFollowSequence: UInt64
  /// The highest sequence among the user's own posts (0 if none).
  public var lastPostSequence: UInt64
  /// The keys of the user's own posts that came with one (a retry with such a key is already stored).
  public var postKeys: Set<RequestKey>
  /// The keys of the user's own follow events that came with one.
  public var followKeys: Set<RequestKey>

  public init(
    knownUsers: Set<UserID> = [], following: Set<UserID> = [], followers: Set<UserID> = [],
    lastFollowSequence: UInt64 = 0, lastPostSequence: UInt64 = 0, postKeys: Set<RequestKey> = [],
    followKeys: Set<RequestKey> = []
  ) {
    self.knownUsers = knownUsers
    self.following = following
    self.followers = followers
    self.lastFollowSequence = lastFollowSequence
    self.lastPostSequence = lastPostSequence
    self.postKeys = postKeys
    self.followKeys = followKeys
  }

  /// Folds a user's follow file and timeline into a view.
  public static func build(
    user: UserID, users: [ContextRecord], follows: [ContextRecord], timeline: [ContextRecord]
  ) -> UserView {
    var known = KnownUsers()
    known.update(from: users)
    return build(user: user, knownUsers: known.users, follows: follows, timeline: timeline)
  }

  /// Folds a user's follow file and timeline into a view, with the set of known users already built
  /// (see ``KnownUsers``).
  public static func build(
    user: UserID, knownUsers: Set<UserID>, follows: [ContextRecord], timeline: [ContextRecord]
  ) -> UserView {
    var view = UserView()
    view.knownUsers = knownUsers
    // Events are applied in sequence order: each side's events of one pair come from one writer in order,
    // but files are appended by several writers, so the file order alone is not trusted.
    var ownEvents: [FollowEvent] = []
    var followerEvents: [FollowEvent] = []
    for record in follows {
      switch record {
      case .following(let event) where event.follower == user: ownEvents.append(event)
      case .follower(let event) where event.followee == user: followerEvents.append(event)
      default: continue
      }
    }
    for event in ownEvents.sorted(by: { $0.sequence < $1.sequence }) {
      view.lastFollowSequence = max(view.lastFollowSequence, event.sequence)
      if let key = event.key { view.followKeys.insert(key) }
      switch event.kind {
      case .follow: view.following.insert(event.followee)
      case .unfollow: view.following.remove(event.followee)
      }
    }
    for event in followerEvents.sorted(by: { ($0.follower, $0.sequence) < ($1.follower, $1.sequence) }) {
      switch event.kind {
      case .follow: view.followers.insert(event.follower)
      case .unfollow: view.followers.remove(event.follower)
      }
    }
    for case .post(let post) in timeline where post.author == user {
      view.lastPostSequence = max(view.lastPostSequence, post.id.sequence)
      if let key = post.key { view.postKeys.insert(key) }
    }
    return view
  }
}

/// The set of users in a server's `users` file, kept up to date incrementally.
///
/// `sns bench post` showed the server rebuilding this set from the whole file for every command (hashing every
/// known user: ~10 k inserts per post at 10 k users). The file is append-only and ``ContextStore`` returns its
/// records in file order, so only the records past the last update need folding in; if the records no longer
/// extend what was seen (the file was replaced), the set is rebuilt from scratch.
public struct KnownUsers: Hashable, Sendable {
  /// Every user seen so far.
  public private(set) var users: Set<UserID> = []
  /// How many records of the file have been folded in, and the last of them.
  private var consumed = 0
  private var last: ContextRecord?

  public init() {}

  /// Folds in the records of `records` (the whole `users` file, in file order) not seen yet.
  public mutating func update(from records: [ContextRecord]) {
    if records.count < consumed || (consumed > 0 && records[consumed - 1] != last) {
      self = KnownUsers()
    }
    for case .user(let known) in records[consumed...] { users.insert(known) }
    consumed = records.count
    last = records.last
  }
}
