import Foundation
import SNSCore
import SNSTransport

extension ChaosRun {
  /// After healing: a few sync rounds, then the checks on the live files until they pass or 60 s have passed
  /// (deliveries still travelling are not violations yet); returns the last state seen.
  func settle(
    _ deployment: ChaosDeployment, _ coordinator: any CoordinatorPort, history: [ChaosRequest],
    clientDialer: GRPCDialer
  ) async throws -> ChaosFinalState {
    try await Task.sleep(for: options.syncInterval * 5)
    let deadline = ContinuousClock.now + .seconds(60)
    while true {
      var final = try await snapshot(deployment)
      let status = try? await coordinator.status()
      for cluster in status?.clusters ?? [] {
        if let master = cluster.master { final.masters[cluster.id.value] = master.value }
      }
      for cluster in 1...options.clusters {
        guard let user = try? UserID(cluster) else { continue }
        let session = ChaosWorkload(
          users: [], seed: 0, coordinator: options.coordinator, history: ChaosHistory(), started: .now,
          logger: logger,
          progress: progress
        ).session(user, dialer: clientDialer)
        if (try? await session.execute(.list))?.status == .success { final.answering.insert(cluster) }
      }
      let result = ChaosChecker.check(history, final)
      if result.passed || ContinuousClock.now > deadline {
        progress("settled: \(result.violations.count) violations on the live files")
        return final
      }
      try await Task.sleep(for: options.syncInterval * 2)
    }
  }

  /// Every server directory of every cluster, read through the store (checksums checked).
  func snapshot(_ deployment: ChaosDeployment) async throws -> ChaosFinalState {
    var servers: [ChaosServerFiles] = []
    for cluster in 1...options.clusters {
      for id in 1...2 {
        let directory = try await deployment.serverDirectory(cluster: cluster, id: id)
        servers.append(try await read(directory, cluster: cluster, server: id))
      }
    }
    return ChaosFinalState(clusterCount: options.clusters, servers: servers, masters: [:], answering: [])
  }

  func read(_ directory: String, cluster: Int, server: Int) async throws -> ChaosServerFiles {
    var files = ChaosServerFiles(cluster: cluster, server: server)
    guard FileManager.default.fileExists(atPath: "\(directory)/users") else { return files }
    let store = try FileContextStore(directory: directory, logger: logger)
    for file in try await store.files() {
      switch file {
      case .timeline(let user):
        files.timelines[Int(user.value)] = try await store.records(in: file).compactMap { record in
          guard case .post(let post) = record else { return nil }
          return ChaosPost(author: Int(post.author.value), text: post.text.value)
        }
      case .follows(let user):
        files.follows[Int(user.value)] = try await store.records(in: file).compactMap { record in
          guard case .following(let event) = record, event.follower == user else { return nil }
          return ChaosFollowEvent(
            followee: Int(event.followee.value), follows: event.kind == .follow, sequence: event.sequence)
        }
      case .users, .cursors: break
      }
    }
    return files
  }
}
