import ArgumentParser
import Foundation
import SNSCore

/// Runs client commands: one-shot for scripts, or the interactive session of the course client.
struct ClientRunner: Sendable {
  let session: SNSClient
  let output: ClientOutput

  /// A parsed command line or REPL line.
  enum Input: Equatable {
    case command(Command)
    case timeline
    case help
  }

  /// What `HELP` prints.
  static let help = [
    "FOLLOW <id>     follow user <id>; their posts reach your timeline after the next sync round",
    "UNFOLLOW <id>   stop following user <id>",
    "LIST            every user, and who follows you",
    "TIMELINE        timeline mode: each line you type is a post; posts of users you follow appear as they",
    "                arrive; ^D leaves",
    "HELP            this list (command words are case-insensitive; arrow keys recall earlier lines)",
  ]

  /// Parses `FOLLOW 2`, `unfollow 3`, `LIST`, `TIMELINE`, `post text…` (case-insensitive command word).
  static func parse(_ words: [String]) throws -> Input {
    guard let first = words.first?.lowercased() else { throw ValidationError("empty command") }
    let rest = Array(words.dropFirst())
    func target() throws -> UserID {
      guard rest.count == 1 else { throw ValidationError("\(first.uppercased()) takes one user id") }
      return try UserID(parsing: rest[0])
    }
    switch first {
    case "follow": return .command(.follow(try target()))
    case "unfollow": return .command(.unfollow(try target()))
    case "list" where rest.isEmpty: return .command(.list)
    case "timeline" where rest.isEmpty: return .timeline
    case "help" where rest.isEmpty: return .help
    case "post" where !rest.isEmpty: return .command(.post(try PostText(rest.joined(separator: " "))))
    default:
      throw ValidationError(
        "unknown command '\(words.joined(separator: " "))'; use FOLLOW <id>, UNFOLLOW <id>, LIST, TIMELINE, HELP"
      )
    }
  }

  /// Runs one command and returns the exit status: 0 success, 1 refused, 2 unreachable or invalid.
  func oneShot(_ words: [String], watchFor: Duration?) async -> Int32 {
    do {
      let input = try Self.parse(words)
      if input == .help {
        for help in Self.help { output.line(help) }
        return 0
      }
      guard try await session.execute(.login).status == .success else {
        output.line(ReplyStatus.invalidUsername.courseSentence)
        return 1
      }
      switch input {
      case .command(let command):
        let reply = try await session.execute(command)
        output.reply(reply, listing: command == .list)
        return reply.status == .success ? 0 : 1
      case .timeline:
        try await watchTimeline(for: watchFor ?? .seconds(5))
        return 0
      case .help:
        preconditionFailure("answered before logging in")
      }
    } catch {
      output.error("\(error)")
      return 2
    }
  }

  func watchTimeline(for duration: Duration) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
      group.addTask { try await followTimeline() }
      group.addTask { try await Task.sleep(for: duration) }
      try await group.next()
      group.cancelAll()
    }
  }

  /// Prints timeline posts as they come; after losing the master, subscribes again (the session reconnects).
  func followTimeline() async throws {
    var seen: Set<PostID> = []
    while !Task.isCancelled {
      do {
        let subscription = try await session.timeline()
        for post in subscription.initial where seen.insert(post.id).inserted { output.post(post) }
        for try await post in subscription.updates where seen.insert(post.id).inserted { output.post(post) }
        return
      } catch is CancellationError {
        return
      } catch SNSError.unavailable, SNSError.notMaster, SNSError.deadlineExceeded {
        await session.masterLost()  // the next `timeline()` asks the coordinator again
      }
    }
  }
}
