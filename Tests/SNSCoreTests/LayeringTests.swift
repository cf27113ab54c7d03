import Foundation
import Testing

@Suite("Layering")
struct LayeringTests {
  @Test("SNSCore imports no gRPC, protobuf or NIO module")
  func coreIsTransportFree() throws {
    let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    let core = testsDirectory.appendingPathComponent("../../Sources/SNSCore").standardized.path
    let enumerator = FileManager.default.enumerator(atPath: core)
    var checked = 0
    var offenders: [String] = []
    while let relative = enumerator?.nextObject() as? String {
      guard relative.hasSuffix(".swift") else { continue }
      let source = try String(
        contentsOfFile: (core as NSString).appendingPathComponent(relative), encoding: .utf8)
      checked += 1
      for line in source.split(separator: "\n") {
        let words = line.split(separator: " ")
        guard let importIndex = words.firstIndex(of: "import"), importIndex + 1 < words.count else {
          continue
        }
        let module = words[importIndex + 1]
        if module.hasPrefix("CGRPC") || module.hasPrefix("GRPC") || module.hasPrefix("SwiftProtobuf")
          || module.hasPrefix("NIO")
        {
          offenders.append("\(relative): \(line)")
        }
      }
    }
    #expect(checked > 10, "found the SNSCore sources")
    #expect(offenders.isEmpty, "\(offenders)")
  }
}
