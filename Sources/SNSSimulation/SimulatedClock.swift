import SNSCore

/// One process's view of the shared virtual time: the ``ManualClock`` plus a fixed skew. Skew models clocks that
/// disagree between machines; each process's leases and timestamps use its own clock, as in deployment.
struct SkewedClock: SNSClock {
  let base: ManualClock
  let skewMilliseconds: Int64

  func now() -> Timestamp {
    Timestamp(milliseconds: base.now().milliseconds + skewMilliseconds)
  }

  func sleep(until deadline: Timestamp) async throws {
    try await base.sleep(until: Timestamp(milliseconds: deadline.milliseconds - skewMilliseconds))
  }
}
