import Foundation
import SNSTestSupport
import Testing

/// The course's acceptance sheets (MP1, MP2.2 tests 1–3), replayed with a client that prints what the
/// course's own client prints (`Tests/Interop/tsc.py`: posts sent with their `fgets` line break, the empty
/// first Timeline message, the course's reply sentences), against real processes started with our command
/// lines and with the sheet's literal ones. Every step is a named check; where the sheets wait 60 s for a
/// sync round, the step is retried until it shows (bounded).
@Suite("Course conformance: the acceptance sheets", .serialized)
struct CourseConformanceTests {
  typealias Post = (author: Int, text: String)

  /// A fresh deployment of `clusters` clusters, course clients on demand, everything stopped afterwards.
  final class Sheet {
    let deployment: any SheetDeployment
    let stubs: String
    var clients: [CourseClient] = []

    init(deployment: any SheetDeployment, stubs: String) {
      self.deployment = deployment
      self.stubs = stubs
    }

    /// Starts a course client for `user` and expects the title: it logged in.
    func open(_ user: Int, step: String) async throws -> CourseClient {
      let client = try await CourseClient(
        user: user, coordinatorHost: deployment.coordinatorHost, coordinatorPort: deployment.coordinatorPort,
        root: deployment.root, stubs: stubs)
      clients.append(client)
      await client.expect(step, CourseClient.title)
      return client
    }

    var screens: String {
      clients.map { "---- tsc -u \($0.user) ----\n\($0.screen.suffix(3000))" }.joined(separator: "\n")
    }
  }

  func withSheet(
    _ kind: SheetDeploymentKind, clusters: Int, _ body: (Sheet) async throws -> Void
  ) async throws {
    try await withTemporaryDirectory(prefix: "tinysns-sheet") { root in
      try await InteropTests().generateStubs(into: "\(root)/stubs")
      let sheet = Sheet(deployment: try kind.make(root: root, clusters: clusters), stubs: "\(root)/stubs")
      var failure: (any Error)?
      do {
        try await sheet.deployment.start()
        try await body(sheet)
      } catch {
        failure = error
      }
      if failure != nil || sheet.clients.contains(where: \.failed) {
        print(sheet.screens + "\n" + sheet.deployment.logs)
      }
      for client in sheet.clients { await client.quit() }
      await sheet.deployment.stop()
      #expect(sheet.deployment.allStopped, "still running: \(sheet.deployment.stillRunning)")
      #expect(sheet.clients.allSatisfy { !$0.process.isRunning })
      if let failure { throw failure }
    }
  }

  static func lines(_ posts: [Post]) -> [String] { posts.map { CourseClient.post($0.author, $0.text) } }

  // MARK: MP1

  @Test(
    "MP1: replies for self, unknown users, non-followees, double follow; LIST; timeline over 20 posts",
    arguments: SheetDeploymentKind.allCases)
  func mp1(_ kind: SheetDeploymentKind) async throws {
    // Three clusters, as the course's coordinator always runs: users 1, 2, 3 are on different masters.
    try await withSheet(kind, clusters: 3) { sheet in
      let one = try await sheet.open(1, step: "MP1 login of user 1")
      let two = try await sheet.open(2, step: "MP1 login of user 2")
      let three = try await sheet.open(3, step: "MP1 login of user 3")
      let success = "Command completed successfully"
      await one.commandEventually(
        "MP1 LIST shows every user", "LIST", answer: "\(success)\nAll users: 1, 2, 3, \nFollowers: ")
      await one.command(
        "MP1 FOLLOW oneself", "FOLLOW 1", answer: "Input username already exists, command failed")
      await one.command(
        "MP1 FOLLOW an unknown user", "FOLLOW 9", answer: "Command failed with invalid username")
      await one.command("MP1 UNFOLLOW oneself", "UNFOLLOW 1", answer: "Command failed with invalid username")
      await one.command(
        "MP1 UNFOLLOW an unknown user", "UNFOLLOW 9", answer: "Command failed with invalid username")
      await one.command(
        "MP1 UNFOLLOW a user not followed", "UNFOLLOW 2", answer: "Command failed with not a follower")
      await one.command("MP1 FOLLOW 2", "follow 2", answer: success)
      await one.command(
        "MP1 FOLLOW 2 again", "FOLLOW 2", answer: "Input username already exists, command failed")
      await three.command("MP1 3 FOLLOW 2", "FOLLOW 2", answer: success)
      await three.command("MP1 3 FOLLOW 1", "FOLLOW 1", answer: success)
      await two.commandEventually(
        "MP1 LIST shows 2's followers", "LIST", answer: "\(success)\nAll users: 1, 2, 3, \nFollowers: 1, 3, ")
      await three.command("MP1 3 UNFOLLOW 2", "UNFOLLOW 2", answer: success)
      await two.commandEventually(
        "MP1 LIST after an unfollow", "LIST", answer: "\(success)\nAll users: 1, 2, 3, \nFollowers: 1, ")
      await one.command("MP1 a command that does not exist", "DANCE", answer: "Invalid Command")

      // 25 posts by 2; user 1, who follows 2, enters timeline mode and sees the latest 20, newest first.
      await two.enterTimeline("MP1 2 enters timeline mode")
      for index in 1...25 { two.type("post \(index) of user 2") }
      let posted = (1...25).map { (author: 2, text: "post \($0) of user 2") }
      let delivered = await eventually(within: .seconds(30)) {
        let watch = try? await runSNS([
          "client", "--coordinator", "127.0.0.1:\(sheet.deployment.coordinatorPort)", "--user", "1",
          "timeline",
          "--for", "200ms",
        ])
        return watch?.output.contains(">> post 25 of user 2") ?? false
      }
      #expect(delivered, "MP1: 2's posts never reached 1's timeline")
      await one.enterTimeline("MP1 1 enters timeline mode")
      await one.expect(
        "MP1 timeline mode shows the latest 20 posts, newest first",
        Self.lines(posted.suffix(20).reversed()).map { $0 + "\n" }.joined())
      two.type("post 26 of user 2")
      await one.expectPosts("MP1 a new post arrives once", Self.lines([(2, "post 26 of user 2")]))
      // 1's own post reaches its follower 3, never 1 itself.
      await three.enterTimeline("MP1 3 enters timeline mode")
      await three.expectPosts("MP1 3 sees nothing of 1 yet", [], within: .milliseconds(300))
      one.type("post of user 1")
      await three.expectPosts("MP1 a follower sees 1's post", Self.lines([(1, "post of user 1")]))
      await one.expectPosts("MP1 1 never sees its own post", [], within: .milliseconds(300))
    }
  }

  // MARK: MP2.2

  @Test(
    "MP2.2 test 1: one cluster, users 1 and 4 follow each other and see each other's posts",
    arguments: SheetDeploymentKind.allCases)
  func mp22test1(_ kind: SheetDeploymentKind) async throws {
    try await withSheet(kind, clusters: 3) { sheet in
      let success = "Command completed successfully"
      let one = try await sheet.open(1, step: "MP2.2-1 login of user 1")
      let four = try await sheet.open(4, step: "MP2.2-1 login of user 4")
      await one.commandEventually("MP2.2-1 1 FOLLOW 4", "FOLLOW 4", answer: success)
      await four.commandEventually("MP2.2-1 4 FOLLOW 1", "FOLLOW 1", answer: success)
      await one.commandEventually(
        "MP2.2-1 LIST of 1", "LIST", answer: "\(success)\nAll users: 1, 4, \nFollowers: 4, ")
      await four.commandEventually(
        "MP2.2-1 LIST of 4", "LIST", answer: "\(success)\nAll users: 1, 4, \nFollowers: 1, ")
      await one.enterTimeline("MP2.2-1 1 enters timeline mode")
      await four.enterTimeline("MP2.2-1 4 enters timeline mode")
      for text in ["p11", "p12"] { one.type(text) }
      for text in ["p41", "p42"] { four.type(text) }
      await one.expectPosts("MP2.2-1 1 sees 4's posts, once each", Self.lines([(4, "p41"), (4, "p42")]))
      await four.expectPosts("MP2.2-1 4 sees 1's posts, once each", Self.lines([(1, "p11"), (1, "p12")]))
    }
  }

  @Test(
    "MP2.2 tests 2 and 3: three clusters follow each other; a killed master; a late user",
    arguments: SheetDeploymentKind.allCases)
  func mp22tests2and3(_ kind: SheetDeploymentKind) async throws {
    try await withSheet(kind, clusters: 3) { sheet in
      let success = "Command completed successfully"
      let users = [1, 2, 3]
      // Test 2.
      var clients: [Int: CourseClient] = [:]
      for user in users { clients[user] = try await sheet.open(user, step: "MP2.2-2 login of user \(user)") }
      for user in users {
        for other in users where other != user {
          await clients[user]?.commandEventually(
            "MP2.2-2 \(user) FOLLOW \(other)", "FOLLOW \(other)", answer: success)
        }
      }
      for user in users {
        let followers = users.filter { $0 != user }.map { "\($0), " }.joined()
        await clients[user]?.commandEventually(
          "MP2.2-2 LIST of \(user)", "LIST",
          answer: "\(success)\nAll users: 1, 2, 3, \nFollowers: \(followers)")
      }
      var seen: [Int: [Post]] = [:]
      for user in users {
        await clients[user]?.enterTimeline("MP2.2-2 \(user) enters timeline mode")
        for index in 1...2 { clients[user]?.type("p\(user)\(index)") }
        for other in users where other != user {
          seen[other, default: []] += [(user, "p\(user)1"), (user, "p\(user)2")]
        }
      }
      for user in users {
        await clients[user]?.expectPosts(
          "MP2.2-2 \(user) sees exactly its followees' posts, once each", Self.lines(seen[user] ?? []))
      }

      // Test 3: every client quits; the master of cluster 2 dies; 1, 2, 3 come back and 5 joins.
      for client in clients.values { await client.quit() }
      try await sheet.deployment.killMaster(ofCluster: 2)
      for user in users {
        clients[user] = try await sheet.open(user, step: "MP2.2-3 login of user \(user) again")
      }
      let five = try await sheet.open(5, step: "MP2.2-3 login of user 5")
      clients[5] = five
      for user in users {
        await five.commandEventually("MP2.2-3 5 FOLLOW \(user)", "FOLLOW \(user)", answer: success)
      }
      for user in users {
        await clients[user]?.commandEventually("MP2.2-3 \(user) FOLLOW 5", "FOLLOW 5", answer: success)
      }
      let everyone = [1, 2, 3, 5]
      for user in everyone {
        let followers = everyone.filter { $0 != user }.map { "\($0), " }.joined()
        await clients[user]?.commandEventually(
          "MP2.2-3 LIST of \(user)", "LIST",
          answer: "\(success)\nAll users: 1, 2, 3, 5, \nFollowers: \(followers)")
      }
      // On entering timeline mode each user sees what it saw before (from before the crash, on user 2's new
      // master too), then the new posts of its followees; user 5 only posts made after its follows.
      var expected: [Int: [Post]] = [1: seen[1] ?? [], 2: seen[2] ?? [], 3: seen[3] ?? [], 5: []]
      for (user, texts) in [
        (5, ["p51", "p52"]), (3, ["p33", "p34"]), (2, ["p23", "p24"]), (1, ["p13", "p14"]),
      ] {
        await clients[user]?.enterTimeline("MP2.2-3 \(user) enters timeline mode")
        for text in texts { clients[user]?.type(text) }
        for other in everyone where other != user { expected[other, default: []] += texts.map { (user, $0) } }
      }
      for user in everyone {
        await clients[user]?.expectPosts(
          "MP2.2-3 \(user) sees its followees' posts, old and new, once each",
          Self.lines(expected[user] ?? []))
      }
    }
  }
}
