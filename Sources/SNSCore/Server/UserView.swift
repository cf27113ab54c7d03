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

  public init(
    knownUsers: Set<UserID> = [], following: Set<UserID> = [], followers: Set<UserID> = [],
    lastFollowSequence: UInt64 = 0, lastPostSequence: UInt64 = 0
  ) {
    self.knownUsers = knownUsers
    self.following = following
    self.followers = followers
    self.lastFollowSequence = lastFollowSequence
    self.lastPostSequence = lastPostSequence
  }

  /// Folds a user's follow file and timeline into a view.
  public static func build(
    user: UserID, users: [ContextRecord], follows: [ContextRecord], timeline: [ContextRecord]
  ) -> UserView {
    var view = UserView()
    for case .user(let known) in users { view.knownUsers.insert(known) }
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
    }
    return view
  }
}
