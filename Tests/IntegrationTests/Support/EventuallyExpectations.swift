import SNSTestSupport
import Testing

// `await expectEventually { … }` puts a closure into a macro's argument. Inside another closure (a test
// body passed to a helper), Swift 6.3 can give that closure and a later closure of the same context one
// symbol, so one of the two conditions silently runs in place of the other. These keep the closure out of the
// macro; `MacroClosureLintTests` keeps the tests from going back.

/// Expects `condition` to hold within `timeout` (polled every `interval`); `comment` is made at the end.
func expectEventually(
  within timeout: Duration = .seconds(15), every interval: Duration = .milliseconds(50),
  _ comment: @autoclosure () -> Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation,
  _ condition: () async throws -> Bool
) async {
  let held = await eventually(within: timeout, every: interval, condition)
  #expect(held, comment(), sourceLocation: sourceLocation)
}

/// Requires `condition` to hold within `timeout` (polled every `interval`): the test stops here if not.
func requireEventually(
  within timeout: Duration = .seconds(15), every interval: Duration = .milliseconds(50),
  _ comment: @autoclosure () -> Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation,
  _ condition: () async throws -> Bool
) async throws {
  let held = await eventually(within: timeout, every: interval, condition)
  try #require(held, comment(), sourceLocation: sourceLocation)
}
