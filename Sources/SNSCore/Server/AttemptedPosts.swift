/// Keyed posts a master planned and has not acknowledged: a client's retry (same ``RequestKey``) is
/// written as the very same post, so a slave that already holds the first attempt (mirrored, then the
/// answer was lost) appends nothing new. Bounded: the oldest attempts are forgotten first.
struct AttemptedPosts: Sendable {
  static let capacity = 10_000
  private var posts: [RequestKey: Post] = [:]
  private var order: [RequestKey] = []

  func post(for key: RequestKey) -> Post? { posts[key] }

  mutating func remember(_ post: Post) {
    guard let key = post.key, posts.updateValue(post, forKey: key) == nil else { return }
    order.append(key)
    if order.count > Self.capacity {
      let dropped = order.count - Self.capacity / 2
      for key in order.prefix(dropped) { posts[key] = nil }
      order.removeFirst(dropped)
    }
  }

  mutating func forget(_ post: Post) {
    guard let key = post.key else { return }
    posts[key] = nil
  }
}
