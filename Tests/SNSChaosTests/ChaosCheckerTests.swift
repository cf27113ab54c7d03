import SNSChaos
import Testing

/// The checker on hand-built histories: clean runs pass, and each kind of damage is found.
@Suite("Chaos checker")
struct ChaosCheckerTests {
  /// Users 1 (cluster 1) and 2 (cluster 2) of 2 clusters; user 2 follows 1, then 1 posts "hello".
  static let history: [ChaosRequest] = [
    ChaosRequest(client: 2, action: .follow(1), invoked: .seconds(1), completed: .seconds(2), outcome: .ok),
    ChaosRequest(
      client: 1, action: .post("hello"), invoked: .seconds(3), completed: .seconds(4), outcome: .ok),
  ]

  static func final(
    author: [ChaosPost] = [ChaosPost(author: 1, text: "hello")],
    follower: [ChaosPost] = [ChaosPost(author: 1, text: "hello")],
    follows: [ChaosFollowEvent] = [ChaosFollowEvent(followee: 1, follows: true, sequence: 1)],
    slave: [ChaosPost] = [], answering: Set<Int> = [1, 2]
  ) -> ChaosFinalState {
    ChaosFinalState(
      clusterCount: 2,
      servers: [
        ChaosServerFiles(cluster: 1, server: 2, timelines: [1: author]),
        ChaosServerFiles(cluster: 1, server: 1, timelines: [1: slave]),
        ChaosServerFiles(cluster: 2, server: 1, timelines: [2: follower], follows: [2: follows]),
      ], masters: [1: 2, 2: 1], answering: answering)
  }

  @Test("a clean run passes every check, each at least once")
  func cleanRunPasses() {
    let result = ChaosChecker.check(Self.history, Self.final())
    #expect(result.violations == [])
    // Nothing was refused, and the hand-built state has no server logs.
    for check in ChaosCheck.allCases where check != .refusedInvisible && check != .oneMasterPerEpoch {
      #expect((result.checked[check] ?? 0) > 0, "\(check.rawValue) looked at nothing")
    }
  }

  @Test("an acknowledged post missing on the final master is lost")
  func lostAcknowledgedPost() {
    let result = ChaosChecker.check(Self.history, Self.final(author: []))
    #expect(result.failures(of: .acknowledgedPostKept).count == 1)
  }

  @Test("a post that never reached a follower who followed before it fails delivery")
  func undelivered() {
    let result = ChaosChecker.check(Self.history, Self.final(follower: []))
    #expect(result.failures(of: .delivered).count == 1)
    #expect(result.failures(of: .acknowledgedPostKept).isEmpty)
  }

  @Test("a follower who asked to unfollow since (even without an answer) is not owed the post")
  func unfollowedFollowerIsNotOwed() {
    let unfollowed =
      Self.history + [
        ChaosRequest(
          client: 2, action: .unfollow(1), invoked: .seconds(5), completed: .seconds(6),
          outcome: .unknown("deadline"))
      ]
    let result = ChaosChecker.check(unfollowed, Self.final(follower: []))
    #expect(result.failures(of: .delivered).isEmpty)
  }

  @Test("a follow acknowledged after the post was sent does not owe it")
  func lateFollowIsNotOwed() {
    let late = [
      ChaosRequest(
        client: 1, action: .post("hello"), invoked: .seconds(1), completed: .seconds(2), outcome: .ok),
      ChaosRequest(client: 2, action: .follow(1), invoked: .seconds(1), completed: .seconds(3), outcome: .ok),
    ]
    #expect(ChaosChecker.check(late, Self.final(follower: [])).passed)
  }

  @Test(
    "a last request refused as already done settles the pair: a follow answered FAILURE_ALREADY_EXISTS means follows"
  )
  func alreadyDoneSettlesTheFollowState() {
    let history =
      Self.history + [
        ChaosRequest(
          client: 2, action: .follow(1), invoked: .seconds(5), completed: .seconds(6),
          outcome: .refused("FAILURE_ALREADY_EXISTS"), attempts: 3)
      ]
    let kept = ChaosChecker.check(history, Self.final())
    #expect(kept.passed && kept.checked[.followStateKept] == 1)
    // The final master no longer has user 2 following 1.
    let unfollowed = [
      ChaosFollowEvent(followee: 1, follows: true, sequence: 1),
      ChaosFollowEvent(followee: 1, follows: false, sequence: 2),
    ]
    #expect(
      ChaosChecker.check(history, Self.final(follows: unfollowed)).failures(of: .followStateKept).count == 1)
    // A storage refusal says nothing about the state: the pair is not checked.
    let storage =
      Self.history + [
        ChaosRequest(
          client: 2, action: .unfollow(1), invoked: .seconds(5), completed: .seconds(6),
          outcome: .refused("storage error"))
      ]
    #expect(ChaosChecker.check(storage, Self.final()).checked[.followStateKept] == nil)
  }

  @Test("the same client action stored twice is a duplicate")
  func duplicatePost() {
    let twice = [ChaosPost(author: 1, text: "hello"), ChaosPost(author: 1, text: "hello")]
    let result = ChaosChecker.check(Self.history, Self.final(follower: twice))
    #expect(result.failures(of: .noDuplicates).count == 1)
  }

  @Test("more follow events than follow requests is a duplicate; fewer than acknowledged is a loss")
  func followCounts() {
    let doubled = [
      ChaosFollowEvent(followee: 1, follows: true, sequence: 1),
      ChaosFollowEvent(followee: 1, follows: true, sequence: 2),
    ]
    #expect(
      ChaosChecker.check(Self.history, Self.final(follows: doubled)).failures(of: .noDuplicates).count == 1)
    #expect(
      ChaosChecker.check(Self.history, Self.final(follows: [])).failures(of: .acknowledgedFollowKept).count
        == 1)
  }

  @Test("a refused post found in any server's files, a slave's included, is a violation")
  func refusedButVisible() {
    let refused =
      Self.history + [
        ChaosRequest(
          client: 1, action: .post("nope"), invoked: .seconds(5), completed: .seconds(6),
          outcome: .refused("storage: No space left on device"))
      ]
    #expect(ChaosChecker.check(refused, Self.final()).passed)
    let result = ChaosChecker.check(refused, Self.final(slave: [ChaosPost(author: 1, text: "nope")]))
    #expect(result.failures(of: .refusedInvisible).count == 1)
  }

  @Test("an unknown post may be there once, or not at all")
  func unknownPostEitherWay() {
    let unknown =
      Self.history + [
        ChaosRequest(
          client: 1, action: .post("maybe"), invoked: .seconds(5), completed: .seconds(6),
          outcome: .unknown("deadline"))
      ]
    #expect(ChaosChecker.check(unknown, Self.final()).passed)
    let once = [ChaosPost(author: 1, text: "hello"), ChaosPost(author: 1, text: "maybe")]
    #expect(ChaosChecker.check(unknown, Self.final(author: once)).passed)
  }

  @Test("two servers master of one epoch of a cluster fail; one master per epoch passes")
  func oneMasterPerEpoch() {
    var final = Self.final()
    final.masterships = [
      ChaosMastership(cluster: 1, server: 1, epoch: 7), ChaosMastership(cluster: 1, server: 2, epoch: 8),
      ChaosMastership(cluster: 2, server: 1, epoch: 7),
    ]
    #expect(ChaosChecker.check(Self.history, final).passed)
    final.masterships.append(ChaosMastership(cluster: 1, server: 2, epoch: 7))
    #expect(ChaosChecker.check(Self.history, final).failures(of: .oneMasterPerEpoch).count == 1)
  }

  @Test("mastership lines are read from a server's log")
  func parseMasterships() {
    let log = """
      ts=1 level=notice logger=sns.server msg="role changed" cluster=1 from=registering server=1 to="master(epoch: 1796607475275, slave: nil)"
      ts=2 level=notice logger=sns.server msg="role changed" cluster=1 from="master(epoch: 1796607475275, slave: nil)" server=1 to="slave(epoch: 1796607475276, master: nil, caughtUp: false)"
      ts=3 level=notice logger=sns.server msg="role changed" cluster=1 from="slave(epoch: 1796607475276)" server=1 to="master(epoch: 1796607475277, slave: nil)"
      """
    #expect(
      ChaosMastership.parse(log: log, cluster: 1, server: 1) == [
        ChaosMastership(cluster: 1, server: 1, epoch: 1_796_607_475_275),
        ChaosMastership(cluster: 1, server: 1, epoch: 1_796_607_475_277),
      ])
  }

  @Test("an acknowledged last unfollow that the final master does not show fails")
  func followStateKept() {
    let unfollowed =
      Self.history + [
        ChaosRequest(
          client: 2, action: .unfollow(1), invoked: .seconds(5), completed: .seconds(6), outcome: .ok)
      ]
    let kept = [
      ChaosFollowEvent(followee: 1, follows: true, sequence: 1),
      ChaosFollowEvent(followee: 1, follows: false, sequence: 2),
    ]
    #expect(ChaosChecker.check(unfollowed, Self.final(follows: kept)).passed)
    let result = ChaosChecker.check(unfollowed, Self.final())
    #expect(result.failures(of: .followStateKept).count == 1)
  }

  @Test("a cluster without a master that answers fails")
  func clusterDown() {
    let result = ChaosChecker.check(Self.history, Self.final(answering: [1]))
    #expect(result.failures(of: .clusterAnswers).count == 1)
  }
}
