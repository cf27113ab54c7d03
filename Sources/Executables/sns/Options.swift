import ArgumentParser
import Foundation
import Logging
import SNSCore

extension Duration: @retroactive ExpressibleByArgument {
  /// Durations on the command line: `250ms`, `10s`, `1.5s`, `2m`.
  public init?(argument: String) {
    guard let parsed = try? Duration(parsing: argument) else { return nil }
    self = parsed
  }
}

extension Endpoint: ExpressibleByArgument {
  public init?(argument: String) {
    guard let parsed = try? Endpoint(parsing: argument) else { return nil }
    self = parsed
  }
}

/// Logging flags every subcommand shares.
struct LoggingOptions: ParsableArguments {
  @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (env SNS_LOG_LEVEL).")
  var logLevel: String?

  @Option(help: "Log format: logfmt or json (env SNS_LOG_FORMAT).")
  var logFormat: String?

  /// Bootstraps swift-log once for the process and returns its logger.
  func makeLogger(label: String) throws -> Logger {
    let levelText = logLevel ?? ProcessInfo.processInfo.environment["SNS_LOG_LEVEL"] ?? "info"
    guard let level = Logger.Level(rawValue: levelText.lowercased()) else {
      throw ValidationError("unknown log level '\(levelText)'")
    }
    let formatText = logFormat ?? ProcessInfo.processInfo.environment["SNS_LOG_FORMAT"] ?? "logfmt"
    guard let format = StructuredLogHandler.Format(rawValue: formatText.lowercased()) else {
      throw ValidationError("unknown log format '\(formatText)' (logfmt or json)")
    }
    LoggingBootstrap.once(level: level, format: format)
    return Logger(label: label)
  }
}

/// The cluster secret for internal calls, from a file (never from the command line, where `ps` shows it).
struct SecretOptions: ParsableArguments {
  @Option(help: "File holding the cluster secret for internal calls (env SNS_SECRET_FILE).")
  var secretFile: String?

  func secret() throws -> String? {
    let fromEnvironment = ProcessInfo.processInfo.environment["SNS_SECRET_FILE"].flatMap {
      $0.isEmpty ? nil : $0
    }
    guard let path = secretFile ?? fromEnvironment else { return nil }
    guard let data = FileManager.default.contents(atPath: path),
      let text = String(data: data, encoding: .utf8)
    else { throw ValidationError("cannot read the secret file '\(path)'") }
    let secret = text.trimmingCharacters(in: .whitespacesAndNewlines)
    guard !secret.isEmpty else { throw ValidationError("the secret file '\(path)' is empty") }
    return secret
  }
}

/// The flag a coordinator, server or synchronizer needs to run without a cluster secret.
struct InsecureOption: ParsableArguments {
  @Flag(
    help:
      "Run without a cluster secret: anyone who reaches the port can make internal calls (mirror, catch-up, roles)."
  )
  var insecure = false

  /// The secret from `options`; without one, an error unless `--insecure` was given.
  func secret(from options: SecretOptions) throws -> String? {
    if let secret = try options.secret() { return secret }
    guard insecure else {
      throw ValidationError(
        "internal calls need a cluster secret: give --secret-file PATH (or SNS_SECRET_FILE), or --insecure to run without one"
      )
    }
    return nil
  }
}

/// Prints one clear line to stderr and exits non-zero: for errors a user can act on.
func fail(_ message: String) -> Never {
  FileHandle.standardError.write(Data("sns: error: \(message)\n".utf8))
  exit(1)
}

/// What every long-running process (`coordinator`, `server`, `synchronizer`) takes besides its own options:
/// the cluster secret, logging, the metrics endpoint and TLS.
struct ProcessOptions: ParsableArguments {
  @OptionGroup var secretOptions: SecretOptions
  @OptionGroup var insecureOption: InsecureOption
  @OptionGroup var logging: LoggingOptions
  @OptionGroup var metrics: MetricsOptions
  @OptionGroup var tls: TLSOptions

  /// The cluster secret, or nil with `--insecure`.
  func secret() throws -> String? { try insecureOption.secret(from: secretOptions) }
}
