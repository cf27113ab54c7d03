/// Keyed writes (posts, follow events) a master planned and has not acknowledged: a client's retry (same
/// ``RequestKey``) is written as the very same record, so a slave that already holds the first attempt
/// (mirrored, then the answer was lost) appends nothing new. Bounded: the oldest attempts are forgotten first.
struct AttemptedWrites: Sendable {
  static let capacity = 10_000
  private var records: [RequestKey: ContextRecord] = [:]
  private var order: [RequestKey] = []

  func record(for key: RequestKey) -> ContextRecord? { records[key] }

  mutating func remember(_ record: ContextRecord, key: RequestKey) {
    guard records.updateValue(record, forKey: key) == nil else { return }
    order.append(key)
    if order.count > Self.capacity {
      let dropped = order.count - Self.capacity / 2
      for key in order.prefix(dropped) { records[key] = nil }
      order.removeFirst(dropped)
    }
  }

  mutating func forget(_ key: RequestKey) {
    records[key] = nil
  }
}
