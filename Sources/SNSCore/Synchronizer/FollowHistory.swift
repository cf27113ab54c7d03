/// Who followed whom when, folded from follow events: answers "did u follow v at time t?".
/// A follow counts for posts at or after its time, until an unfollow at or before the post's time.
public struct FollowHistory: Sendable {
  /// Events per (follower, followee), in the follower's sequence order.
  var pairs: [Pair: [FollowEvent]] = [:]

  struct Pair: Hashable, Sendable {
    let follower: UserID
    let followee: UserID
  }

  public init(events: [FollowEvent]) {
    for event in events {
      pairs[Pair(follower: event.follower, followee: event.followee), default: []].append(event)
    }
    for key in pairs.keys { pairs[key]?.sort { $0.sequence < $1.sequence } }
  }

  /// Whether `follower` followed `followee` at `time`.
  public func follows(_ follower: UserID, _ followee: UserID, at time: Timestamp) -> Bool {
    guard let events = pairs[Pair(follower: follower, followee: followee)] else { return false }
    var following = false
    for event in events where event.time <= time {
      following = event.kind == .follow
    }
    return following
  }

  /// Everyone who followed `followee` at `time`, ascending.
  public func followers(of followee: UserID, at time: Timestamp) -> [UserID] {
    pairs.keys.filter { $0.followee == followee && follows($0.follower, followee, at: time) }
      .map(\.follower).sorted()
  }
}
