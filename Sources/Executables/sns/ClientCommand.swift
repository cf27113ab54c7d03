import ArgumentParser
import Foundation
import Logging
import SNSCore
import SNSTransport

struct ClientCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "client",
    abstract: "Talk to Tiny SNS as a user: an interactive session like the course client, or one command.",
    discussion: """
      Without a command, reads commands from standard input: FOLLOW <id>, UNFOLLOW <id>, LIST, TIMELINE
      (case-insensitive). In timeline mode each line typed is a post; ^D leaves.

      Examples:
        sns client --coordinator 127.0.0.1:9000 --user 1
        sns client --coordinator 127.0.0.1:9000 --user 1 follow 2
        sns client --coordinator 127.0.0.1:9000 --user 1 post "hello world"
        sns client --coordinator 127.0.0.1:9000 --user 1 list
        sns client --coordinator 127.0.0.1:9000 --user 1 timeline --for 5s
      Exit status: 0 on success, 1 when the command was refused (FAILURE_…), 2 when the service could not be reached.
      """)

  @Option(help: "The coordinator's address.") var coordinator: Endpoint
  @Option(help: "Your user id (a positive integer).") var user: String
  @Option(name: .customLong("for"), help: "With `timeline`: how long to watch before exiting.") var watchFor:
    Duration?
  @Option(help: "How long to keep looking for a live master after losing one.") var failoverTimeout:
    Duration = .seconds(40)
  @Argument(help: "One command: follow ID | unfollow ID | list | post TEXT | timeline.") var words: [String] =
    []
  @OptionGroup var logging: LoggingOptions
  @OptionGroup var tls: TLSOptions

  func run() async throws {
    var logging = logging
    if logging.logLevel == nil { logging.logLevel = "error" }  // a user's terminal, not a log file
    let logger = try logging.makeLogger(label: "sns.client")
    let userID: UserID
    do { userID = try UserID(parsing: user) } catch {
      fail("\(error)")
    }
    let dialer = GRPCDialer(options: CallOptions(tls: tls.client()))
    defer { dialer.close() }
    let output = ClientOutput()
    let session = SNSClient(
      user: userID, coordinator: dialer.coordinator(at: coordinator), dialer: dialer, clock: SystemClock(),
      logger: logger, failoverTimeout: failoverTimeout, retryDelay: .milliseconds(250),
      onReconnect: { endpoint in output.reconnected(to: endpoint) })
    let runner = ClientRunner(session: session, output: output)
    if words.isEmpty {
      try await runner.interactive()
    } else {
      throw ExitCode(await runner.oneShot(words, watchFor: watchFor))
    }
  }
}
