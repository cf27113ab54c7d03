import ArgumentParser
import Foundation

@main
struct SNSCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "sns",
    abstract:
      "Tiny SNS: a fault-tolerant social network service (coordinator, servers, synchronizers, client).",
    subcommands: [
      CoordinatorCommand.self, ServerCommand.self, SynchronizerCommand.self, ClientCommand.self,
      ClusterCommand.self, SimulateCommand.self, ChaosCommand.self, DebugCommand.self, BenchCommand.self,
      CourseCommand.self,
    ]
  )

  /// Run as `coordinator`, `tsd`, `tsc` or `synchronizer` (a link), the course's command line is understood.
  static func main() async {
    do {
      let course = try CourseCommandLine.translate(
        CommandLine.arguments, environment: ProcessInfo.processInfo.environment)
      await main(course ?? Array(CommandLine.arguments.dropFirst()))
    } catch {
      fail(error.description)
    }
  }
}
