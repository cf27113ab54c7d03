import Foundation
import Prometheus
import Synchronization

/// A tiny HTTP/1.1 responder that answers `GET /metrics` with the Prometheus text of a registry.
///
/// One thread of its own accepts and answers connections one at a time (a scrape every few seconds needs no
/// more), polling its socket so that ``stop()`` ends it within a fraction of a second. Nothing here runs on
/// a Swift concurrency thread, so a slow scraper never holds up the service.
final class MetricsListener: Sendable {
  /// The port actually bound (useful with port 0).
  let port: Int
  private let socketDescriptor: Int32
  private let stopRequested = Atomic<Bool>(false)
  private let finished = DispatchSemaphore(value: 0)

  struct ListenError: Error, CustomStringConvertible {
    let description: String
  }

  /// Binds `host:port` (an IPv4 address, or `localhost`) and starts answering.
  init(host: String, port: Int, registry: PrometheusCollectorRegistry) throws {
    let address = host == "localhost" ? "127.0.0.1" : host
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else {
      throw ListenError(description: "socket: \(String(cString: strerror(errno)))")
    }
    var reuse: Int32 = 1
    _ = setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
    do {
      self.port = try POSIXSocketShim.bindAndListen(descriptor, address: address, port: port)
    } catch {
      close(descriptor)
      throw error
    }
    socketDescriptor = descriptor
    let thread = Thread { [self] in self.acceptLoop(registry: registry) }
    thread.name = "sns-metrics"
    thread.start()
  }

  /// Stops accepting, closes the socket and waits (briefly) for the thread to end.
  func stop() {
    guard !stopRequested.exchange(true, ordering: .acquiringAndReleasing) else { return }
    _ = finished.wait(timeout: .now() + 2)
  }

  private func acceptLoop(registry: PrometheusCollectorRegistry) {
    defer {
      close(socketDescriptor)
      finished.signal()
    }
    while !stopRequested.load(ordering: .acquiring) {
      var waiting = pollfd(fd: socketDescriptor, events: Int16(POLLIN), revents: 0)
      guard poll(&waiting, 1, 200) > 0 else { continue }
      let client = accept(socketDescriptor, nil, nil)
      guard client >= 0 else { continue }
      answer(client, registry: registry)
      close(client)
    }
  }

  /// Reads the request head (bounded in size and time) and writes one response; the connection then closes.
  private func answer(_ client: Int32, registry: PrometheusCollectorRegistry) {
    // A scraper that never finishes its request must not hold up the next one.
    var timeout = timeval(tv_sec: 2, tv_usec: 0)
    _ = setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var head: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while head.count < 16384, !Self.containsHeadEnd(head) {
      let count = read(client, &chunk, chunk.count)
      guard count > 0 else { break }
      head.append(contentsOf: chunk[0..<count])
    }
    let requestLine = String(decoding: head.prefix { $0 != UInt8(ascii: "\r") }, as: UTF8.self)
    let words = requestLine.split(separator: " ")
    let response: [UInt8]
    if words.count >= 2, words[0] == "GET", words[1] == "/metrics" || words[1].hasPrefix("/metrics?") {
      response = Self.response(
        status: "200 OK", contentType: "text/plain; version=0.0.4; charset=utf-8",
        body: registry.emitToBuffer())
    } else if words.count >= 2, words[0] == "GET" {
      response = Self.response(
        status: "404 Not Found", contentType: "text/plain", body: Array("try /metrics\n".utf8))
    } else {
      response = Self.response(
        status: "405 Method Not Allowed", contentType: "text/plain", body: Array("GET /metrics only\n".utf8))
    }
    var offset = 0
    while offset < response.count {
      let remaining = Array(response[offset...])
      // MSG_NOSIGNAL: a scraper that hung up must not kill the process with SIGPIPE.
      let sent = send(client, remaining, remaining.count, Int32(MSG_NOSIGNAL))
      guard sent > 0 else { return }
      offset += sent
    }
  }

  private static func containsHeadEnd(_ bytes: [UInt8]) -> Bool {
    let end: [UInt8] = [13, 10, 13, 10]
    guard bytes.count >= 4 else { return false }
    return (0...(bytes.count - 4)).contains { Array(bytes[$0..<($0 + 4)]) == end }
  }

  private static func response(status: String, contentType: String, body: [UInt8]) -> [UInt8] {
    let head =
      "HTTP/1.1 \(status)\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n"
      + "Connection: close\r\n\r\n"
    return Array(head.utf8) + body
  }
}

/// The one place that needs a `sockaddr` pointer: POSIX `bind`/`getsockname` take no Swift-typed address.
enum POSIXSocketShim {
  /// Binds `descriptor` to `address:port`, listens, and returns the port bound.
  static func bindAndListen(_ descriptor: Int32, address: String, port: Int) throws -> Int {
    var socketAddress = sockaddr_in()
    socketAddress.sin_family = sa_family_t(AF_INET)
    socketAddress.sin_port = in_port_t(UInt16(clamping: port).bigEndian)
    guard inet_pton(AF_INET, address, &socketAddress.sin_addr) == 1 else {
      throw MetricsListener.ListenError(description: "'\(address)' is not an IPv4 address")
    }
    let length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &socketAddress) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
    }
    guard bound == 0, listen(descriptor, 16) == 0 else {
      throw MetricsListener.ListenError(
        description: "\(address):\(port): \(String(cString: strerror(errno)))")
    }
    var actual = sockaddr_in()
    var actualLength = length
    _ = withUnsafeMutablePointer(to: &actual) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &actualLength) }
    }
    return Int(UInt16(bigEndian: actual.sin_port))
  }
}
