import Foundation
import Testing

/// See `EventuallyExpectations.swift`: a polled condition goes to `expectEventually`/`requireEventually`,
/// never inside `#expect`/`#require`, where it may be compiled as another closure of the same test.
@Suite("No polled condition inside an expectation macro")
struct MacroClosureLintTests {
  @Test("no #expect(… eventually …) or #require(… eventually …) in any test source")
  func noEventuallyInsideMacros() throws {
    let tests = packageRoot.appendingPathComponent("Tests").path
    let files = try FileManager.default.subpathsOfDirectory(atPath: tests).filter { $0.hasSuffix(".swift") }
    #expect(files.count > 20, "found only \(files.count) test sources under \(tests)")
    let pattern = try Regex(#"#(expect|require)\(\s*(try\s+)?(await\s+)?eventually"#)
    var offenders: [String] = []
    for file in files {
      let text = try String(contentsOfFile: "\(tests)/\(file)", encoding: .utf8)
      if text.contains(pattern) { offenders.append(file) }
    }
    #expect(offenders.isEmpty, "polled conditions inside #expect/#require in \(offenders)")
  }
}
