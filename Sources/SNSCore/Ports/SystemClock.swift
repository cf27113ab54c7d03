import Foundation

/// Wall-clock time and real sleeping, for deployment.
public struct SystemClock: SNSClock {
  public init() {}

  public func now() -> Timestamp {
    Timestamp(milliseconds: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)))
  }

  public func sleep(until deadline: Timestamp) async throws {
    let remaining = deadline - now()
    if remaining > .zero { try await Task.sleep(for: remaining) }
  }
}
