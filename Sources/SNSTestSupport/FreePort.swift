#if canImport(Glibc)
  import Glibc
#endif

/// A TCP port free on `host` (an IPv4 address) right now: the kernel picks it for a socket that is then
/// closed. 0 if `host` cannot be bound.
package func freePort(host: String = "127.0.0.1") -> Int {
  let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
  guard fd >= 0 else { return 0 }
  defer { close(fd) }
  var address = sockaddr_in()
  address.sin_family = sa_family_t(AF_INET)
  address.sin_port = 0
  guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { return 0 }
  let bound = withUnsafePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
      bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
    }
  }
  guard bound == 0 else { return 0 }
  var length = socklen_t(MemoryLayout<sockaddr_in>.size)
  let named = withUnsafeMutablePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
  }
  return named == 0 ? Int(UInt16(bigEndian: address.sin_port)) : 0
}
