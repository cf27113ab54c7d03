import Foundation

/// The course's command lines, so a teaching assistant can run the acceptance sheets as written: one `sns`
/// binary answers to `coordinator`, `tsd`, `tsc` and `synchronizer` (links made by `sns course install DIR`
/// or `make course`), with the course's flags and defaults, and keeps data in the current directory:
/// `cluster_<c>/<role>_<id>`, as the course's own servers do, and the coordinator's roles in `coordinator/`.
///
///     coordinator -p 9000
///     tsd -c 1 -s 1 -h localhost -k 9000 -p 10000
///     synchronizer -h localhost -k 9000 -p 9001 -i 1
///     tsc -h localhost -k 9000 -u 1
///
/// Servers and synchronizers listen on every address and give the coordinator `localhost:<port>` for clients
/// (`SNS_ADVERTISE_HOST` names another host). Intervals are the course's (heartbeat 10 s, 2 misses, sync 30 s)
/// unless `SNS_HEARTBEAT`, `SNS_MISS_COUNT`, `SNS_SYNC_INTERVAL` or `SNS_TIMELINE_POLL` say otherwise. The
/// course has no cluster secret, so these run `--insecure` unless `SNS_SECRET_FILE` names one.
enum CourseCommandLine {
  /// The names this binary answers to, and the `sns` command each one becomes.
  static let names = ["coordinator", "tsd", "tsc", "synchronizer"]

  struct Invalid: Error, CustomStringConvertible {
    let description: String
  }

  /// The `sns` arguments for a course command line, or `nil` when `argv[0]` is not a course name (or the
  /// arguments are already ours: any `--long` option passes through to the `sns` command of that name).
  static func translate(_ argv: [String], environment: [String: String]) throws(Invalid) -> [String]? {
    guard let first = argv.first else { return nil }
    let name = (first as NSString).lastPathComponent
    guard names.contains(name) else { return nil }
    let arguments = Array(argv.dropFirst())
    let command = name == "tsd" ? "server" : name == "tsc" ? "client" : name
    if arguments.contains(where: { $0.hasPrefix("--") }) { return [command] + arguments }
    let options = try parse(arguments, allowed: allowedLetters[name] ?? "", command: name)
    func value(_ letter: Character, default fallback: String? = nil) throws(Invalid) -> String {
      guard let value = options[letter] ?? fallback else {
        throw Invalid(description: "\(name): missing -\(letter) (\(usage[name] ?? ""))")
      }
      return value
    }
    let advertised = environment["SNS_ADVERTISE_HOST"] ?? "localhost"
    func intervals(_ keys: [(String, String)]) -> [String] {
      keys.flatMap { flag, key in environment[key].map { ["--\(flag)", $0] } ?? [] }
    }
    let coordinator = { () throws(Invalid) -> String in
      "\(try value("h", default: "localhost")):\(try value("k", default: "9090"))"
    }
    switch name {
    case "coordinator":
      return [
        "coordinator", "--listen", "0.0.0.0:\(try value("p", default: "9090"))", "--data-dir", "coordinator",
        "--insecure",
      ]
        + intervals([("heartbeat", "SNS_HEARTBEAT"), ("miss-count", "SNS_MISS_COUNT")])
    case "tsd":
      let port = try value("p", default: "3010")
      let cluster = try value("c", default: "1")
      return [
        "server", "--coordinator", try coordinator(), "--cluster", cluster, "--id",
        try value("s", default: "1"),
        "--listen", "0.0.0.0:\(port)", "--advertise", "\(advertised):\(port)", "--data-dir",
        "cluster_\(cluster)", "--insecure",
      ]
        + intervals([
          ("heartbeat", "SNS_HEARTBEAT"), ("miss-count", "SNS_MISS_COUNT"),
          ("timeline-poll", "SNS_TIMELINE_POLL"),
        ])
    case "synchronizer":
      let port = try value("p", default: "9001")
      return [
        "synchronizer", "--coordinator", try coordinator(), "--id", try value("i", default: "1"), "--listen",
        "0.0.0.0:\(port)", "--advertise", "\(advertised):\(port)", "--data-root", ".", "--insecure",
      ] + intervals([("sync-interval", "SNS_SYNC_INTERVAL")])
    default:  // tsc
      return ["client", "--coordinator", try coordinator(), "--user", try value("u", default: "1")]
    }
  }

  static let allowedLetters = ["coordinator": "p", "tsd": "cshkp", "tsc": "hku", "synchronizer": "hkpi"]
  static let usage = [
    "coordinator": "coordinator -p PORT",
    "tsd": "tsd -c CLUSTER -s SERVER -h COORDINATOR_HOST -k COORDINATOR_PORT -p PORT",
    "tsc": "tsc -h COORDINATOR_HOST -k COORDINATOR_PORT -u USER",
    "synchronizer": "synchronizer -h COORDINATOR_HOST -k COORDINATOR_PORT -p PORT -i ID",
  ]

  /// getopt-style: `-p 9000` or `-p9000`, each letter taking a value.
  static func parse(_ arguments: [String], allowed: String, command: String) throws(Invalid) -> [Character:
    String]
  {
    var options: [Character: String] = [:]
    var index = 0
    while index < arguments.count {
      let word = arguments[index]
      guard word.count >= 2, word.first == "-", let letter = word.dropFirst().first, allowed.contains(letter)
      else {
        throw Invalid(description: "\(command): unexpected '\(word)' (\(usage[command] ?? ""))")
      }
      if word.count > 2 {
        options[letter] = String(word.dropFirst(2))
      } else {
        index += 1
        guard index < arguments.count else {
          throw Invalid(description: "\(command): -\(letter) needs a value (\(usage[command] ?? ""))")
        }
        options[letter] = arguments[index]
      }
      index += 1
    }
    return options
  }
}
