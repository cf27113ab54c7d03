import Foundation
import SNSTestSupport
import Testing

/// Ports the integration tests give their children to listen on: an outgoing connection anywhere on the
/// machine draws its port from the kernel's ephemeral range, so a port from that range can be taken between
/// the probe and the child's bind, and the child never listens.
@Suite("Free ports for child listeners")
struct FreePortTests {
  static var ephemeralStart: Int { PortAllocator.ephemeralRangeStart() ?? 32768 }

  @Test("a free port is below the ephemeral range, and never handed out twice")
  func belowEphemeralRangeAndUnique() {
    let ports = (0..<300).map { _ in freePort() }
    #expect(
      ports.allSatisfy { $0 > 0 && $0 < Self.ephemeralStart }, "\(ports.filter { $0 >= Self.ephemeralStart })"
    )
    #expect(Set(ports).count == ports.count)
  }

  @Test("a span of ports overlaps no port handed out before or after it")
  func spansAreDisjoint() {
    let before = freePort()
    let base = freePorts(span: 104)
    let after = freePort()
    #expect(base > 0 && base + 104 <= Self.ephemeralStart)
    #expect(!(base..<(base + 104)).contains(before))
    #expect(!(base..<(base + 104)).contains(after))
  }
}
