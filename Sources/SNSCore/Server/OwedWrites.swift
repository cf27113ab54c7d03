/// Writes the slave stored but this master's own disk refused: the write is in doubt (its client was told
/// to try again), and the master stores it as soon as its disk lets it, before any new write to that file,
/// so that master and slave agree again. A value with no I/O; ``Server`` performs the appends.
struct OwedWrites: Hashable, Sendable {
  private(set) var records: [PlacedRecord] = []

  var isEmpty: Bool { records.isEmpty }

  /// Records of a mirrored write this server could not append.
  mutating func owe(_ written: [PlacedRecord]) {
    records += written.filter { !records.contains($0) }
  }

  /// The owed records by file, in file order (appends must not depend on hashing: the simulation replays).
  var byFile: [(file: ContextFile, records: [PlacedRecord])] {
    Dictionary(grouping: records, by: \.file).sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
  }

  /// Owed records that are in the files now.
  mutating func stored(_ appended: [PlacedRecord]) {
    records.removeAll { appended.contains($0) }
  }

  /// Whether a new write may go ahead while files still refuse what is owed (`failing`: each such file's
  /// error). A write to another file may: one broken file must not stop the cluster. A write to such a file
  /// is refused before it reaches the slave, so the refusal is final and nothing of it is anywhere — unless
  /// it is itself owed (a client's retry), which is in doubt until it is stored.
  func refusal(of write: [PlacedRecord], failing: [ContextFile: SNSError]) -> SNSError? {
    guard let error = write.lazy.compactMap({ failing[$0.file] }).first else { return nil }
    if write.contains(where: records.contains) {
      return .unavailable("this write is on the slave and not yet here (\(error)); try again")
    }
    return .storage("this server cannot store writes to this file: \(error)")
  }
}
