import Foundation
import SNSTestSupport
import Testing

/// One course client session (`Tests/Interop/tsc.py`, which prints byte for byte what the course's C++
/// `tsc` prints), typed into through a pipe, its screen compared step by step with what the course's
/// acceptance sheets expect. Times in `sender (time) >> text` lines are replaced by `(TIME)`.
final class CourseClient {
  static let script = "\(InteropTests.interop)/tsc.py"
  static let title = """

    ========= TINY SNS CLIENT =========
     Command Lists and Format:
     FOLLOW <username>
     UNFOLLOW <username>
     LIST
     TIMELINE
    =====================================
    Cmd> 
    """
  static let prompt = "Cmd> "

  let user: Int
  let process: SNSProcess
  /// How much of the (normalized) screen earlier steps consumed.
  private var consumed = 0
  /// Whether a step did not show what the sheet expects.
  private(set) var failed = false

  init(user: Int, coordinatorHost: String, coordinatorPort: Int, root: String, stubs: String) async throws {
    self.user = user
    process = try await SNSProcess(
      name: "tsc-\(user)-\(UUID().uuidString.prefix(4))",
      arguments: [
        "python3", Self.script, "-h", coordinatorHost, "-k", "\(coordinatorPort)", "-u", "\(user)",
      ], directory: root, interactive: true, executable: "/usr/bin/env",
      environment: ["SNS_STUBS": stubs, "PYTHONUNBUFFERED": "1"])
  }

  /// Everything on the screen so far, times replaced.
  var screen: String {
    process.output.replacing(
      #/\([A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}\) >> /#, with: "(TIME) >> ")
  }

  /// What appeared since the last step.
  var fresh: String { String(screen.dropFirst(consumed)) }

  func type(_ line: String) { process.send(line) }

  /// Waits (bounded) until exactly `expected` appeared since the last step; records a failure naming `step`
  /// otherwise. Returns whether it matched.
  @discardableResult
  func expect(
    _ step: String, _ expected: String, within timeout: Duration = .seconds(15),
    sourceLocation: SourceLocation = #_sourceLocation
  ) async -> Bool {
    _ = await eventually(within: timeout, every: .milliseconds(20)) { self.fresh.count >= expected.count }
    // A little longer, so that anything printed after the expected text shows as a difference.
    try? await Task.sleep(for: .milliseconds(100))
    let got = fresh
    #expect(got == expected, "\(step) (user \(user))", sourceLocation: sourceLocation)
    consumed += got.count
    note(step, passed: got == expected)
    return got == expected
  }

  func note(_ step: String, passed: Bool) {
    if passed { print("ok: \(step) (user \(user))") } else { failed = true }
  }

  /// Types a command and expects its answer and the next prompt.
  @discardableResult
  func command(
    _ step: String, _ line: String, answer: String, sourceLocation: SourceLocation = #_sourceLocation
  ) async -> Bool {
    type(line)
    return await expect(step, answer + "\n" + Self.prompt, sourceLocation: sourceLocation)
  }

  /// Types a command until it gets `answer` (bounded): for what shows only after a sync round, where the
  /// sheets wait 60 s. Earlier answers are the ones a person typing too early would see.
  @discardableResult
  func commandEventually(
    _ step: String, _ line: String, answer: String, within timeout: Duration = .seconds(30),
    sourceLocation: SourceLocation = #_sourceLocation
  ) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    let expected = answer + "\n" + Self.prompt
    var got = ""
    while ContinuousClock.now < deadline {
      type(line)
      _ = await eventually(within: .seconds(10), every: .milliseconds(20)) {
        self.fresh.hasSuffix(Self.prompt)
      }
      got = fresh
      consumed += got.count
      if got == expected {
        note(step, passed: true)
        return true
      }
      try? await Task.sleep(for: .milliseconds(200))
    }
    #expect(got == expected, "\(step) (user \(user)), last answer", sourceLocation: sourceLocation)
    note(step, passed: false)
    return false
  }

  /// Waits until the timeline lines since the last step are exactly `posts` (`author (TIME) >> text`), each
  /// once, in any order (those already there on entering timeline mode come newest first, later ones oldest
  /// first); then a little longer, so that a repeated post shows.
  @discardableResult
  func expectPosts(
    _ step: String, _ posts: [String], within timeout: Duration = .seconds(30),
    sourceLocation: SourceLocation = #_sourceLocation
  ) async -> Bool {
    let expected = posts
    // Every line counts, blank ones too: a post shown with its line break would add one.
    func lines() -> [String] {
      var lines = fresh.components(separatedBy: "\n")
      if lines.last == "" { lines.removeLast() }
      return lines
    }
    _ = await eventually(within: timeout, every: .milliseconds(50)) { lines().count >= expected.count }
    try? await Task.sleep(for: .seconds(1))
    let got = lines()
    consumed += fresh.count
    let same = got.sorted() == expected.sorted()
    #expect(same, "\(step) (user \(user)): got \(got)", sourceLocation: sourceLocation)
    note(step, passed: same)
    return same
  }

  /// Types TIMELINE and expects the course's two lines (posts may follow at once; they are left for
  /// ``expectPosts(_:_:within:sourceLocation:)``).
  @discardableResult
  func enterTimeline(_ step: String, sourceLocation: SourceLocation = #_sourceLocation) async -> Bool {
    type("TIMELINE")
    let header = "Command completed successfully\nNow you are in the timeline\n"
    _ = await eventually(within: .seconds(15), every: .milliseconds(20)) { self.fresh.count >= header.count }
    let got = String(fresh.prefix(header.count))
    #expect(got == header, "\(step) (user \(user))", sourceLocation: sourceLocation)
    consumed += got.count
    note(step, passed: got == header)
    return got == header
  }

  /// `author (TIME) >> text`, as the course client shows a post.
  static func post(_ author: Int, _ text: String) -> String { "\(author) (TIME) >> \(text)" }

  /// ^C, as the sheets end a client.
  func quit() async {
    process.signal(SIGINT)
    _ = await process.waitForExit(within: .seconds(5))
    await process.stop()
  }
}
