import ArgumentParser

@main
struct SNSCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "sns",
    abstract:
      "Tiny SNS: a fault-tolerant social network service (coordinator, servers, synchronizers, client).",
    subcommands: [
      CoordinatorCommand.self, ServerCommand.self, SynchronizerCommand.self, ClientCommand.self,
      ClusterCommand.self, SimulateCommand.self, DebugCommand.self, BenchCommand.self,
    ]
  )
}
