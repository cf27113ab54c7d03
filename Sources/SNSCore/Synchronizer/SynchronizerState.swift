/// A synchronizer's bookkeeping as a value: what it has read from its master's files, what each round sends
/// where, and which items of each user's streams have been delivered everywhere (the cursors). No I/O.
public struct SynchronizerState: Sendable {
  public let configuration: SynchronizerConfiguration

  /// What was delivered of each stream to every destination that needed it (see ``DeliveredSequences``).
  var delivered: [SyncStream: DeliveredSequences] = [:]
  /// Streams whose cursors moved since the last save.
  var unsavedStreams: Set<SyncStream> = []
  /// The master whose files are being scanned, and how far into each file.
  var scannedMaster: ServerID?
  var positions: [ContextFile: FilePosition] = [:]
  /// The last file a chunked scan read, when the rest of the file list is still to be read.
  public private(set) var scanResumesAfter: ContextFile?
  /// What is durable in the progress store.
  var saved = SyncProgress()
  /// Read from the files, not yet delivered everywhere.
  var pendingUsers: Set<UserID> = []
  var pendingFollows: [UserID: [FollowEvent]] = [:]
  /// By author and sequence: a history scan finds each post once, and the first copy under a sequence is the
  /// one receivers would keep (they take records by key).
  var pendingPosts: [UserID: [UInt64: Post]] = [:]
  /// Whether the saved progress was loaded (once per process, in its first round).
  var progressLoaded = false
  /// The round in progress (see `SynchronizerState+RoundSteps.swift`).
  var round: RoundInProgress?

  public init(configuration: SynchronizerConfiguration) {
    self.configuration = configuration
  }

  var allClusters: [ClusterID] { (1...configuration.clusterCount).map { ClusterID(unchecked: $0) } }

  func cluster(of user: UserID) -> ClusterID { ClusterID.of(user, clusterCount: configuration.clusterCount) }

  /// Restores the saved progress: cursors, and positions in the files of the master scanned last.
  mutating func restore(_ progress: SyncProgress) {
    saved = progress
    delivered.merge(progress.delivered) { _, loaded in loaded }
    scannedMaster = progress.server
    positions = progress.positions
  }

  func wasDelivered(_ stream: SyncCursor.Stream, _ user: UserID, _ sequence: UInt64) -> Bool {
    delivered[SyncStream(stream, of: user)]?.contains(sequence) ?? false
  }

  /// A scan of `master`'s files begins: positions into another server's files mean nothing here.
  public mutating func onScanStarted(master: ServerID) {
    guard scannedMaster != master else { return }
    scannedMaster = master
    positions = [:]
    scanResumesAfter = nil
  }

  /// The scan stopped after `file` (a chunk was read), or went through the whole list (`nil`).
  public mutating func onScanPaused(after file: ContextFile?) { scanResumesAfter = file }

  /// Where the scan of `file` goes on.
  public func position(of file: ContextFile) -> FilePosition { positions[file] ?? .start }

  /// The scan read `file` up to `next`.
  public mutating func onRead(_ file: ContextFile, upTo next: FilePosition) { positions[file] = next }

  /// What to save after a round: the cursors that moved, and the position of every file none of whose items
  /// still wait for delivery (a restart resumes there; a file with waiting items resumes at its last saved
  /// position, so nothing read but undelivered is lost).
  public func progressToSave() -> SyncProgress.Changes {
    var changes = SyncProgress.Changes(server: scannedMaster)
    for stream in unsavedStreams {
      changes.delivered[stream] = delivered[stream]
    }
    let sameServer = saved.server == scannedMaster
    let planted = configuration.plantedBugs.contains(.savePositionsPastPendingItems)
    for (file, position) in positions where planted || !hasPendingItems(from: file) {
      if sameServer, let old = saved.positions[file], old == position, old.identity == position.identity {
        continue
      }
      changes.positions[file] = position
    }
    return changes
  }

  /// `changes` are durable.
  public mutating func onProgressSaved(_ changes: SyncProgress.Changes) {
    saved.apply(changes)
    for (stream, sequences) in changes.delivered where delivered[stream] == sequences {
      unsavedStreams.remove(stream)
    }
  }

  func hasPendingItems(from file: ContextFile) -> Bool {
    switch file {
    case .users: !pendingUsers.isEmpty
    case .follows(let user): pendingFollows[user] != nil
    case .timeline(let user): pendingPosts[user] != nil
    case .cursors: false
    }
  }

  /// Takes what a scan of the master's files found; what was delivered already is dropped.
  public mutating func onScanned(users: [UserID], follows: [FollowEvent], posts: [Post]) {
    for user in users where cluster(of: user) == configuration.cluster && !wasDelivered(.user, user, 1) {
      pendingUsers.insert(user)
    }
    for event in follows where cluster(of: event.follower) == configuration.cluster {
      if !wasDelivered(.follows, event.follower, event.sequence),
        !(pendingFollows[event.follower]?.contains(event) ?? false)
      {
        pendingFollows[event.follower, default: []].append(event)
      }
    }
    for post in posts where cluster(of: post.author) == configuration.cluster {
      if !wasDelivered(.posts, post.author, post.id.sequence),
        pendingPosts[post.author]?[post.id.sequence] == nil
      {
        pendingPosts[post.author, default: [:]][post.id.sequence] = post
      }
    }
  }

  /// Authors with undelivered posts: the actor reads their follower records for ``planRound(followerEvents:)``.
  public var authorsWithPendingPosts: [UserID] { pendingPosts.keys.sorted() }
}
