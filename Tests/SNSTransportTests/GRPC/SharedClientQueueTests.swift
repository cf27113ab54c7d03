import Foundation
import Testing

@testable import SNSTransport

/// Channels share the process's client completion queues: a thread per channel would make a process that
/// talks to many peers (a synchronizer, a bench) grow a thread for each.
@Suite("Shared client completion queues")
struct SharedClientQueueTests {
  /// The threads of this process whose name starts with `prefix` (Linux keeps 15 characters of it).
  static func threads(named prefix: String) -> Int {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    return tasks.filter { task in
      let name = (try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8)) ?? ""
      return name.hasPrefix(prefix)
    }.count
  }

  @Test("fifty open channels, each after a call, use the same few queue threads")
  func channelsShareQueueThreads() async throws {
    try await withServer([echo: .unary { request, _ in request }]) { server, _ in
      let channels = (0..<50).map { _ in GRPCChannel(target: "127.0.0.1:\(server.boundPort)") }
      for channel in channels {
        let response = try await channel.unary(method: echo, request: [1])
        #expect(response == [1])
      }
      #expect(Self.threads(named: "grpc-client-cq") <= ClientQueues.count)
      for channel in channels { channel.close() }
    }
  }
}
