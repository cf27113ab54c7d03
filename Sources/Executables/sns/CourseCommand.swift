import ArgumentParser
import Foundation

/// `sns course install DIR`: the links that let the course's command lines run unchanged.
struct CourseCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "course", abstract: "The course's own command lines (coordinator, tsd, tsc, synchronizer).",
    subcommands: [Install.self])

  struct Install: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "install",
      abstract: "Make links named coordinator, tsd, tsc and synchronizer to this binary in DIR.",
      discussion: """
        Then run the acceptance sheets as written, each from the directory that should hold the data
        (servers keep cluster_<c>/<role>_<id> there):
          DIR/coordinator -p 9000
          DIR/tsd -c 1 -s 1 -h localhost -k 9000 -p 10000
          DIR/synchronizer -h localhost -k 9000 -p 9001 -i 1
          DIR/tsc -h localhost -k 9000 -u 1
        Synchronizer i serves cluster ((i-1) mod N)+1; a second one of a cluster (ids N+1…2N) stands by and
        takes over when the first one stops.
        """)

    @Argument(help: "Directory for the links (created if missing).") var directory: String

    func run() throws {
      let binary = ClusterUpCommand.executablePath
      let files = FileManager.default
      do {
        try files.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for name in CourseCommandLine.names {
          let link = (directory as NSString).appendingPathComponent(name)
          if (try? files.destinationOfSymbolicLink(atPath: link)) != nil {
            try files.removeItem(atPath: link)
          }
          try files.createSymbolicLink(atPath: link, withDestinationPath: binary)
          print("\(link) -> \(binary)")
        }
      } catch {
        fail("cannot make the links in \(directory): \(error)")
      }
    }
  }
}
