import Foundation
import SNSCore

extension ClientRunner {
  /// The course client's session: commands until TIMELINE, then posts until end of input.
  func interactive() async throws {
    let lines = StandardInputLines()
    let prompt = isatty(STDIN_FILENO) == 1
    do {
      guard try await session.execute(.login).status == .success else {
        output.line(ReplyStatus.invalidUsername.courseSentence)
        return
      }
    } catch {
      output.error("\(error)")
      throw ExitCodeError.unreachable
    }
    if prompt { output.line("Commands: FOLLOW <id>, UNFOLLOW <id>, LIST, TIMELINE, HELP") }
    while let line = await lines.next(prompt: prompt ? "Cmd> " : nil) {
      let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
      guard !words.isEmpty else { continue }
      do {
        switch try Self.parse(words) {
        case .help:
          for help in Self.help { output.line(help) }
        case .command(let command):
          output.reply(try await session.execute(command), listing: command == .list)
        case .timeline:
          output.line(ReplyStatus.success.courseSentence)
          output.line("Now you are in the timeline")
          await timelineMode(lines)
          return
        }
      } catch let error as SNSError {
        output.error("\(error)")
      } catch {
        output.line(ReplyStatus.invalid.courseSentence)
        output.error("\(error)")
      }
    }
  }

  /// Each line is a post; posts of followed users print as they arrive. Ends at end of input.
  func timelineMode(_ lines: StandardInputLines) async {
    await withTaskGroup(of: Void.self) { group in
      group.addTask {
        do { try await followTimeline() } catch { output.error("timeline: \(error)") }
      }
      while let line = await lines.next(prompt: nil) {
        guard !line.isEmpty else { continue }
        do {
          let reply = try await session.execute(.post(try PostText(line)))
          if reply.status != .success { output.line(reply.status.courseSentence) }
        } catch {
          output.error("\(error)")
        }
      }
      group.cancelAll()
    }
  }
}

enum ExitCodeError: Error {
  case unreachable
}
