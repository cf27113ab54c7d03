import Foundation
import SNSCore
import SNSTestSupport
import Testing

/// Two synchronizers of one cluster: the first to take the lease runs rounds; the other takes over once the
/// first is gone.
@Suite("Synchronizer lease on a file")
struct FileLeaseTests {
  @Test("one holder at a time; the lease is free again once its holder is gone; asking never waits")
  func oneHolder() async throws {
    try await withTemporaryDirectory { root in
      let path = "\(root)/synchronizer.lock"
      var first: FileLease? = FileLease(path: path)
      let second = FileLease(path: path)
      #expect(first?.acquire() == true)
      #expect(first?.acquire() == true, "a holder keeps it")
      #expect(second.acquire() == false, "the other stands by")
      first = nil  // the holder's process ends: the kernel drops its flock
      #expect(second.acquire() == true)
      #expect(FileLease(path: path).acquire() == false)
    }
  }
}
