import SNSCore
import Testing

@testable import SNSTransport

/// A handler's error reaches the caller as the same core error through the status's trailing metadata; a
/// status without it is the transport's, and never a final storage refusal.
@Suite("Error kinds over gRPC")
struct ErrorKindTests {
  static func failing(_ error: any Error) -> GRPCMethodHandler {
    .unary { _, _ in throw error }
  }

  /// The core error a call to `method` failed with, as a client of ours sees it.
  static func error(calling method: String, on channel: GRPCChannel) async -> SNSError? {
    await statusOf { _ = try await channel.unary(method: method, request: []) }?.snsError
  }

  @Test("every core error a handler throws arrives as itself, the stale epoch's number included")
  func coreErrorsArriveAsThemselves() async throws {
    let errors: [SNSError] = [
      .unavailable("a follow change of 2 is still being written; try again"),
      .invalidArgument("post: too long"),
      .notMaster("server 2 of cluster 1 is not master"),
      .staleEpoch(current: Epoch(1_796_622_448_246)),
      .unauthenticated,
      .deadlineExceeded,
      .storage("cannot write 1.timeline: No space left on device (errno 28)"),
    ]
    var handlers: [String: GRPCMethodHandler] = [:]
    for (index, error) in errors.enumerated() { handlers["/t/E\(index)"] = Self.failing(error) }
    try await withServer(handlers) { _, channel in
      for (index, sent) in errors.enumerated() {
        let received = await Self.error(calling: "/t/E\(index)", on: channel)
        switch (sent, received) {
        case (.unavailable, .unavailable(let why)?), (.invalidArgument, .invalidArgument(let why)?):
          #expect("\(sent)".contains(why), "\(sent) arrived as \(String(describing: received))")
        case (.notMaster, .notMaster?), (.unauthenticated, .unauthenticated?),
          (.deadlineExceeded, .deadlineExceeded?), (.storage, .storage?):
          break
        case (.staleEpoch(let epoch), .staleEpoch(let current)?):
          #expect(current == epoch)
        default:
          Issue.record("\(sent) arrived as \(String(describing: received))")
        }
      }
    }
  }

  @Test("an INTERNAL status without an error kind is the transport's: in doubt, never a storage refusal")
  func internalWithoutKindIsTransport() async throws {
    let handlers: [String: GRPCMethodHandler] = [
      // A peer that is not ours, or a failure below the handlers, with a message that looks like ours.
      "/t/Internal": Self.failing(GRPCStatus(.internalError, "storage: looks like a refusal")),
      "/t/DataLoss": Self.failing(GRPCStatus(.dataLoss, "")),
      "/t/Aborted": Self.failing(GRPCStatus(.aborted, "stale epoch: current=9")),
    ]
    try await withServer(handlers) { _, channel in
      for method in ["/t/Internal", "/t/DataLoss", "/t/Aborted"] {
        let received = await Self.error(calling: method, on: channel)
        guard case .unavailable? = received else {
          Issue.record("\(method) arrived as \(String(describing: received))")
          continue
        }
      }
      // The local core fails a call whose headers HTTP/2 does not allow with INTERNAL: nothing was sent.
      let local = await statusOf {
        _ = try await channel.unary(
          method: "/t/Internal", request: [], metadata: GRPCMetadata([("bad key", "x")]))
      }
      #expect(local?.code == .internalError)
      guard case .unavailable? = local?.snsError else {
        Issue.record("a local INTERNAL arrived as \(String(describing: local?.snsError))")
        return
      }
    }
  }
}
