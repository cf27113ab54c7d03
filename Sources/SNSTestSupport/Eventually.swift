/// Polls `condition` (an error counts as "not yet") until it holds or `timeout` passes; true if it held.
package func eventually(
  within timeout: Duration = .seconds(15), every interval: Duration = .milliseconds(50),
  _ condition: () async throws -> Bool
) async -> Bool {
  let deadline = ContinuousClock.now + timeout
  while ContinuousClock.now < deadline {
    if (try? await condition()) == true { return true }
    try? await Task.sleep(for: interval)
  }
  return (try? await condition()) == true
}
