import SNSCore
import SNSSimulation
import Testing

/// Runs `seed` with `faults` and expects every check to hold.
func expectNoViolation(seed: UInt64, faults: SimulationFaults) async {
  let report = await Simulation.run(seed: seed, options: SimulationOptions(faults: faults))
  #expect(report.violation == nil, "seed \(seed): \(report.violation.map(String.init(describing:)) ?? "")")
}

/// Seeds that found real bugs in SNSCore, kept so the bugs stay fixed.
@Suite("Regression seeds")
struct RegressionTests {
  /// 95: a master acknowledged a write its live slave never confirmed (mirror dropped), then crashed; the slave
  /// was promoted without it. 2: a refused write persisted on the master under a sequence the next master reused
  /// for an acknowledged write, which the idempotent catch-up then dropped.
  @Test("acknowledged writes survive failover", arguments: [UInt64(95), 2])
  func acknowledgedWritesSurvive(seed: UInt64) async {
    let report = await Simulation.run(
      seed: seed, options: SimulationOptions(faults: .standardWithoutFullDisks))
    #expect(
      report.violation?.invariant != "acknowledged-writes-survive",
      "\(report.violation.map(String.init(describing:)) ?? "")")
    #expect(report.violation?.invariant != "one-writer-per-epoch")
  }

  /// 40: a restarted master reused a sequence its slave held. 54 and 106: a slave that had missed writes (it was
  /// considered dead meanwhile) was promoted. 14: a post that reached the master late was skipped by the
  /// synchronizer's high-water cursor. 30 and 184: unacknowledged follow events surfacing late (checker).
  /// 120 and 1081: a synchronizer filtered deliveries with the follow events of a master that had been replaced
  /// (1081: the coordinator could not be asked, and it fell back to the directory scanned last).
  /// 5512: a replaced master was told "no live slave" and acknowledged alone. 8202: a master restarted alone
  /// reused a sequence its slave held from a write that died with the old process.
  /// 453: a slave caught up between the coordinator's "no live slave" answer and the master's solo write, and was
  /// promoted without it. 1914: a post routed while its author was followed for a moment inside the clock-skew
  /// window (checker). 6051: two retried unfollows surfacing late together (checker). 9624: a follow and an
  /// unfollow in the post's own millisecond (checker).
  /// 9, 12, 13, 30: a mirror reached the slave but its answer was lost; the client's retry (same request key)
  /// was written under a new post id, and the slave held both copies.
  @Test("a retried post is stored once", arguments: [UInt64(9), 12, 13, 30])
  func retriedPostStoredOnce(seed: UInt64) async {
    await expectNoViolation(seed: seed, faults: .standardWithoutFullDisks)
  }

  /// 8, 2: a follow's mirror reached the slave but its answer was lost, and the client's retry was stored as a
  /// second event (now the retry carries the first attempt's request key and is written as the same event).
  /// 79: a retry read the user's files while its first attempt ended, and a view without that attempt let it be
  /// written again (now a view read during one of the user's writes ending is read again).
  @Test("a retried follow is stored once", arguments: [UInt64(8), 2, 79])
  func retriedFollowStoredOnce(seed: UInt64) async {
    await expectNoViolation(seed: seed, faults: .standard)
  }

  @Test(
    "failover and sync findings stay fixed",
    arguments: [UInt64(40), 54, 106, 14, 30, 184, 120, 1081, 453, 1914, 5512, 6051, 8202, 9624])
  func failoverAndSyncFindings(seed: UInt64) async {
    await expectNoViolation(seed: seed, faults: .standardWithoutFullDisks)
  }
}

/// Seeds found with full disks among the standard faults.
@Suite("Regression seeds, full disks")
struct FullDiskRegressionTests {
  /// 16, 56: a synchronizer skipped the directory of a slave held dead whose disk was full; back, the slave was
  /// promoted without the posts delivered meanwhile (now a server held dead catches up again first).
  @Test("a slave skipped while held dead catches up before its promotion", arguments: [UInt64(16), 56])
  func skippedSlaveCatchesUp(seed: UInt64) async {
    await expectNoViolation(seed: seed, faults: .standardWithoutLimits)
  }
}

/// Harsh mode (failures overlap within a cluster, outside the system's failure model) seeds that found bugs.
@Suite("Regression seeds, harsh mode")
struct HarshRegressionTests {
  /// 170: the slave kept an orphan of a write its master refused; the master restarted, gave that sequence to an
  /// acknowledged post, and the slave's idempotent catch-up dropped it (now the master's record replaces it).
  /// 2967: a late mirror from before the master's restart replaced the acknowledged record under a reused key
  /// (mirrors no longer replace; a conflicting mirror is refused).
  @Test("acknowledged writes survive overlapping failures", arguments: [UInt64(170), 2967])
  func acknowledgedWritesSurvive(seed: UInt64) async {
    await expectNoViolation(seed: seed, faults: SimulationFaults.standardWithoutFullDisks.union(.harsh))
  }
}

/// Seeds found once messages were limited in size (`limits`).
@Suite("Regression seeds, message limits")
struct MessageLimitRegressionTests {
  /// 100, 817: a follow delivered late was answered with every post of the followee since, in one reply
  /// over the limit, so that delivery failed every round (now the backfill comes a page at a time).
  @Test("a late follow's backfill comes in pages", arguments: [UInt64(100), 817])
  func pagedBackfill(seed: UInt64) async {
    await expectNoViolation(seed: seed, faults: .standardWithLimits)
  }

  /// 6788: two followers in one cluster followed the same user at different times; a backfill page ended at
  /// the earlier follower's first post, and its cursor went on after the later follower's posts, skipping
  /// the earlier one's (now each cursor goes on after what it sent itself).
  @Test("one followee's backfills for two followers skip nothing")
  func twoBackfillsOfOneFollowee() async {
    await expectNoViolation(seed: 6788, faults: .standardWithLimits)
  }
}
