import SNSCore

/// About how many bytes a message takes on the wire: its records as lines in a context file (what the real
/// system's pages are measured in; protobuf framing is smaller).
enum MessageSize {
  static func of(_ records: [PlacedRecord]) -> Int {
    records.reduce(0) { $0 + RecordCodec.encodedSize(of: $1.record) }
  }
  static func of(posts: [Post]) -> Int {
    posts.reduce(0) { $0 + RecordCodec.encodedSize(of: .post($1)) }
  }
  static func of(_ batch: SyncBatch) -> Int {
    batch.users.reduce(0) { $0 + RecordCodec.encodedSize(of: .user($1)) }
      + batch.follows.reduce(0) { $0 + RecordCodec.encodedSize(of: .following($1)) } + of(posts: batch.posts)
  }
}
