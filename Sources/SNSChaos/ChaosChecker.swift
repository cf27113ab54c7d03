import SNSCore

/// A property of the run that did not hold, with what shows it.
public struct ChaosViolation: Hashable, Sendable, CustomStringConvertible {
  public var check: ChaosCheck
  public var detail: String
  public init(_ check: ChaosCheck, _ detail: String) {
    self.check = check
    self.detail = detail
  }
  public var description: String { "\(check.rawValue): \(detail)" }
}

/// The checks, in report order.
public enum ChaosCheck: String, Hashable, Sendable, CaseIterable {
  /// Every acknowledged post is in its author's timeline on the final master of the author's cluster.
  case acknowledgedPostKept = "acknowledged post on its master"
  /// Every acknowledged follow and unfollow is among its user's events on the final master.
  case acknowledgedFollowKept = "acknowledged follow/unfollow on its master"
  /// Whom each user follows at the end agrees with their last request of each pair, when its answer settles
  /// the state: acknowledged, or refused as already done (`FAILURE_ALREADY_EXISTS` to a follow,
  /// `FAILURE_NOT_A_FOLLOWER` to an unfollow). Pairs with an unanswered request are left out: it may have
  /// taken effect late.
  case followStateKept = "final follows match the last answered request"
  /// An acknowledged post reached every user whose acknowledged follow of its author completed before the
  /// post was sent and who never asked to unfollow since.
  case delivered = "acknowledged post reached its followers"
  /// No (author, text) stored twice in any timeline of a final master; no more follow events than requests.
  case noDuplicates = "nothing stored twice"
  /// A refused post is in no file of any server.
  case refusedInvisible = "refused post visible nowhere"
  /// Every cluster has a master and it answers.
  case clusterAnswers = "every cluster has a master that answers"
  /// No two servers of a cluster were master of the same epoch (from the servers' logs).
  case oneMasterPerEpoch = "one master per cluster epoch"
}

/// The outcome of checking one run: per check how many items it looked at, and every violation.
public struct ChaosCheckResult: Hashable, Sendable {
  public var checked: [ChaosCheck: Int] = [:]
  public var violations: [ChaosViolation] = []

  public var passed: Bool { violations.isEmpty }
  public func failures(of check: ChaosCheck) -> [ChaosViolation] { violations.filter { $0.check == check } }

  mutating func look(_ check: ChaosCheck, _ holds: Bool, _ detail: @autoclosure () -> String) {
    checked[check, default: 0] += 1
    if !holds { violations.append(ChaosViolation(check, detail())) }
  }
}

/// Checks a run's history against the files it left: a pure function, so it is tested with histories built
/// by hand (docs/RELIABILITY.md, "Chaos").
public enum ChaosChecker {
  public static func check(_ history: [ChaosRequest], _ final: ChaosFinalState) -> ChaosCheckResult {
    var result = ChaosCheckResult()
    checkPostsKept(history, final, &result)
    checkFollowsKept(history, final, &result)
    checkFollowState(history, final, &result)
    checkDelivery(history, final, &result)
    checkDuplicates(history, final, &result)
    checkRefused(history, final, &result)
    let claims = Dictionary(grouping: final.masterships) { "\($0.cluster) \($0.epoch)" }
    for (_, claims) in claims.sorted(by: { $0.key < $1.key }) {
      let servers = Set(claims.map(\.server)).sorted()
      result.look(
        .oneMasterPerEpoch, servers.count == 1,
        "cluster \(claims[0].cluster) epoch \(claims[0].epoch): servers \(servers) were all master")
    }
    for cluster in 1...max(1, final.clusterCount) {
      let master = final.masters[cluster]
      result.look(
        .clusterAnswers, master != nil && final.answering.contains(cluster),
        "cluster \(cluster): \(master.map { "master \($0) did not answer" } ?? "no master")")
    }
    return result
  }

  static func checkPostsKept(
    _ history: [ChaosRequest], _ final: ChaosFinalState, _ result: inout ChaosCheckResult
  ) {
    var stored: [Int: Set<ChaosPost>] = [:]
    for request in history where request.outcome == .ok {
      guard case .post(let text) = request.action else { continue }
      let author = request.client
      if stored[author] == nil { stored[author] = Set(final.master(of: author)?.timelines[author] ?? []) }
      result.look(
        .acknowledgedPostKept, stored[author]?.contains(ChaosPost(author: author, text: text)) ?? false,
        "user \(author)'s post \"\(text)\" (acknowledged at \(ChaosReport.seconds(request.completed))) is not on the final master of cluster \(final.cluster(of: author))"
      )
    }
  }

  static func checkFollowsKept(
    _ history: [ChaosRequest], _ final: ChaosFinalState, _ result: inout ChaosCheckResult
  ) {
    // Per (user, followee, follows?): acknowledged requests ≤ events ≤ requests.
    struct Key: Hashable {
      var user: Int
      var followee: Int
      var follows: Bool
    }
    var acknowledged: [Key: Int] = [:]
    var requested: [Key: Int] = [:]
    for request in history {
      let key: Key
      switch request.action {
      case .follow(let followee): key = Key(user: request.client, followee: followee, follows: true)
      case .unfollow(let followee): key = Key(user: request.client, followee: followee, follows: false)
      case .post: continue
      }
      requested[key, default: 0] += 1
      if request.outcome == .ok { acknowledged[key, default: 0] += 1 }
    }
    for (key, asked) in requested.sorted(by: { "\($0.key)" < "\($1.key)" }) {
      let events = (final.master(of: key.user)?.follows[key.user] ?? []).filter {
        $0.followee == key.followee && $0.follows == key.follows
      }.count
      let verb = key.follows ? "follow" : "unfollow"
      let acked = acknowledged[key] ?? 0
      if acked > 0 {
        result.look(
          .acknowledgedFollowKept, events >= acked,
          "user \(key.user): \(acked) acknowledged \(verb) of \(key.followee), \(events) on the final master")
      }
      result.look(
        .noDuplicates, events <= asked,
        "user \(key.user): \(events) \(verb) events of \(key.followee) for \(asked) requests")
    }
  }

  static func checkFollowState(
    _ history: [ChaosRequest], _ final: ChaosFinalState, _ result: inout ChaosCheckResult
  ) {
    struct Pair: Hashable {
      var follower: Int
      var followee: Int
    }
    var requests: [Pair: [ChaosRequest]] = [:]
    for request in history {
      switch request.action {
      case .follow(let followee), .unfollow(let followee):
        requests[Pair(follower: request.client, followee: followee), default: []].append(request)
      case .post: break
      }
    }
    for (pair, asked) in requests.sorted(by: { "\($0.key)" < "\($1.key)" }) {
      guard !asked.contains(where: { $0.outcome.kind == "unknown" }),
        let last = asked.max(by: { $0.invoked < $1.invoked }), let follows = settledState(last)
      else { continue }
      let found =
        final.master(of: pair.follower)?.followees(of: pair.follower).contains(pair.followee) ?? false
      result.look(
        .followStateKept, found == follows,
        "user \(pair.follower)'s last request, \(last.action) at \(ChaosReport.seconds(last.invoked)), was answered \(last.outcome), but the final master says they \(found ? "follow" : "do not follow") \(pair.followee)"
      )
    }
  }

  /// Whether `request`'s answer says the user follows its followee afterwards; `nil` if it does not say.
  static func settledState(_ request: ChaosRequest) -> Bool? {
    switch (request.action, request.outcome) {
    case (.follow, .ok), (.follow, .refused(ReplyStatus.alreadyExists.rawValue)): true
    case (.unfollow, .ok), (.unfollow, .refused(ReplyStatus.notAFollower.rawValue)): false
    default: nil
    }
  }

  static func checkDelivery(
    _ history: [ChaosRequest], _ final: ChaosFinalState, _ result: inout ChaosCheckResult
  ) {
    // Per (follower, followee): the acknowledged follows, and when unfollows were asked for (one without an
    // answer may take effect whenever, so it voids the whole pair).
    struct Pair: Hashable {
      var follower: Int
      var followee: Int
    }
    var follows: [Pair: [ChaosRequest]] = [:]
    var unfollows: [Pair: [Duration]] = [:]
    var voided: Set<Pair> = []
    for request in history {
      switch request.action {
      case .follow(let followee) where request.outcome == .ok:
        follows[Pair(follower: request.client, followee: followee), default: []].append(request)
      case .unfollow(let followee):
        let pair = Pair(follower: request.client, followee: followee)
        unfollows[pair, default: []].append(request.invoked)
        if request.outcome.kind == "unknown" { voided.insert(pair) }
      default: break
      }
    }
    let posts = Dictionary(grouping: history.filter { $0.outcome == .ok }, by: \.client)
    var timelines: [Int: Set<ChaosPost>] = [:]
    for (pair, acknowledged) in follows where !voided.contains(pair) {
      let sorted = acknowledged.sorted { $0.completed < $1.completed }
      let asked = unfollows[pair] ?? []
      for post in posts[pair.followee] ?? [] {
        // The last acknowledged follow before the post was sent, and no unfollow asked for since.
        guard case .post(let text) = post.action,
          let follow = sorted.last(where: { $0.completed < post.invoked }),
          !asked.contains(where: { follow.invoked < $0 })
        else { continue }
        if timelines[pair.follower] == nil {
          timelines[pair.follower] = Set(final.master(of: pair.follower)?.timelines[pair.follower] ?? [])
        }
        result.look(
          .delivered,
          timelines[pair.follower]?.contains(ChaosPost(author: pair.followee, text: text)) ?? false,
          "user \(pair.follower) (follows \(pair.followee) since \(ChaosReport.seconds(follow.completed))) lacks \"\(text)\" (sent at \(ChaosReport.seconds(post.invoked)))"
        )
      }
    }
  }

  static func checkDuplicates(
    _ history: [ChaosRequest], _ final: ChaosFinalState, _ result: inout ChaosCheckResult
  ) {
    let masters = final.masters.compactMap { cluster, id in
      final.servers.first { $0.cluster == cluster && $0.server == id }
    }
    let sent = Set(
      history.compactMap { request -> ChaosPost? in
        guard case .post(let text) = request.action else { return nil }
        return ChaosPost(author: request.client, text: text)
      })
    let ownPosts = Dictionary(grouping: sent, by: \.author)
    for master in masters.sorted(by: { $0.cluster < $1.cluster }) {
      for (owner, posts) in master.timelines.sorted(by: { $0.key < $1.key }) {
        var copies: [ChaosPost: Int] = [:]
        for post in posts where sent.contains(post) { copies[post, default: 0] += 1 }
        // Every post found there, and every post of the owner (checked even when absent: 0 copies is fine).
        for post in Set(copies.keys).union(ownPosts[owner] ?? []) {
          let count = copies[post] ?? 0
          result.look(
            .noDuplicates, count <= 1,
            "\"\(post.text)\" by \(post.author) is \(count) times in \(owner).timeline on cluster \(master.cluster) server \(master.server)"
          )
        }
      }
    }
  }

  static func checkRefused(
    _ history: [ChaosRequest], _ final: ChaosFinalState, _ result: inout ChaosCheckResult
  ) {
    let refused = Set(
      history.compactMap { request -> ChaosPost? in
        guard case .refused = request.outcome, case .post(let text) = request.action else { return nil }
        return ChaosPost(author: request.client, text: text)
      })
    // Where each refused post is, over every file of every server.
    var places: [ChaosPost: [String]] = [:]
    for server in final.servers {
      for (owner, posts) in server.timelines {
        for post in posts where refused.contains(post) {
          places[post, default: []].append(
            "cluster \(server.cluster) server \(server.server) \(owner).timeline")
        }
      }
    }
    for request in history {
      guard case .refused(let why) = request.outcome, case .post(let text) = request.action else { continue }
      let holders = places[ChaosPost(author: request.client, text: text)] ?? []
      result.look(
        .refusedInvisible, holders.isEmpty,
        "user \(request.client)'s post \"\(text)\" was refused (\(why)) but is in \(holders.sorted().joined(separator: ", "))"
      )
    }
  }
}
