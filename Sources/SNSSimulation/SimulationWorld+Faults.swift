import SNSCore

/// Faults in progress and when each ends.
struct FaultSchedule {
  enum Ending {
    case restart(ServerSlot)
    case resume(ServerSlot)
    /// A torn-write crash that never fired is disarmed; one that fired restarts its server.
    case disarm(ServerSlot)
    /// A full disk gets its space back.
    case free(ServerSlot)
    case unblock([(String, String)])
    /// A new coordinator process starts at the coordinator's address.
    case restartCoordinator
    /// A new synchronizer process starts over the crashed one's directories and saved progress.
    case restartSynchronizer(SynchronizerSlot)
    /// A machine that lost power starts again: new processes for its servers and its synchronizer.
    case powerBack([ServerSlot], SynchronizerSlot?)
  }
  struct Active {
    let id: Int
    let cluster: ClusterID
    let at: Int64
    let label: String
    let ending: Ending
  }
  var active: [Active] = []
  var nextID = 0

  func isBusy(_ cluster: ClusterID) -> Bool { active.contains { $0.cluster == cluster } }
}

extension SimulationWorld {
  /// Starts one fault in a cluster. Under the standard assumption a cluster gets a new failure only when it has
  /// none and has settled (both servers up, roles agreed, slave caught up); `harsh` lets failures overlap.
  func injectFault() async {
    let harsh = options.faults.contains(.harsh)
    var candidates: [ClusterID] = []
    for cluster in synchronizers.map(\.cluster) {
      if harsh {
        candidates.append(cluster)
      } else if !faults.isBusy(cluster), await isSettled(cluster) {
        candidates.append(cluster)
      }
    }
    guard let cluster = random.pick(candidates) else { return }
    let restarts =
      options.faults.isDisjoint(with: [.coordinator, .amnesia]) ? [] : [SimulationFaults.coordinator]
    let kinds =
      SimulationFaults.names.map(\.1).filter {
        [.crash, .torn, .partition, .pause, .full, .synchronizer, .power].contains($0)
          && options.faults.contains($0)
      } + restarts
    guard let kind = random.pick(kinds) else { return }
    let now = clock.now().milliseconds
    let running = servers(of: cluster).filter { $0.status == .running }
    let master = await currentMaster(of: cluster)
    // The master is the interesting victim twice as often as the slave.
    func victim() -> ServerSlot? {
      if let master, running.contains(where: { $0 === master }), random.chance(667) { return master }
      return random.pick(running)
    }
    switch kind {
    case .crash:
      guard let slot = victim() else { return }
      crash(slot)
      schedule(cluster, at: now + Int64(random.int(in: 150...900)), "crash \(slot.name)", .restart(slot))
    case .torn:
      guard let slot = victim() else { return }
      let tear = random.next()
      disk.armCrash(directory: slot.directory, tear: tear)
      schedule(
        cluster, at: now + Int64(random.int(in: 300...1000)),
        "torn write armed on \(slot.name) (tear \(tear % 1000))", .disarm(slot))
    case .full:
      guard let slot = victim() else { return }
      disk.fill(directory: slot.directory)
      schedule(cluster, at: now + Int64(random.int(in: 150...900)), "full disk of \(slot.name)", .free(slot))
    case .pause:
      guard let slot = victim() else { return }
      network.takeDown(slot.endpoint)
      slot.status = .frozen
      schedule(cluster, at: now + Int64(random.int(in: 150...700)), "pause \(slot.name)", .resume(slot))
    case .synchronizer:
      guard let slot = synchronizers.first(where: { $0.cluster == cluster }), !slot.crashed else { return }
      crash(slot)
      schedule(
        cluster, at: now + Int64(random.int(in: 150...900)), "synchronizer crash \(slot.name)",
        .restartSynchronizer(slot))
    case .power:
      let synchronizer = synchronizers.first { $0.cluster == cluster && !$0.crashed }
      for slot in running { crash(slot) }
      if let synchronizer { crash(synchronizer) }
      schedule(
        cluster, at: now + Int64(random.int(in: 150...900)), "power cut of cluster \(cluster)",
        .powerBack(running, synchronizer))
    case .coordinator:
      guard !coordinatorDown else { return }
      network.takeDown(coordinatorEndpoint)
      coordinatorDown = true
      schedule(cluster, at: now + Int64(random.int(in: 50...600)), "coordinator restart", .restartCoordinator)
    default:
      await partition(cluster, master: master, until: now + Int64(random.int(in: 100...700)))
    }
  }

  /// kill -9 of the coordinator is over: a new process at the same address, over the roles the last one
  /// stored (or, with `amnesia`, with nothing).
  func restartCoordinator() {
    guard coordinatorDown else { return }
    // As `sns coordinator` does: a run's epochs start at its start time (ms), above the previous run's.
    coordinator = Self.makeCoordinator(
      clusterCount: clusterCount, heartbeatInterval: heartbeatInterval, missCount: missCount, clock: clock,
      logger: logger, roleStore: roleStore,
      firstEpoch: CoordinatorConfiguration.startingEpoch(at: clock.now()))
    network.bind(coordinator, at: coordinatorEndpoint)
    network.restore(coordinatorEndpoint)
    coordinatorDown = false
    trace("coordinator restarted")
  }

  /// The coordinator's liveness check, if it is running.
  func checkLiveness() async {
    guard !coordinatorDown else { return }
    await coordinator.checkLiveness()
  }

  func partition(_ cluster: ClusterID, master: ServerSlot?, until: Int64) async {
    let pair = servers(of: cluster)
    var links: [(String, String)] = []
    var label = ""
    switch random.int(in: 0...3) {
    case 0:
      guard let master else { return }
      let clients = users.filter { self.cluster(of: $0.user) == cluster }
      links = clients.map { ($0.name, master.name) }
      label = "clients of cluster \(cluster) ↔ \(master.name)"
    case 1:
      guard pair.count == 2 else { return }
      links = [(pair[0].name, pair[1].name)]
      label = "\(pair[0].name) ↔ \(pair[1].name)"
    case 2:
      guard let slot = random.pick(pair) else { return }
      links = [(slot.name, "coordinator")]
      label = "\(slot.name) ↔ coordinator"
    default:
      let here = "f\(cluster)"
      guard let other = random.pick(synchronizers.filter { $0.cluster != cluster }) else { return }
      links = [(here, other.name)]
      label = "\(here) ↔ \(other.name)"
    }
    guard !links.isEmpty else { return }
    for (a, b) in links { self.links.block(a, b) }
    schedule(cluster, at: until, "partition \(label)", .unblock(links))
  }

  func schedule(_ cluster: ClusterID, at: Int64, _ label: String, _ ending: FaultSchedule.Ending) {
    faults.nextID += 1
    faults.active.append(
      FaultSchedule.Active(id: faults.nextID, cluster: cluster, at: at, label: label, ending: ending))
    let kind = label.split(separator: " ").first.map(String.init) ?? label
    count(kind == "torn" ? "torn-armed" : kind)
    trace("fault: \(label) until t=\(at - start)ms")
  }

  /// Ends every fault whose time has come, in order of time (then of start).
  func endDueFaults(all: Bool = false) async {
    let now = clock.now().milliseconds
    let due = faults.active.filter { all || $0.at <= now }.sorted { ($0.at, $0.id) < ($1.at, $1.id) }
    faults.active.removeAll { all || $0.at <= now }
    for fault in due {
      trace("fault over: \(fault.label)")
      switch fault.ending {
      case .restart(let slot): restart(slot)
      case .resume(let slot):
        guard slot.status == .frozen else { continue }
        network.restore(slot.endpoint)
        slot.status = .running
        slot.nextHeartbeat = now
      case .disarm(let slot):
        disk.disarm(directory: slot.directory)
        if slot.status == .crashed { restart(slot) }
      case .unblock(let pairs):
        for (a, b) in pairs { links.unblock(a, b) }
      case .free(let slot):
        disk.free(directory: slot.directory)
      case .restartCoordinator:
        restartCoordinator()
      case .restartSynchronizer(let slot):
        restart(slot)
      case .powerBack(let servers, let synchronizer):
        for slot in servers { restart(slot) }
        if let synchronizer { restart(synchronizer) }
      }
    }
  }

  /// kill -9, and its directory as after a power cut: the process stops answering and heartbeating, its
  /// in-memory state is gone, and of its files only what was fsynced stays whole.
  func crash(_ slot: ServerSlot) {
    network.takeDown(slot.endpoint)
    disk.crash(process: slot.store.files.process, tear: tears.next())
    slot.status = .crashed
  }

  /// A new process over the same directory, at the same address: it knows only what its files say.
  func restart(_ slot: ServerSlot) {
    guard slot.status == .crashed else { return }
    let store = openStore(slot.directory, as: .server)
    let coordinatorPort = network.coordinator(at: coordinatorEndpoint)
    slot.store = store
    slot.server = makeServer(slot.configuration, name: slot.name, store: store, coordinator: coordinatorPort)
    network.bind(slot.server, at: slot.endpoint)
    network.restore(slot.endpoint)
    slot.status = .running
    slot.nextHeartbeat = clock.now().milliseconds
    trace("\(slot.name) restarted")
  }

  /// kill -9 of a synchronizer: it stops answering, its handles on the server directories die with it.
  func crash(_ slot: SynchronizerSlot) {
    network.takeDown(slot.endpoint)
    if let files = slot.handles.first?.files { disk.crash(process: files.process, tear: 0) }
    slot.crashed = true
  }

  /// A new synchronizer process at the same address, knowing only its saved progress.
  func restart(_ slot: SynchronizerSlot) {
    guard slot.crashed, let number = synchronizers.firstIndex(where: { $0 === slot }).map({ $0 + 1 }) else {
      return
    }
    let (synchronizer, handles) = makeSynchronizer(
      cluster: slot.cluster, number: number, name: slot.name, at: slot.endpoint, progress: slot.progress)
    slot.synchronizer = synchronizer
    slot.handles = handles
    network.bind(synchronizer, at: slot.endpoint)
    network.restore(slot.endpoint)
    slot.crashed = false
    trace("\(slot.name) restarted")
  }

  /// The server the coordinator names master of `cluster`, if any.
  func currentMaster(of cluster: ClusterID) async -> ServerSlot? {
    guard !coordinatorDown, let status = try? await coordinator.status(),
      let id = status.clusters.first(where: { $0.id == cluster })?.master
    else { return nil }
    return servers(of: cluster).first { $0.id == id }
  }

  /// Both servers running, the coordinator's master is master of its epoch and the other its caught-up slave.
  func isSettled(_ cluster: ClusterID) async -> Bool {
    guard !coordinatorDown, let status = try? await coordinator.status(),
      let record = status.clusters.first(where: { $0.id == cluster }), let master = record.master
    else {
      return false
    }
    for slot in servers(of: cluster) {
      guard slot.status == .running else { return false }
      let phase = await slot.server.phase
      if slot.id == master {
        guard case .master(let epoch, let slave) = phase, epoch == record.epoch, slave != nil else {
          return false
        }
      } else {
        guard case .slave(let epoch, _, true) = phase, epoch == record.epoch else { return false }
      }
    }
    return true
  }
}
