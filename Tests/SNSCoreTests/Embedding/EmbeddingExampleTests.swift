import Foundation
import SNSCore
import Testing

/// The embedding example of the README and of the DocC article "Embedding Tiny SNS", kept here so CI
/// builds and runs it: if the API changes, this breaks before the docs go stale.
@Suite("Embedding example (README, DocC)")
struct EmbeddingExampleTests {
  @Test("three clusters in one process: login, follow across clusters, a post reaches the follower")
  func embeddingExample() async throws {
    let root = NSTemporaryDirectory() + "tinysns-embedding-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: root) }

    // snippet.embedding
    let clock = ManualClock()
    let sns = try TinySNS(root: root, clusterCount: 3, clock: clock)
    await sns.heartbeatAll()  // servers register; server 1 of each cluster becomes master
    let alice = sns.client(for: try UserID(1))
    let bob = sns.client(for: try UserID(2))
    _ = try await alice.execute(.login)
    _ = try await bob.execute(.login)
    try await sns.syncAll()  // users propagate between clusters
    _ = try await alice.execute(.follow(try UserID(2)))
    try await sns.syncAll()  // the follow reaches bob's cluster
    _ = try await bob.execute(.post(try PostText("hello")))
    try await sns.syncAll()  // the post reaches alice's timeline
    let timeline = try await alice.timeline().initial
    // snippet.end

    #expect(timeline.map(\.text.value) == ["hello"])
    #expect(timeline.first?.author == (try UserID(2)))
  }
}
