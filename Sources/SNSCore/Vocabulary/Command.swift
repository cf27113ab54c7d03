/// A client request, in core terms (WIRE.md's `SNSService` minus the wire).
public enum Command: Hashable, Sendable {
  case login
  case list
  /// A follow; `key` (see ``RequestKey``) makes a retry of it find the first attempt's event.
  case follow(UserID, key: RequestKey? = nil)
  /// An unfollow; `key` as for a follow.
  case unfollow(UserID, key: RequestKey? = nil)
  /// A post; `key` (see ``RequestKey``) makes a retry of it find the first attempt's post.
  case post(PostText, key: RequestKey? = nil)

  /// Whether the command changes context files (and so must be mirrored and fsynced before its reply).
  public var isWrite: Bool {
    switch self {
    case .login, .follow, .unfollow, .post: true
    case .list: false
    }
  }
}

/// The reply texts course clients match on (WIRE.md). The words are fixed by the course protocol.
public enum ReplyStatus: String, Hashable, Sendable, CaseIterable {
  case success = "SUCCESS"
  case alreadyExists = "FAILURE_ALREADY_EXISTS"
  case notExists = "FAILURE_NOT_EXISTS"
  case notAFollower = "FAILURE_NOT_A_FOLLOWER"
  case invalidUsername = "FAILURE_INVALID_USERNAME"
  case invalid = "FAILURE_INVALID"
  case unknown = "FAILURE_UNKNOWN"

  /// The sentence the course client prints for this reply (its `displayCommandReply`).
  public var courseSentence: String {
    switch self {
    case .success: "Command completed successfully"
    case .alreadyExists: "Input username already exists, command failed"
    case .notExists: "Input username does not exists, command failed"
    case .notAFollower: "Command failed with not a follower"
    case .invalidUsername: "Command failed with invalid username"
    case .invalid: "Command failed with invalid command"
    case .unknown: "Command failed with unknown reason"
    }
  }
}

/// The answer to a ``Command``. `list` carries the LIST payload.
public struct Reply: Hashable, Sendable {
  public var status: ReplyStatus
  /// For LIST: every user known to the server (all clusters, after sync), ascending.
  public var allUsers: [UserID]
  /// For LIST: users who follow the caller, ascending.
  public var followers: [UserID]

  /// The epoch of the master that gave this answer (for a write: the epoch it acknowledged it in), when a
  /// ``Server`` in this process answered. Not part of the answer (equality ignores it) and not on the wire:
  /// where the answer came from, for callers in the same process (the simulation attributes each
  /// acknowledged write with it, even when the master's role changed before the caller looked).
  public var masterEpoch: Epoch?

  public init(_ status: ReplyStatus, allUsers: [UserID] = [], followers: [UserID] = []) {
    self.status = status
    self.allUsers = allUsers
    self.followers = followers
  }

  public static let success = Reply(.success)

  public static func == (lhs: Reply, rhs: Reply) -> Bool {
    lhs.status == rhs.status && lhs.allUsers == rhs.allUsers && lhs.followers == rhs.followers
  }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(status)
    hasher.combine(allUsers)
    hasher.combine(followers)
  }
}
