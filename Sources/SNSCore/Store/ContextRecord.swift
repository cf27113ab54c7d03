/// One file of a server's context directory (DESIGN.md §4), or of a synchronizer's.
public enum ContextFile: Hashable, Sendable, Comparable, CustomStringConvertible {
  /// `users`: every user known to this server (own cluster, and learned via sync).
  case users
  /// `<user>.follow`: that user's follow/unfollow events, and who follows them.
  case follows(UserID)
  /// `<user>.timeline`: posts on that user's timeline, own and delivered.
  case timeline(UserID)
  /// `cursors`: the per-item cursors of earlier synchronizers (only in `synchronizer_<id>/`; read once and
  /// folded into `progress` by ``FileSyncProgressStore``).
  case cursors

  /// The file's name inside its directory. Only validated integers ever become part of a path.
  public var fileName: String {
    switch self {
    case .users: "users"
    case .follows(let user): "\(user).follow"
    case .timeline(let user): "\(user).timeline"
    case .cursors: "cursors"
    }
  }

  /// The inverse of ``fileName``; `nil` for any other name (temporary files, stray files).
  public init?(fileName: String) {
    switch fileName {
    case "users": self = .users
    case "cursors": self = .cursors
    default:
      if fileName.hasSuffix(".follow"), let user = try? UserID(parsing: fileName.dropLast(".follow".count)) {
        self = .follows(user)
      } else if fileName.hasSuffix(".timeline"),
        let user = try? UserID(parsing: fileName.dropLast(".timeline".count))
      {
        self = .timeline(user)
      } else {
        return nil
      }
    }
  }

  public var description: String { fileName }
}

/// A follow or unfollow by `follower` of `followee`. `sequence` counts the follower's follow events from 1;
/// together with the follower it identifies the event everywhere (mirror, sync, both sides' files). `key` is
/// the request key the follower's client proposed for it (see ``RequestKey``): a retry finds the event by it.
public struct FollowEvent: Hashable, Sendable {
  public enum Kind: String, Hashable, Sendable {
    case follow
    case unfollow
  }
  public let kind: Kind
  public let follower: UserID
  public let followee: UserID
  public let sequence: UInt64
  public let time: Timestamp
  public let key: RequestKey?

  public init(
    kind: Kind, follower: UserID, followee: UserID, sequence: UInt64, time: Timestamp, key: RequestKey? = nil
  ) {
    self.kind = kind
    self.follower = follower
    self.followee = followee
    self.sequence = sequence
    self.time = time
    self.key = key
  }
}

/// One item of a local user's stream that a synchronizer delivered to every receiver that needed it (written
/// only after they all acknowledged).
public struct SyncCursor: Hashable, Sendable {
  public enum Stream: String, Hashable, Sendable {
    /// The user's registration (sequence is 1 once sent).
    case user
    /// The user's follow events (`FollowEvent.sequence`).
    case follows
    /// The user's posts (`PostID.sequence`).
    case posts
  }
  public let stream: Stream
  public let user: UserID
  public let sequence: UInt64

  public init(stream: Stream, user: UserID, sequence: UInt64) {
    self.stream = stream
    self.user = user
    self.sequence = sequence
  }
}

/// One line of a context file.
public enum ContextRecord: Hashable, Sendable {
  /// In `users`: a known user.
  case user(UserID)
  /// In the follower's `<follower>.follow`: the follower's own event, written by its master (and mirrored).
  case following(FollowEvent)
  /// In the followee's `<followee>.follow`: the same event seen from the other side, written by a synchronizer.
  case follower(FollowEvent)
  /// In `<owner>.timeline`: a post, the owner's own or one delivered by a synchronizer.
  case post(Post)
  /// In an earlier synchronizer's `cursors`: one delivered item of a user's stream.
  case cursor(SyncCursor)

  /// The user whose own write this is (their registration, follow event or post), if it is one.
  public var owner: UserID? {
    switch self {
    case .user(let user): user
    case .following(let event): event.follower
    case .post(let post): post.author
    case .follower, .cursor: nil
    }
  }

  /// The request key of a client's write (a post or the follower's own follow event), if it came with one.
  public var requestKey: RequestKey? {
    switch self {
    case .post(let post): post.key
    case .following(let event): event.key
    case .user, .follower, .cursor: nil
    }
  }

  /// Identifies the record inside its file: appending a record whose key is already there changes nothing.
  /// This is what makes mirroring, catch-up and sync delivery idempotent.
  public var key: RecordKey {
    switch self {
    case .user(let user): RecordKey("user \(user)")
    case .following(let event): .following(event.follower, sequence: event.sequence)
    case .follower(let event): RecordKey("follower \(event.follower)#\(event.sequence)")
    case .post(let post): .post(post.id)
    case .cursor(let cursor): RecordKey("cursor \(cursor.stream.rawValue) \(cursor.user) \(cursor.sequence)")
    }
  }
}

/// The identity of a record within its file; see ``ContextRecord/key``.
public struct RecordKey: Hashable, Sendable, CustomStringConvertible {
  public let value: String
  public init(_ value: String) { self.value = value }
  public var description: String { value }

  /// The key of a post.
  public static func post(_ id: PostID) -> RecordKey { RecordKey("post \(id)") }

  /// The key of a follower's own follow event, in their follow file.
  public static func following(_ follower: UserID, sequence: UInt64) -> RecordKey {
    RecordKey("following \(follower)#\(sequence)")
  }
}

/// A record together with the file it belongs in.
public struct PlacedRecord: Hashable, Sendable {
  public let file: ContextFile
  public let record: ContextRecord
  public init(_ record: ContextRecord, in file: ContextFile) {
    self.file = file
    self.record = record
  }
}

extension PlacedRecord {
  /// `records` cut into consecutive pages of at most about `maxBytes` (as lines in a file), each with at least
  /// one record, so that no transfer outgrows the transport's message limit whatever the data size.
  public static func pages(of records: [PlacedRecord], maxBytes: Int) -> [ArraySlice<PlacedRecord>] {
    var pages: [ArraySlice<PlacedRecord>] = []
    var start = records.startIndex
    var bytes = 0
    for index in records.indices {
      let size = RecordCodec.encodedSize(of: records[index].record)
      if index > start && bytes + size > maxBytes {
        pages.append(records[start..<index])
        start = index
        bytes = 0
      }
      bytes += size
    }
    if start < records.endIndex { pages.append(records[start...]) }
    return pages
  }
}
