import CEditLine
import Foundation
import Synchronization

/// Lines of standard input, read on a thread of their own so that no Swift concurrency thread blocks on it.
/// At a terminal, libedit reads them: arrow keys, line editing and history (kept in `~/.sns_history`); from a
/// pipe, plain lines.
actor StandardInputLines {
  var iterator: AsyncStream<String>.Iterator
  let terminal: LineEditor?

  init() {
    let (stream, continuation) = AsyncStream<String>.makeStream()
    iterator = stream.makeAsyncIterator()
    if isatty(STDIN_FILENO) == 1 {
      let editor = LineEditor(lines: continuation)
      terminal = editor
      editor.start()
    } else {
      terminal = nil
      let thread = Thread {
        while let line = readLine(strippingNewline: true) { continuation.yield(line) }
        continuation.finish()
      }
      thread.start()
    }
  }

  /// The next line, `nil` at end of input; at a terminal it shows `prompt` first.
  func next(prompt: String?) async -> String? {
    terminal?.request(prompt: prompt ?? "")
    // The iterator refers to the stream's shared storage, so advancing a copy advances it.
    var current = iterator
    defer { iterator = current }
    return await current.next(isolation: self)
  }
}

/// libedit's `readline` on a thread of its own, one line per request, so that each line gets the prompt of
/// the mode the session is in when it is asked for.
final class LineEditor: Sendable {
  let lines: AsyncStream<String>.Continuation
  let prompts = Mutex<[String]>([])
  let requested = DispatchSemaphore(value: 0)
  let historyFile = ((ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()) as NSString)
    .appendingPathComponent(".sns_history")

  init(lines: AsyncStream<String>.Continuation) {
    self.lines = lines
  }

  func start() {
    let thread = Thread { [self] in
      using_history()
      _ = read_history(historyFile)
      var previous: String?
      while true {
        requested.wait()
        let prompt = prompts.withLock { $0.isEmpty ? "" : $0.removeFirst() }
        guard let line = Self.readline(prompt: prompt) else { break }
        if !line.allSatisfy(\.isWhitespace) && line != previous {
          add_history(line)
          _ = write_history(historyFile)
          previous = line
        }
        lines.yield(line)
      }
      lines.finish()
    }
    thread.start()
  }

  func request(prompt: String) {
    prompts.withLock { $0.append(prompt) }
    requested.signal()
  }

  /// One edited line without its line break, `nil` at end of input (^D).
  static func readline(prompt: String) -> String? {
    // The C boundary: readline returns a line it allocated with malloc, which the caller frees.
    guard let raw = CEditLine.readline(prompt) else { return nil }
    defer { free(raw) }
    return String(cString: raw)
  }
}
