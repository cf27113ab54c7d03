/// A network address, `host:port`, as the coordinator hands it to clients (`ServerInfo.hostname` and `.port`).
public struct Endpoint: Hashable, Sendable, CustomStringConvertible {
  public let host: String
  public let port: Int

  public init(host: String, port: Int) throws(ValidationError) {
    guard !host.isEmpty, host.utf8.count <= 253, (0...65535).contains(port),
      host.unicodeScalars.allSatisfy({ $0.isASCII && $0 != " " && $0 != "/" && $0 != "\0" })
    else { throw .invalidEndpoint("\(host):\(port)") }
    self.host = host
    self.port = port
  }

  /// Parses `host:port` or `[ipv6]:port`.
  public init(parsing text: String) throws(ValidationError) {
    guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else {
      throw .invalidEndpoint(text)
    }
    var host = String(text[..<colon])
    if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    try self.init(host: host, port: port)
  }

  /// `host:port`, with brackets around an IPv6 host, as gRPC targets want it.
  public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// What a process is in a cluster. The coordinator decides master and slave; the synchronizer is fixed.
public enum Role: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
  case master
  case slave
  case synchronizer

  /// Case-insensitive, as WIRE.md asks of `ServerInfo.type`.
  public init?(parsing text: String) {
    self.init(rawValue: text.lowercased())
  }
  public var description: String { rawValue }
}
