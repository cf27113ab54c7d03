import SNSCore

/// ``CoordinatorPort`` over gRPC: the course's `CoordService` for lookups, our `Coordination` for roles.
struct GRPCCoordinatorClient: CoordinatorPort {
  let channel: GRPCChannel
  let options: CallOptions

  func heartbeat(_ beat: ServerHeartbeat) async throws -> RoleAssignment {
    var request = Tinysns_Internal_V1_HeartbeatRequest()
    request.cluster = Int32(beat.cluster.value)
    request.server = Int32(beat.server.value)
    request.host = beat.endpoint.host
    request.port = Int32(beat.endpoint.port)
    request.epoch = beat.epoch.value
    request.caughtUpGeneration = beat.caughtUpGeneration
    request.role = beat.role?.rawValue ?? ""
    request.holdsData = beat.holdsData
    let reply = try await channel.call(
      options,
      Methods.coordinationHeartbeat, request, Tinysns_Internal_V1_RoleAssignment.self)
    guard let role = Role(parsing: reply.role) else {
      throw SNSError.invalidArgument("role '\(reply.role.prefix(20))'")
    }
    return RoleAssignment(
      role: role, epoch: Epoch(reply.epoch),
      master: reply.hasMaster ? try ServerDescriptor(wire: reply.master) : nil,
      slave: reply.hasSlave ? try ServerDescriptor(wire: reply.slave) : nil,
      syncGeneration: reply.syncGeneration,
      heartbeatInterval: reply.heartbeatMs > 0 ? .milliseconds(Int64(clamping: reply.heartbeatMs)) : nil,
      missCount: reply.missCount > 0 ? Int(reply.missCount) : nil)
  }

  func registerSynchronizer(_ synchronizer: SynchronizerDescriptor) async throws {
    _ = try await channel.call(
      options,
      Methods.coordinationRegisterSynchronizer, synchronizer.wire, Tinysns_Internal_V1_Empty.self)
  }

  func master(forUser user: UserID) async throws -> ServerDescriptor {
    var id = Csce438_ID()
    id.id = user.value
    return try serverDescriptor(
      try await channel.call(options, Methods.getServer, id, Csce438_ServerInfo.self), role: .master)
  }

  func slave(ofCluster cluster: ClusterID) async throws -> ServerDescriptor {
    var id = Csce438_ID()
    id.id = Int32(cluster.value)
    return try serverDescriptor(
      try await channel.call(options, Methods.getSlave, id, Csce438_ServerInfo.self), role: .slave)
  }

  func slave(for query: SlaveQuery) async throws -> SlaveAnswer {
    var request = Tinysns_Internal_V1_SlaveQuery()
    request.cluster = Int32(query.cluster.value)
    request.server = Int32(query.server.value)
    request.epoch = query.epoch.value
    let reply = try await channel.call(
      options, Methods.coordinationFindSlave, request, Tinysns_Internal_V1_SlaveAnswer.self)
    switch reply.answer {
    case .slave(let ref): return .slave(try ServerDescriptor(wire: ref))
    case .noLiveSlave(true): return .noLiveSlave
    // Neither answer (a newer coordinator's, or a damaged one): never taken as leave to go alone.
    case .noLiveSlave(false), nil: throw SNSError.unavailable("the coordinator gave no slave answer")
    }
  }

  func synchronizer(forUser user: UserID) async throws -> SynchronizerDescriptor {
    var id = Csce438_ID()
    id.id = user.value
    let info = try await channel.call(options, Methods.getFollowerServer, id, Csce438_ServerInfo.self)
    return try decoding("synchronizer") {
      SynchronizerDescriptor(
        cluster: try ClusterID(Int(info.serverID)),
        endpoint: try Endpoint(parsing: "\(info.hostname):\(info.port)"))
    }
  }

  func synchronizers() async throws -> [SynchronizerDescriptor] {
    let list = try await channel.call(
      options, Methods.getFollowerServers, Csce438_ID(), Csce438_ServerList.self)
    let count = min(list.serverID.count, list.hostname.count, list.port.count)
    return try (0..<count).map { index in
      try decoding("synchronizer list") {
        SynchronizerDescriptor(
          cluster: try ClusterID(Int(list.serverID[index])),
          endpoint: try Endpoint(parsing: "\(list.hostname[index]):\(list.port[index])"))
      }
    }
  }

  func status() async throws -> CoordinatorStatus {
    let wire = try await channel.call(
      options,
      Methods.coordinationStatus, Tinysns_Internal_V1_Empty(), Tinysns_Internal_V1_CoordinatorStatus.self)
    return try CoordinatorStatus(wire: wire)
  }

  func serverDescriptor(_ info: Csce438_ServerInfo, role: Role) throws -> ServerDescriptor {
    try decoding("server info") {
      ServerDescriptor(
        cluster: try ClusterID(Int(info.clusterID)), id: try ServerID(Int(info.serverID)),
        endpoint: try Endpoint(parsing: "\(info.hostname):\(info.port)"),
        role: Role(parsing: info.type) ?? role)
    }
  }
}
