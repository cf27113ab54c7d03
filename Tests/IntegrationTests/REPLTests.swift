import Foundation
import SNSTestSupport
import Testing

/// The interactive client over a stdin pipe, typed as a course student would, answered in the course's words.
@Suite("Client REPL", .serialized)
struct REPLTests {
  @Test("FOLLOW/UNFOLLOW/LIST/TIMELINE in any case, a bad command, the course's sentences, timeline mode, ^D")
  func courseSession() async throws {
    try await withLocalDeployment(clusters: 1, syncInterval: "300ms") { try await session($0) }
  }

  func session(_ deployment: LocalDeployment) async throws {
    // User 2 exists, and user 1's server knows it (after a sync round).
    #expect(try await deployment.client(2, ["list"]).status == 0)
    await expectEventually {
      (try? await deployment.client(1, ["list"]).output.contains("All users: 1, 2")) ?? false
    }
    let repl = try await deployment.interactiveClient(1)
    var seen = 0
    /// Sends `line` and waits for `expected` to appear after everything the session printed so far.
    func type(_ line: String, expect expected: [String]) async {
      repl.send(line)
      let answered = await eventually(within: .seconds(10)) {
        let fresh = String(repl.output.dropFirst(seen))
        return expected.allSatisfy(fresh.contains)
      }
      #expect(answered, "after '\(line)' expected \(expected) in:\n\(repl.output.dropFirst(seen))")
      seen = repl.output.count
    }
    await type("follow 2", expect: ["Command completed successfully"])
    await type("FOLLOW 2", expect: ["Input username already exists, command failed"])
    await type("Follow 9", expect: ["Command failed with invalid username"])
    await type("LIST", expect: ["Command completed successfully", "All users: 1, 2", "Followers: "])
    await type("unfollow 2", expect: ["Command completed successfully"])
    await type("UnFollow 2", expect: ["Command failed with not a follower"])
    await type("dance 2", expect: ["Command failed with invalid command"])
    await type("FOLLOW 2", expect: ["Command completed successfully"])
    await type("timeline", expect: ["Command completed successfully", "Now you are in the timeline"])

    // A post of someone followed arrives as `author (time) >> text`, the time as the course's ctime.
    #expect(try await deployment.client(2, ["post", "hello from two"]).status == 0)
    let arrived = await eventually(within: .seconds(15)) {
      repl.output.contains(/2 \(\w{3} \w{3} \d{2} \d{2}:\d{2}:\d{2} \d{4}\) >> hello from two/)
    }
    #expect(arrived, "\(repl.output)")

    // In timeline mode each line is a post; ^D (end of input) leaves.
    repl.send("my first post")
    let timeline = "\(deployment.dataDirectory(ofCluster: 1))/master_1/1.timeline"
    await expectEventually {
      ((try? String(contentsOfFile: timeline, encoding: .utf8)) ?? "").contains("my first post")
    }
    repl.closeInput()
    #expect(await repl.waitForExit(within: .seconds(10)))
    #expect(repl.exitStatus == 0, "\(repl.output)")
  }
}
