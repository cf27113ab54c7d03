import Logging
import SNSCore

/// One simulated server slot: a machine directory and the process currently running on it (if any).
final class ServerSlot {
  let cluster: ClusterID
  let id: ServerID
  let name: String
  let endpoint: Endpoint
  let directory: String
  let configuration: ServerConfiguration
  var server: Server
  var store: CheckedStore
  /// `running`: heartbeats and answers; `crashed`: gone until restart; `frozen`: paused with its memory intact.
  enum Status { case running, crashed, frozen }
  var status = Status.running
  var nextHeartbeat: Int64 = 0

  init(
    cluster: ClusterID, id: ServerID, name: String, endpoint: Endpoint, directory: String,
    configuration: ServerConfiguration, server: Server, store: CheckedStore
  ) {
    self.cluster = cluster
    self.id = id
    self.name = name
    self.endpoint = endpoint
    self.directory = directory
    self.configuration = configuration
    self.server = server
    self.store = store
  }
}

/// A synchronizer slot: F_i, the handles its process holds on the server directories, and its saved
/// progress (which outlives the process, as its directory does).
final class SynchronizerSlot {
  let cluster: ClusterID
  let name: String
  let endpoint: Endpoint
  var synchronizer: Synchronizer
  var handles: [CheckedStore]
  let progress: SimulatedProgressStore
  var crashed = false
  var nextRound: Int64 = 0
  init(
    cluster: ClusterID, name: String, endpoint: Endpoint, synchronizer: Synchronizer,
    handles: [CheckedStore],
    progress: SimulatedProgressStore
  ) {
    self.cluster = cluster
    self.name = name
    self.endpoint = endpoint
    self.synchronizer = synchronizer
    self.handles = handles
    self.progress = progress
  }
}

/// A simulated user with their session.
final class UserSlot {
  let user: UserID
  let name: String
  let client: SNSClient
  var registered = false
  var posts = 0
  init(user: UserID, name: String, client: SNSClient) {
    self.user = user
    self.name = name
    self.client = client
  }
}

/// The whole simulated system for one seed, and the single driver that runs it step by step. Never shared
/// between tasks: one task builds it, runs it and reads the report.
final class SimulationWorld {
  let seed: UInt64
  let options: SimulationOptions
  var random: SimulationRandom
  let clusterCount: Int
  let clock = ManualClock(start: Timestamp(milliseconds: 1_000_000))
  let start: Int64
  let network = InMemoryNetwork()
  let links: SimulatedLinks
  /// Every machine's files; the real store runs on them.
  let disk = SimulatedFileSystem()
  /// What synchronizers delivered, against which servers' appends are checked.
  let visibility: VisibilityLedger
  /// How much of what was not fsynced each crash keeps (its own stream: crashes draw nothing from `random`).
  var tears: SimulationRandom
  /// The coordinator process now running (a restart replaces it), and whether it is down.
  var coordinator: Coordinator
  var coordinatorDown = false
  /// The coordinator's roles file, which outlives its processes (none with `amnesia`).
  let roleStore: SimulatedRoleStore?
  var servers: [ServerSlot] = []
  var synchronizers: [SynchronizerSlot] = []
  var users: [UserSlot] = []
  let history = SimulationHistory()
  let logger = Logger(label: "simulation", factory: { _ in SwiftLogNoOpLogHandler() })
  var skews: [String: Int64] = [:]
  var faultCounts: [String: Int] = [:]
  var step = 0
  var nextLivenessCheck: Int64 = 0
  var violation: SimulationViolation?
  var faults = FaultSchedule()
  var ledger = AcknowledgementLedger()

  // Virtual timing: short, so that a run covers many heartbeat intervals and failovers in few steps.
  let heartbeatInterval = Duration.milliseconds(100)
  let missCount = 2
  let syncInterval = Duration.milliseconds(300)
  /// Servers' and synchronizers' transfer page (``SimulationFaults/limits``); `nil`: their default.
  let pageBytes: Int?

  init(seed: UInt64, options: SimulationOptions, executor: SimulationExecutor) {
    self.seed = seed
    self.options = options
    var root = SimulationRandom(seed: seed)
    let chosen = root.int(in: 2...5)
    clusterCount = min(max(options.clusterCount ?? chosen, 1), 9)
    random = root.fork(1)
    let linkRandom = root.fork(2)
    var sizes = root.fork(3)
    tears = root.fork(4)
    pageBytes = options.faults.contains(.limits) ? sizes.int(in: 128...1_024) : nil
    links = SimulatedLinks(
      random: linkRandom, network: network, clock: clock, maximumDelayMilliseconds: 60,
      messageLimit: pageBytes.map { 2 * $0 + 512 }, executor: executor)
    visibility = VisibilityLedger(clusterCount: clusterCount)
    start = clock.now().milliseconds
    roleStore = options.faults.contains(.amnesia) ? nil : SimulatedRoleStore()
    coordinator = Self.makeCoordinator(
      clusterCount: clusterCount, heartbeatInterval: heartbeatInterval, missCount: missCount, clock: clock,
      logger: logger, roleStore: roleStore)
    build()
  }

  /// Milliseconds since the run began, for the trace.
  var elapsed: Int64 { clock.now().milliseconds - start }

  func clock(for process: String) -> SkewedClock {
    if skews[process] == nil {
      skews[process] = options.faults.contains(.skew) ? Int64(random.int(in: -40...40)) : 0
    }
    return SkewedClock(base: clock, skewMilliseconds: skews[process] ?? 0)
  }

  func build() {
    // Endpoints are built from validated constants; a failure here is a programming error.
    func endpoint(_ host: String, _ port: Int) -> Endpoint {
      guard let endpoint = try? Endpoint(host: host, port: port) else { preconditionFailure("bad endpoint") }
      return endpoint
    }
    network.bind(coordinator, at: coordinatorEndpoint)
    links.name(coordinatorEndpoint, as: "coordinator")
    let coordinatorPort = network.coordinator(at: coordinatorEndpoint)
    for number in 1...clusterCount {
      let cluster = ClusterID.of(userNumber(number), clusterCount: clusterCount)
      for id in 1...2 {
        guard let serverID = try? ServerID(id) else { preconditionFailure("bad server id") }
        let name = "c\(number)s\(id)"
        let at = endpoint("cluster\(number)-server\(id)", 10000 + id)
        links.name(at, as: name)
        var configuration = ServerConfiguration(
          cluster: cluster, id: serverID, endpoint: at, clusterCount: clusterCount,
          heartbeatInterval: heartbeatInterval, missCount: missCount)
        configuration.plantedBugs = options.plantedBugs
        if let pageBytes { configuration.transferPageBytes = pageBytes }
        let directory = Self.serverDirectory(cluster: cluster, id: serverID)
        let store = openStore(directory, as: .server)
        let server = makeServer(configuration, name: name, store: store, coordinator: coordinatorPort)
        network.bind(server, at: at)
        let slot = ServerSlot(
          cluster: cluster, id: serverID, name: name, endpoint: at, directory: directory,
          configuration: configuration, server: server, store: store)
        // Initial masters register first, as in `TinySNS.heartbeatAll()`, staggered by the seed.
        slot.nextHeartbeat = start + Int64(id == 1 ? 0 : random.int(in: 1...30))
        servers.append(slot)
      }
      let name = "f\(number)"
      let at = endpoint("cluster\(number)-synchronizer", 11000)
      links.name(at, as: name)
      let progress = SimulatedProgressStore()
      let (synchronizer, handles) = makeSynchronizer(
        cluster: cluster, number: number, name: name, at: at, progress: progress)
      network.bind(synchronizer, at: at)
      let slot = SynchronizerSlot(
        cluster: cluster, name: name, endpoint: at, synchronizer: synchronizer, handles: handles,
        progress: progress)
      slot.nextRound = start + Int64(random.int(in: 50...300))
      synchronizers.append(slot)
    }
    let userCount = random.int(in: clusterCount...(3 * clusterCount))
    for number in 1...userCount {
      let user = userNumber(number)
      let name = "u\(number)"
      let client = SNSClient(
        user: user, coordinator: LinkedCoordinator(from: name, links: links, target: coordinatorPort),
        dialer: LinkedDialer(from: name, links: links), clock: clock(for: name), logger: logger,
        failoverTimeout: .zero)
      users.append(UserSlot(user: user, name: name, client: client))
    }
  }

  /// A synchronizer process of cluster `number`: new handles on its cluster's server directories, the
  /// progress its predecessors saved.
  func makeSynchronizer(
    cluster: ClusterID, number: Int, name: String, at: Endpoint, progress: SimulatedProgressStore
  ) -> (Synchronizer, [CheckedStore]) {
    var stores: [ServerID: CheckedStore] = [:]
    let files = disk.process(serving: nil)
    for id in 1...2 {
      guard let serverID = try? ServerID(id) else { preconditionFailure("bad server id") }
      stores[serverID] = openStore(
        Self.serverDirectory(cluster: cluster, id: serverID), as: .synchronizer, files: files)
    }
    var configuration = SynchronizerConfiguration(
      cluster: cluster, endpoint: at, clusterCount: clusterCount, syncInterval: syncInterval)
    if let pageBytes { configuration.transferPageBytes = pageBytes }
    configuration.plantedBugs = options.plantedBugs
    // Small chunks, so that rounds (and restarts) fall between chunks of a scan. Only with the fault that
    // came with them: runs of regression seeds found before it replay unchanged.
    if options.faults.contains(.synchronizer) { configuration.scanChunkRecords = 8 }
    let synchronizer = Synchronizer(
      configuration: configuration,
      directories: SimulatedServerDirectories(stores: stores),
      progressStore: progress,
      coordinator: LinkedCoordinator(
        from: name, links: links, target: network.coordinator(at: coordinatorEndpoint)),
      dialer: LinkedDialer(from: name, links: links), clock: clock(for: name), logger: logger)
    return (synchronizer, stores.keys.sorted().compactMap { stores[$0] })
  }

  /// A server's directory on its cluster's simulated machine, named as a real server names it at its first
  /// start (``ServerDirectoryLayout``); a simulated server keeps it across restarts, as a real one does.
  static func serverDirectory(cluster: ClusterID, id: ServerID) -> String {
    let machine = ServerDirectoryLayout.machineDirectory(in: "", cluster: cluster)
    return
      "\(machine)/\(ServerDirectoryLayout.serverDirectoryName(role: ServerDirectoryLayout.firstRole(of: id), id: id))"
  }

  var coordinatorEndpoint: Endpoint {
    guard let endpoint = try? Endpoint(host: "coordinator", port: 9000) else {
      preconditionFailure("bad endpoint")
    }
    return endpoint
  }

  func userNumber(_ number: Int) -> UserID {
    guard let user = try? UserID(number) else { preconditionFailure("user numbers start at 1") }
    return user
  }

  /// A coordinator process: over what `roleStore` holds, or with nothing if there is no store.
  static func makeCoordinator(
    clusterCount: Int, heartbeatInterval: Duration, missCount: Int, clock: ManualClock, logger: Logger,
    roleStore: SimulatedRoleStore?, firstEpoch: Epoch = Epoch(1)
  ) -> Coordinator {
    let configuration = CoordinatorConfiguration(
      clusterCount: clusterCount, heartbeatInterval: heartbeatInterval, missCount: missCount,
      firstEpoch: firstEpoch)
    guard let roleStore else {
      return Coordinator(configuration: configuration, clock: clock, logger: logger)
    }
    guard let roles = roleStore.stored else {
      return Coordinator(configuration: configuration, clock: clock, logger: logger, roleStore: roleStore)
    }
    return Coordinator(
      configuration: configuration, clock: clock, logger: logger, roleStore: roleStore, restoring: roles)
  }

  /// The real store of a new process on `directory`: a server's (which owns the directory and checks its
  /// tails on opening) or a synchronizer's (`files`: its process, which opens its cluster's directories
  /// lazily, as `sns synchronizer` does).
  func openStore(_ directory: String, as writer: DiskWriter, files: SimulatedProcessFiles? = nil)
    -> CheckedStore
  {
    let files = files ?? disk.process(serving: directory)
    do {
      let store = try FileContextStore(
        directory: directory, logger: logger, fileSystem: files, lazily: writer == .synchronizer,
        plantedBugs: options.plantedBugs)
      return CheckedStore(store: store, files: files, writer: writer, ledger: visibility)
    } catch {
      preconditionFailure("a new process cannot open the simulated directory \(directory): \(error)")
    }
  }

  func makeServer(
    _ configuration: ServerConfiguration, name: String, store: CheckedStore,
    coordinator: any CoordinatorPort
  ) -> Server {
    Server(
      configuration: configuration, store: store,
      coordinator: LinkedCoordinator(from: name, links: links, target: coordinator),
      dialer: LinkedDialer(from: name, links: links), clock: clock(for: name), logger: logger)
  }

  func servers(of cluster: ClusterID) -> [ServerSlot] { servers.filter { $0.cluster == cluster } }
  func slot(at endpoint: Endpoint) -> ServerSlot? { servers.first { $0.endpoint == endpoint } }
  func cluster(of user: UserID) -> ClusterID { ClusterID.of(user, clusterCount: clusterCount) }

  func count(_ fault: String) { faultCounts[fault, default: 0] += 1 }

  func trace(_ line: String) { history.trace("[\(step)] t=\(elapsed)ms \(line)") }
}
