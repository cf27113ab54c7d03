import ArgumentParser
import Foundation
import SNSCore
import Synchronization

/// Hidden tools for tests and scripts that need a second *process* touching the context files.
struct DebugCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "debug", abstract: "Tools for tests: write context files from a separate process.",
    shouldDisplay: false, subcommands: [DebugAppendCommand.self])
}

/// `sns debug append`: appends `count` posts to one timeline file through ``FileContextStore``, exactly as a
/// server or synchronizer does (flock, one write per record, fsync, group commit), so that tests can run two
/// of these at once, or kill -9 one mid-run, and check the file afterwards.
///
/// Each post is `<writer>-<n>` (author = writer id), so the records of different writers never share a key.
/// Prints `appended <n>` every `--progress` records and once at the end, after the records are durable.
struct DebugAppendCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "append", abstract: "Append posts to a timeline file, as a concurrent writer would.")

  @Option(help: "The context directory (created if missing).") var dir: String
  @Option(help: "The timeline file in it, e.g. 7.timeline.") var file: String
  @Option(help: "This writer's id (a user id; it is the author of every post written).") var writer: Int
  @Option(help: "How many posts to append.") var count: Int
  @Option(help: "Appends in flight at once in this process (they share fsyncs).") var concurrency: Int = 8
  @Option(help: "Print progress every this many acknowledged records.") var progress: Int = 500
  @OptionGroup var logging: LoggingOptions

  func run() async throws {
    let logger = try logging.makeLogger(label: "sns.debug")
    // Only a validated integer becomes part of a path: the file name must parse as a context file.
    guard let contextFile = ContextFile(fileName: file), case .timeline = contextFile else {
      fail("'\(file)' is not a timeline file name (<user>.timeline)")
    }
    guard let author = try? UserID(writer) else { fail("writer must be a user id, not \(writer)") }
    guard count >= 0, concurrency >= 1, progress >= 1 else {
      fail("count must be ≥ 0, concurrency and progress ≥ 1")
    }
    let store: FileContextStore
    do {
      store = try FileContextStore(directory: dir, logger: logger)
    } catch { fail("cannot use \(dir): \(error)") }

    let total = count
    let lanes = concurrency
    let counter = ProgressCounter(every: progress)
    try await withThrowingTaskGroup(of: Void.self) { group in
      // Lane k writes posts k+1, k+1+lanes, …: every number once, several appends always in flight.
      for lane in 0..<lanes {
        group.addTask {
          for number in stride(from: lane + 1, through: total, by: lanes) {
            let post = Post(
              id: PostID(author: author, sequence: UInt64(number)),
              time: Timestamp(milliseconds: Int64(number)),
              text: try PostText("writer \(author) record \(number) " + String(repeating: "x", count: 40)))
            try await store.append([PlacedRecord(.post(post), in: contextFile)])
            counter.increment()
          }
        }
      }
      try await group.waitForAll()
    }
    let statistics = store.commitStatistics
    printNow("appended \(counter.value)")
    printNow("fsyncs \(statistics.fileSyncs) rounds \(statistics.rounds)")
  }
}

/// Counts acknowledged appends across lanes and reports every `every`-th.
private final class ProgressCounter: Sendable {
  let every: Int
  private let count = Mutex(0)

  init(every: Int) { self.every = every }

  var value: Int { count.withLock { $0 } }

  func increment() {
    let now = count.withLock { count in
      count += 1
      return count
    }
    if now % every == 0 { printNow("appended \(now)") }
  }
}

/// One line to stdout, unbuffered, so that a test watching the output sees progress as it happens.
private func printNow(_ line: String) {
  FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
