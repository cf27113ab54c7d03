import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// A TCP port free on every address right now, for a child process to listen on; 0 if none is left.
///
/// The kernel's own choice (bind to port 0) comes from the ephemeral range, which every outgoing connection on
/// the machine draws from too: between this probe and the child's bind, a gRPC client may take the port and the
/// child cannot listen. Ports here come from below that range and are handed out once per test process, so
/// neither another test nor a connection can take them.
package func freePort() -> Int {
  freePorts(span: 1)
}

/// The first of `span` consecutive TCP ports, all free on every address right now and handed to no one else by
/// this process (for `cluster up --base-port`, whose processes listen on base+0…span-1); 0 if none is left.
package func freePorts(span: Int) -> Int {
  PortAllocator.shared.reserve(span: span)
}

/// Hands out listening ports from below the kernel's ephemeral range, once each.
package final class PortAllocator: Sendable {
  static let shared = PortAllocator()

  let range: Range<Int>
  private let next: Mutex<Int>

  init() {
    let ephemeralStart = Self.ephemeralRangeStart() ?? 32768
    range = 10000..<max(10001, ephemeralStart)
    // Two test processes on one machine start far apart in the range; each then walks it in order.
    let offset = Int(getpid()) % max(1, range.count)
    next = Mutex(range.lowerBound + offset)
  }

  func reserve(span: Int) -> Int {
    guard span > 0, span < range.count else { return 0 }
    for _ in 0..<(range.count / span + 1) {
      let base = next.withLock { next -> Int in
        if next + span > range.upperBound { next = range.lowerBound }
        defer { next += span }
        return next
      }
      if (base..<(base + span)).allSatisfy(Self.canListen) { return base }
    }
    return 0
  }

  /// The first port of `/proc/sys/net/ipv4/ip_local_port_range`.
  package static func ephemeralRangeStart() -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)
    else { return nil }
    return text.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) }
  }

  /// Whether a listener may bind `port` on every IPv4 address, with the SO_REUSEADDR gRPC sets on its own.
  static func canListen(_ port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var one: Int32 = 1
    _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port)).bigEndian
    address.sin_addr.s_addr = INADDR_ANY
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    return bound == 0
  }
}
