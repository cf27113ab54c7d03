import Foundation
import SNSCore

/// Writes context files directly (the format of `docs/FILE-FORMAT.md`, through ``RecordCodec``), so that big
/// histories take seconds to set up instead of millions of acknowledged writes. Not durable (no fsync): the
/// files are inputs, read back by the servers and synchronizers under test.
struct DataSeeder {
  /// The context directory to write into (created if missing).
  let directory: String

  init(directory: String) throws {
    self.directory = directory
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
  }

  /// Appends `records` to `file`, in one write.
  func append(_ records: [ContextRecord], to file: ContextFile) throws {
    var text = ""
    text.reserveCapacity(records.count * 80)
    for record in records { text += RecordCodec.encode(record) }
    let path = "\(directory)/\(file.fileName)"
    if !FileManager.default.fileExists(atPath: path) {
      guard FileManager.default.createFile(atPath: path, contents: nil) else {
        throw BenchError.setup("cannot create \(path)")
      }
    }
    guard let handle = FileHandle(forWritingAtPath: path) else {
      throw BenchError.setup("cannot open \(path)")
    }
    defer { try? handle.close() }
    try handle.seekToEnd()
    try handle.write(contentsOf: Data(text.utf8))
  }

  /// `users` in the `users` file.
  func addUsers(_ users: [UserID]) throws {
    try append(users.map { .user($0) }, to: .users)
  }

  /// `count` posts by `author` on its own timeline, sequences `firstSequence…`, times from `time` one ms apart.
  func addPosts(by author: UserID, count: Int, firstSequence: UInt64, time: Timestamp) throws {
    guard count > 0 else { return }
    let text = try PostText("seeded post text of a typical length, about sixty bytes long")
    let records = (0..<count).map { index -> ContextRecord in
      .post(
        Post(
          id: PostID(author: author, sequence: firstSequence + UInt64(index)),
          time: Timestamp(milliseconds: time.milliseconds + Int64(index)), text: text))
    }
    try append(records, to: .timeline(author))
  }
}

extension DataSeeder {
  /// `users` users with `posts / users` posts each, a day old; returns the users and the bytes written.
  func seedHistory(users: Int, posts: Int) throws -> (users: [UserID], bytes: Int) {
    let ids = try (1...users).map { try UserID($0) }
    try addUsers(ids)
    let time = Timestamp(milliseconds: Timestamp.now.milliseconds - 86_400_000)
    for user in ids { try addPosts(by: user, count: posts / users, firstSequence: 1, time: time) }
    let bytes = try FileManager.default.contentsOfDirectory(atPath: directory).reduce(0) { total, name in
      let size = try FileManager.default.attributesOfItem(atPath: "\(directory)/\(name)")[.size]
      return total + ((size as? NSNumber)?.intValue ?? 0)
    }
    return (ids, bytes)
  }
}

extension Timestamp {
  /// Wall-clock now.
  static var now: Timestamp {
    Timestamp(milliseconds: Int64((Date().timeIntervalSince1970 * 1000).rounded()))
  }
}
