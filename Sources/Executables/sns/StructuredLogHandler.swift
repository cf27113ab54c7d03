import Foundation
import Logging
import Synchronization

/// One structured line per log event on stderr, as logfmt (`ts=… level=… msg="…" key=value`) or JSON.
struct StructuredLogHandler: LogHandler {
  enum Format: String {
    case logfmt
    case json
  }

  let label: String
  let format: Format
  var logLevel: Logger.Level
  var metadata: Logger.Metadata = [:]

  subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  func log(event: LogEvent) {
    var fields: [(String, String)] = [
      (
        "ts",
        ISO8601DateFormatter.string(
          from: Date(), timeZone: .gmt, formatOptions: [.withInternetDateTime, .withFractionalSeconds])
      ),
      ("level", event.level.rawValue), ("logger", label), ("msg", event.message.description),
    ]
    var all = metadata
    if let extra = event.metadata { all.merge(extra) { _, new in new } }
    for key in all.keys.sorted() { fields.append((key, "\(all[key].map { "\($0)" } ?? "")")) }
    let line: String
    switch format {
    case .logfmt:
      line = fields.map { key, value in "\(key)=\(Self.logfmtQuoted(value))" }.joined(separator: " ")
    case .json:
      let object = Dictionary(fields, uniquingKeysWith: { _, new in new })
      let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
      line = String(decoding: data, as: UTF8.self)
    }
    FileHandle.standardError.write(Data((line + "\n").utf8))
  }

  static func logfmtQuoted(_ value: String) -> String {
    let plain =
      !value.isEmpty
      && value.unicodeScalars.allSatisfy { $0.value > 32 && $0 != "\"" && $0 != "=" && $0.value < 127 }
    if plain { return value }
    let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(
      of: "\"", with: "\\\""
    )
    .replacingOccurrences(of: "\n", with: "\\n")
    return "\"\(escaped)\""
  }
}

enum LoggingBootstrap {
  static let done = Mutex(false)

  /// swift-log may be bootstrapped only once per process.
  static func once(level: Logger.Level, format: StructuredLogHandler.Format) {
    let first = done.withLock { done in
      defer { done = true }
      return !done
    }
    guard first else { return }
    LoggingSystem.bootstrap { label in StructuredLogHandler(label: label, format: format, logLevel: level) }
  }
}
