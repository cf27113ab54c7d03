import Foundation
import Logging
import ServiceLifecycle

/// Ends a child of `sns cluster up` when its supervisor is gone, however it went (^C, SIGPIPE, kill -9):
/// the supervisor names itself in `SNS_PARENT_PID`, and once this process's parent is another one (it was
/// re-parented to init or a subreaper) the service returns, which shuts the process down gracefully.
///
/// `PR_SET_PDEATHSIG` is not used: it fires when the *thread* that spawned the child exits, and the
/// supervisor spawns from whatever thread its task runs on.
struct ParentWatch: Service {
  static let environmentKey = "SNS_PARENT_PID"
  let parent: pid_t
  let logger: Logger

  /// The watch this process needs, if it was started by a supervisor.
  static func fromEnvironment(logger: Logger) -> ParentWatch? {
    guard let text = ProcessInfo.processInfo.environment[environmentKey], let pid = pid_t(text), pid > 1
    else { return nil }
    return ParentWatch(parent: pid, logger: logger)
  }

  func run() async throws {
    do {
      try await cancelWhenGracefulShutdown {
        while getppid() == parent {
          try await Task.sleep(for: .milliseconds(200))
        }
      }
    } catch is CancellationError {
      return  // the process is stopping anyway
    }
    logger.notice("the supervising process is gone; stopping", metadata: ["parent": "\(parent)"])
  }
}
