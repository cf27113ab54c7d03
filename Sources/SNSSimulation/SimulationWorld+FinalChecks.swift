import SNSCore

extension SimulationWorld {
  /// The end-state checkers, after healing and syncing: durability of acknowledged writes on each cluster's
  /// current master, nothing that was never asked for, timelines equal to the fan-out, LIST equal to the users
  /// and followers.
  func checkFinal() async {
    guard let status = try? await coordinator.status() else {
      fail("roles-settle", "the coordinator did not answer", final: true)
      return
    }
    var masters: [ClusterID: ServerSlot] = [:]
    for record in status.clusters {
      guard let id = record.master, let slot = servers(of: record.id).first(where: { $0.id == id }) else {
        fail("roles-settle", "cluster \(record.id) has no master", final: true)
        return
      }
      masters[record.id] = slot
    }
    func master(of user: UserID) -> String { masters[cluster(of: user)]?.directory ?? "" }
    checkDurability(master)
    guard violation == nil else { return }
    let registered = users.map(\.user).filter { user in
      disk.records(master(of: user), .users).contains(.user(user))
    }
    var ownPosts: [UserID: [Post]] = [:]
    var ownEvents: [UserID: [FollowEvent]] = [:]
    for user in registered {
      ownPosts[user] = disk.records(master(of: user), .timeline(user)).compactMap {
        if case .post(let post) = $0, post.author == user { post } else { nil }
      }
      ownEvents[user] = disk.records(master(of: user), .follows(user)).compactMap {
        if case .following(let event) = $0, event.follower == user { event } else { nil }
      }
    }
    checkTimelines(registered, ownPosts: ownPosts, ownEvents: ownEvents, master: master)
    guard violation == nil else { return }
    await checkLists(registered, ownEvents: ownEvents, masters: masters)
  }

  /// Acknowledged − final = ∅, and final − attempted = ∅ (nothing appears that no client asked for).
  func checkDurability(_ master: (UserID) -> String) {
    var attemptedPosts: [UserID: Set<String>] = [:]
    var attemptedFollows: [String: Int] = [:]
    var acknowledgedFollows: [String: Int] = [:]
    func key(_ user: UserID, _ kind: FollowEvent.Kind, _ other: UserID) -> String {
      "\(user) \(kind) \(other)"
    }
    for entry in history.entries {
      switch entry.command {
      case .post(let text, _): attemptedPosts[entry.user, default: []].insert(text.value)
      case .follow(let other, _), .unfollow(let other, _):
        let kind: FollowEvent.Kind = if case .follow = entry.command { .follow } else { .unfollow }
        attemptedFollows[key(entry.user, kind, other), default: 0] += 1
        if entry.isAcknowledgedWrite { acknowledgedFollows[key(entry.user, kind, other), default: 0] += 1 }
      case .login, .list: continue
      }
    }
    for entry in history.entries where entry.isAcknowledgedWrite {
      let directory = master(entry.user)
      let missing: Bool
      switch entry.command {
      case .login: missing = !disk.records(directory, .users).contains(.user(entry.user))
      case .post(let text, _):
        missing = !disk.records(directory, .timeline(entry.user)).contains {
          if case .post(let post) = $0 { post.author == entry.user && post.text == text } else { false }
        }
      case .follow, .unfollow, .list: missing = false
      }
      if missing {
        fail(
          "acknowledged-writes-survive",
          "\(entry.command.traced) by user \(entry.user), acknowledged at step \(entry.step) by \(entry.server ?? "?") in epoch \(entry.epoch?.value ?? 0), is missing on the current master \(directory)",
          final: true)
        return
      }
    }
    // A post its master refused for its own full disk (the client's final answer) went nowhere: it must be on
    // no server of its cluster. (A refusal for the slave's disk is as final on a real network, but here a late
    // copy of the refused mirror may still arrive: `duplicate` and `reorder` deliver calls twice.)
    for entry in history.entries {
      guard case .post(let text, _) = entry.command, case .failed(let why) = entry.outcome,
        why.hasPrefix("storage error"), !why.contains("the slave could not store")
      else { continue }
      for slot in servers(of: cluster(of: entry.user)) {
        let stored = disk.records(slot.directory, .timeline(entry.user)).contains {
          if case .post(let post) = $0 { post.author == entry.user && post.text == text } else { false }
        }
        if stored {
          fail(
            "refused-writes-invisible",
            "POST '\(text)' by user \(entry.user), refused at step \(entry.step) (\(why)), is stored on \(slot.directory)",
            final: true)
          return
        }
      }
    }
    var present: [String: Int] = [:]
    for user in users.map(\.user) {
      // Every text a client sends is new (`u1 post 3`): the same text twice is one command stored twice.
      var stored: [String: Int] = [:]
      for case .post(let post) in disk.records(master(user), .timeline(user)) where post.author == user {
        stored[post.text.value, default: 0] += 1
      }
      if let (text, copies) = stored.filter({ $0.value > 1 }).min(by: { $0.key < $1.key }) {
        fail(
          "no-duplicate-posts", "user \(user)'s post '\(text)' is stored \(copies) times on \(master(user))",
          final: true)
        return
      }
      for case .following(let event) in disk.records(master(user), .follows(user))
      where event.follower == user {
        present[key(user, event.kind, event.followee), default: 0] += 1
      }
      for case .post(let post) in disk.records(master(user), .timeline(user)) where post.author == user {
        if !(attemptedPosts[user]?.contains(post.text.value) ?? false) {
          fail(
            "nothing-invented", "post \(post.id) '\(post.text)' was never sent by user \(user)", final: true)
          return
        }
      }
    }
    for pair in acknowledgedFollows.keys.sorted()
    where (present[pair] ?? 0) < (acknowledgedFollows[pair] ?? 0) {
      fail(
        "acknowledged-writes-survive",
        "\(acknowledgedFollows[pair] ?? 0) acknowledged '\(pair)' events, \(present[pair] ?? 0) on the current master",
        final: true)
      return
    }
    // A client sends every retry of a follow change with its first attempt's request key, so one command is
    // at most one event, whatever failed on the way.
    for pair in present.keys.sorted() where (present[pair] ?? 0) > (attemptedFollows[pair] ?? 0) {
      fail(
        "no-duplicate-follows",
        "\(present[pair] ?? 0) '\(pair)' events for \(attemptedFollows[pair] ?? 0) commands",
        final: true)
      return
    }
  }

  /// Each timeline holds exactly the user's own posts and the posts of users they followed at post time, once
  /// each. A post in the same millisecond as a follow change (or, with clock skew, within the skew window) may go
  /// either way: timestamps cannot order them.
  func checkTimelines(
    _ registered: [UserID], ownPosts: [UserID: [Post]], ownEvents: [UserID: [FollowEvent]],
    master: (UserID) -> String
  ) {
    let window: Int64 = skews.values.contains { $0 != 0 } ? 100 : 1
    let uncertain = uncertainFollowEvents(ownEvents)
    for user in registered {
      let history = UncertainFollowHistory(events: ownEvents[user] ?? [], uncertain: uncertain)
      var required: Set<PostID> = Set((ownPosts[user] ?? []).map(\.id))
      var optional: Set<PostID> = []
      for author in registered where author != user {
        // The user's follow changes on this author inside the window: a follow and an unfollow can both fall
        // inside it, and the short stretch between them must be asked about too (seed 1914: a post routed
        // while its author was followed for 66 ms was judged only at the window's ends and middle).
        let changes = (ownEvents[user] ?? []).filter { $0.followee == author }.map(\.time.milliseconds)
        for post in ownPosts[author] ?? [] {
          let center = post.time.milliseconds
          let inside = changes.filter { abs($0 - center) < window }
          let times = ([center - window, center, center + window] + inside).map(Timestamp.init(milliseconds:))
          let votes = times.map { history.judge(author, at: $0) }
          if votes.allSatisfy(\.surely) {
            required.insert(post.id)
          } else if votes.contains(where: \.possibly) {
            optional.insert(post.id)
          }
        }
      }
      let actual = disk.records(master(user), .timeline(user)).compactMap {
        if case .post(let post) = $0 { post.id } else { nil }
      }
      let seen = Set(actual)
      if seen.count != actual.count {
        fail("timeline-fan-out", "user \(user)'s timeline has duplicate posts", final: true)
        return
      }
      if let missing = required.subtracting(seen).sorted().first {
        fail("timeline-fan-out", "user \(user)'s timeline lacks post \(missing)", final: true)
        return
      }
      if let extra = seen.subtracting(required).subtracting(optional).sorted().first {
        fail(
          "timeline-fan-out", "user \(user)'s timeline has post \(extra), which it should not", final: true)
        return
      }
    }
  }

  /// Follow events on the masters that no acknowledged request accounts for: of each (follower, kind, followee),
  /// when the masters hold more events than requests were acknowledged, every such event is uncertain.
  func uncertainFollowEvents(_ ownEvents: [UserID: [FollowEvent]]) -> Set<FollowEvent> {
    var acknowledged: [String: Int] = [:]
    for entry in history.entries where entry.isAcknowledgedWrite {
      switch entry.command {
      case .follow(let other, _): acknowledged["\(entry.user) follow \(other)", default: 0] += 1
      case .unfollow(let other, _): acknowledged["\(entry.user) unfollow \(other)", default: 0] += 1
      case .login, .list, .post: continue
      }
    }
    var byPair: [String: [FollowEvent]] = [:]
    for events in ownEvents.values {
      for event in events {
        byPair["\(event.follower) \(event.kind) \(event.followee)", default: []].append(event)
      }
    }
    var uncertain: Set<FollowEvent> = []
    for (pair, events) in byPair where events.count > (acknowledged[pair] ?? 0) {
      uncertain.formUnion(events)
    }
    return uncertain
  }

  /// LIST at each master shows every registered user and exactly the user's current followers.
  func checkLists(
    _ registered: [UserID], ownEvents: [UserID: [FollowEvent]], masters: [ClusterID: ServerSlot]
  )
    async
  {
    var following: [UserID: Set<UserID>] = [:]
    for user in registered {
      for event in (ownEvents[user] ?? []).sorted(by: { $0.sequence < $1.sequence }) {
        switch event.kind {
        case .follow: following[user, default: []].insert(event.followee)
        case .unfollow: following[user, default: []].remove(event.followee)
        }
      }
    }
    for user in registered {
      guard let slot = masters[cluster(of: user)] else { continue }
      let expectedFollowers = registered.filter { following[$0]?.contains(user) ?? false }
      let reply: Reply
      do {
        reply = try await slot.server.execute(.list, for: user)
      } catch {
        fail("list", "LIST for user \(user) at \(slot.name) failed: \(error)", final: true)
        return
      }
      if reply.allUsers != registered.sorted() {
        fail(
          "list", "LIST for user \(user) shows users \(reply.allUsers), expected \(registered.sorted())",
          final: true)
        return
      }
      if reply.followers != expectedFollowers.sorted() {
        fail(
          "list",
          "LIST for user \(user) shows followers \(reply.followers), expected \(expectedFollowers.sorted())",
          final: true)
        return
      }
    }
  }
}
