/// Watches one timeline file for timeline mode: polls its modification time at an interval (as the seed
/// asks) and yields posts appended since the last look, oldest first, each once, skipping the user's own posts
/// (the client typed those itself).
///
/// A feed lasts only while its server is master: once it is not (replaced, or its lease lapsed), the next poll
/// ends the stream with ``SNSError/notMaster(_:)``, so the client finds the real master and subscribes there.
actor TimelineFeed {
  let user: UserID
  let store: any ContextStore
  let clock: any SNSClock
  let pollInterval: Duration
  /// Whether the server still serves as master (asked at every poll).
  let serving: @Sendable () async -> Bool
  var position: FilePosition
  var stamp: FileStamp?
  var seen: Set<PostID>
  var buffered: [Post] = []

  init(
    user: UserID, store: any ContextStore, clock: any SNSClock, pollInterval: Duration,
    position: FilePosition,
    stamp: FileStamp?, seen: Set<PostID>, serving: @escaping @Sendable () async -> Bool
  ) {
    self.user = user
    self.store = store
    self.clock = clock
    self.pollInterval = pollInterval
    self.serving = serving
    self.position = position
    self.stamp = stamp
    self.seen = seen
  }

  nonisolated func stream() -> AsyncThrowingStream<Post, Error> {
    AsyncThrowingStream(unfolding: { try await self.next() })
  }

  /// The next new post; waits (polling) until there is one. Throws `CancellationError` when cancelled.
  func next() async throws -> Post? {
    while buffered.isEmpty {
      try await clock.sleep(for: pollInterval)
      guard await serving() else {
        throw SNSError.notMaster("this server is no longer master; subscribe at the current one")
      }
      try await poll()
    }
    return buffered.removeFirst()
  }

  /// One look at the file: nothing is read unless its stamp changed.
  func poll() async throws {
    let current = try await store.stamp(of: .timeline(user))
    guard current != stamp else { return }
    stamp = current
    let (records, next) = try await store.records(in: .timeline(user), after: position)
    position = next
    var fresh: [Post] = []
    for case .post(let post) in records where post.author != user && !seen.contains(post.id) {
      seen.insert(post.id)
      fresh.append(post)
    }
    buffered.append(contentsOf: fresh.sorted())
  }
}
