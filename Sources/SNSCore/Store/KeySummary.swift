/// The keys of every record in one file, held as runs of sequences: what keeps appends idempotent without
/// keeping the records (or one string per record) in memory.
///
/// Every ``RecordKey`` is a group and a number within it — the user for `user` records, the follower for
/// follow events, the author for posts, the stream and user for cursors — and the numbers of one group
/// mostly come in runs (an author's posts, a follower's events), so a file's keys cost a few bytes per
/// group and gap, not per record.
struct KeySummary: Sendable, Equatable {
  enum Group: Hashable, Sendable {
    case user
    case following(UserID)
    case follower(UserID)
    case post(UserID)
    case cursor(String, UserID)
  }

  private var runs: [Group: SequenceRuns] = [:]
  /// About how many bytes this summary takes, for ``FileCaches``.
  private(set) var approximateBytes = 0

  /// Where a record's key sits: within one file, two records have the same key exactly when they have the
  /// same place.
  struct Place: Hashable, Sendable {
    let group: Group
    let number: UInt64
  }

  static func place(of record: ContextRecord) -> Place {
    switch record {
    case .user(let user): Place(group: .user, number: UInt64(user.value))
    case .following(let event): Place(group: .following(event.follower), number: event.sequence)
    case .follower(let event): Place(group: .follower(event.follower), number: event.sequence)
    case .post(let post): Place(group: .post(post.id.author), number: post.id.sequence)
    case .cursor(let cursor):
      Place(group: .cursor(cursor.stream.rawValue, cursor.user), number: cursor.sequence)
    }
  }

  func contains(_ record: ContextRecord) -> Bool {
    let place = Self.place(of: record)
    return runs[place.group]?.contains(place.number) ?? false
  }

  mutating func insert(_ record: ContextRecord) {
    let place = Self.place(of: record)
    let (group, number) = (place.group, place.number)
    var groupRuns = runs.removeValue(forKey: group) ?? SequenceRuns()
    let before = groupRuns.count
    groupRuns.insert(number)
    approximateBytes += (before == 0 ? Self.bytesPerGroup : 0) + (groupRuns.count - before) * Self.bytesPerRun
    runs[group] = groupRuns
  }

  /// What a group costs beyond its runs (its key and the dictionary's slot), and what a run costs.
  static let bytesPerGroup = 64
  static let bytesPerRun = 16
}

/// A set of numbers as sorted, disjoint, non-adjacent closed runs.
struct SequenceRuns: Sendable, Equatable {
  private var starts: [UInt64] = []
  private var ends: [UInt64] = []

  var count: Int { starts.count }

  /// The index of the last run starting at or before `number`, if any.
  private func runIndex(atOrBefore number: UInt64) -> Int? {
    var low = 0
    var high = starts.count
    while low < high {
      let middle = (low + high) / 2
      if starts[middle] <= number { low = middle + 1 } else { high = middle }
    }
    return low == 0 ? nil : low - 1
  }

  func contains(_ number: UInt64) -> Bool {
    guard let index = runIndex(atOrBefore: number) else { return false }
    return number <= ends[index]
  }

  mutating func insert(_ number: UInt64) {
    let before = runIndex(atOrBefore: number)
    if let before, number <= ends[before] { return }
    let joinsBefore = before.map { ends[$0] &+ 1 == number } ?? false
    let next = (before ?? -1) + 1
    let joinsNext = next < starts.count && number &+ 1 == starts[next]
    switch (joinsBefore, joinsNext) {
    case (true, true):
      if let before {
        ends[before] = ends[next]
        starts.remove(at: next)
        ends.remove(at: next)
      }
    case (true, false):
      if let before { ends[before] = number }
    case (false, true):
      starts[next] = number
    case (false, false):
      starts.insert(number, at: next)
      ends.insert(number, at: next)
    }
  }
}
