/// Bad input, found at the edge where it arrives. Never a crash: each case becomes a clear reply or error.
public enum ValidationError: Error, Hashable, Sendable, CustomStringConvertible {
  case invalidUserID(String)
  case invalidClusterID(String)
  case invalidServerID(String)
  case invalidEndpoint(String)
  case invalidPost(PostProblem)
  case invalidDuration(String)

  /// Why a post's text was refused.
  public enum PostProblem: Hashable, Sendable {
    case empty
    case tooLong(bytes: Int, limit: Int)
    case containsNewline
    case containsNUL
    case invalidUTF8
  }

  public var description: String {
    switch self {
    case .invalidUserID(let text): "invalid user id '\(text)': expected a positive integer up to 2147483647"
    case .invalidClusterID(let text): "invalid cluster id '\(text)': expected a positive integer"
    case .invalidServerID(let text): "invalid server id '\(text)': expected a positive integer"
    case .invalidEndpoint(let text): "invalid address '\(text)': expected HOST:PORT"
    case .invalidDuration(let text):
      "invalid duration '\(text)': expected a number with ms, s or m (e.g. 250ms)"
    case .invalidPost(.empty): "invalid post: empty"
    case .invalidPost(.tooLong(let bytes, let limit)): "invalid post: \(bytes) bytes, the limit is \(limit)"
    case .invalidPost(.containsNewline): "invalid post: contains a line break"
    case .invalidPost(.containsNUL): "invalid post: contains a NUL character"
    case .invalidPost(.invalidUTF8): "invalid post: not valid UTF-8"
    }
  }
}
