import Foundation
import SNSCore
import SNSTestSupport
import Testing

/// Two *processes* (`sns debug append`, which writes through `FileContextStore` exactly as a server or a
/// synchronizer does) append to the same timeline file at once. Afterwards every line is whole, passes its
/// checksum, and no acknowledged record is missing.
@Suite("Concurrent writer processes", .serialized)
struct ConcurrentWritersTests {
  static let count = Int(ProcessInfo.processInfo.environment["SNS_WRITER_COUNT"] ?? "") ?? 10_000

  func writer(_ id: Int, root: String, count: Int = count) async throws -> SNSProcess {
    try await SNSProcess(
      name: "writer-\(id)-\(UUID().uuidString.prefix(4))",
      arguments: [
        "debug", "append", "--dir", "\(root)/master_1", "--file", "7.timeline", "--writer", "\(id)",
        "--count",
        "\(count)", "--progress", "250", "--log-level", "warning",
      ], directory: root)
  }

  /// Every line of the file, checked by hand: whole (newline-terminated), checksum and parse pass.
  /// Returns the post sequence numbers per author.
  func verify(_ path: String) throws -> [Int: Set<UInt64>] {
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    #expect(bytes.last == UInt8(ascii: "\n"), "file ends inside a line")
    var byAuthor: [Int: Set<UInt64>] = [:]
    var lines = 0
    for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast() {
      lines += 1
      do {
        guard case .post(let post) = try RecordCodec.decode(line: line) else {
          Issue.record("not a post: \(String(decoding: line, as: UTF8.self))")
          continue
        }
        let (inserted, _) = byAuthor[Int(post.author.value), default: []].insert(post.id.sequence)
        #expect(inserted, "post \(post.id) appears twice")
      } catch {
        Issue.record("line \(lines) is damaged: \(error)")
      }
    }
    return byAuthor
  }

  /// The last `appended N` a writer printed: records it knows are durable.
  func acknowledged(_ process: SNSProcess) -> Int {
    process.output.split(separator: "\n").compactMap { line in
      line.hasPrefix("appended ") ? Int(line.dropFirst("appended ".count)) : nil
    }.max() ?? 0
  }

  @Test("two writer processes append 10,000 records each to one file: all whole, none lost")
  func twoWriters() async throws {
    try await withTemporaryDirectory(prefix: "tinysns-writers") { root in
      let one = try await writer(1, root: root)
      let two = try await writer(2, root: root)
      let oneFinished = await one.waitForExit(within: .seconds(240))
      let twoFinished = await two.waitForExit(within: .seconds(60))
      let finished = oneFinished && twoFinished
      if !finished {
        await one.stop()
        await two.stop()
      }
      #expect(finished, "writers did not finish: \(one.output.suffix(300)) \(two.output.suffix(300))")
      #expect(one.exitStatus == 0 && two.exitStatus == 0)
      #expect(acknowledged(one) == Self.count && acknowledged(two) == Self.count)
      let written = try verify("\(root)/master_1/7.timeline")
      #expect(written[1] == Set(1...UInt64(Self.count)))
      #expect(written[2] == Set(1...UInt64(Self.count)))
      // The store itself reads the same: nothing skipped, nothing cut.
      let store = try FileContextStore(directory: "\(root)/master_1", logger: .init(label: "verify"))
      #expect(try await store.records(in: .timeline(try UserID(7))).count == 2 * Self.count)
    }
  }

  @Test("kill -9 of one writer mid-run: the other's records and every acknowledged one survive, all whole")
  func killOneWriter() async throws {
    try await withTemporaryDirectory(prefix: "tinysns-writers") { root in
      let one = try await writer(1, root: root)
      let two = try await writer(2, root: root)
      // Let writer 2 get going, then kill it without warning while both are writing.
      let started = await eventually(within: .seconds(60), every: .milliseconds(5)) {
        acknowledged(two) >= 1000
      }
      two.signal(SIGKILL)
      _ = await two.waitForExit(within: .seconds(5))
      let ackedByTwo = acknowledged(two)
      #expect(started)
      let finished = await one.waitForExit(within: .seconds(240))
      if !finished { await one.stop() }
      #expect(finished && one.exitStatus == 0)
      #expect(ackedByTwo < Self.count, "writer 2 finished before it was killed; the test proved less")

      let written = try verify("\(root)/master_1/7.timeline")
      #expect(written[1] == Set(1...UInt64(Self.count)))
      // Writer 2 may have got further than it printed, never less.
      #expect((written[2]?.count ?? 0) >= ackedByTwo)
      // A restarted writer 2 completes its records exactly once (appends are idempotent).
      let again = try await writer(2, root: root)
      let done = await again.waitForExit(within: .seconds(240))
      if !done { await again.stop() }
      #expect(done && again.exitStatus == 0)
      let final = try verify("\(root)/master_1/7.timeline")
      #expect(final[2] == Set(1...UInt64(Self.count)))
    }
  }
}
