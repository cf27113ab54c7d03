import Foundation
import SNSTestSupport
import Testing

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// `--metrics-listen`: every process serves Prometheus text, and the counters move with the work done.
@Suite("Prometheus metrics", .serialized)
struct MetricsTests {
  @Test("requests, mirror and fsync latency, heartbeats, sync rounds and promotions move on /metrics")
  func countersMove() async throws {
    // `cluster up --metrics`: each process serves /metrics on its own address at its port + 100.
    try await withClusterUp(clusters: 1, extraArguments: ["--metrics"]) { up in
      let coordinator = "http://127.0.0.1:\(up.basePort + 100)/metrics"
      let master = "http://127.0.0.2:\(up.basePort + 101)/metrics"
      let synchronizer = "http://127.0.0.2:\(up.basePort + 103)/metrics"

      let masterBefore = try await scrape(master)
      #expect(masterBefore.contains("sns_info{role=\"server\"} 1"), "\(masterBefore)")
      let postsBefore = value(masterBefore, "sns_requests_total{command=\"post\"}") ?? 0
      let fsyncsBefore = value(masterBefore, "sns_fsync_latency_seconds_count") ?? 0
      let mirrorsBefore = value(masterBefore, "sns_mirror_latency_seconds_count") ?? 0
      for index in 1...3 { #expect(try await up.client(1, ["post", "metrics \(index)"]).status == 0) }
      let masterAfter = try await scrape(master)
      // Each post is one request (after a login), mirrored to the slave and fsynced by the master.
      #expect(
        (value(masterAfter, "sns_requests_total{command=\"post\"}") ?? 0) >= postsBefore + 3, "\(masterAfter)"
      )
      #expect((value(masterAfter, "sns_fsync_latency_seconds_count") ?? 0) >= fsyncsBefore + 3)
      #expect((value(masterAfter, "sns_mirror_latency_seconds_count") ?? 0) >= mirrorsBefore + 3)
      #expect(masterAfter.contains("sns_mirror_latency_seconds_bucket{le="))

      let heartbeatsBefore = value(try await scrape(coordinator), "sns_heartbeats_total") ?? 0
      await expectEventually {
        (value((try? await scrape(coordinator)) ?? "", "sns_heartbeats_total") ?? 0) > heartbeatsBefore
      }
      let roundsBefore = value(try await scrape(synchronizer), "sns_sync_rounds_total{outcome=\"ok\"}") ?? 0
      await expectEventually {
        let text = (try? await scrape(synchronizer)) ?? ""
        return (value(text, "sns_sync_rounds_total{outcome=\"ok\"}") ?? 0) > roundsBefore
          && text.contains("sns_sync_round_seconds_count")
      }

      // Failover counts as missed heartbeats and one promotion on the coordinator.
      #expect(
        try await runSNS(["cluster", "kill", "--cluster", "1", "--role", "master", "--data-dir", up.data])
          .status == 0)
      await expectEventually {
        let text = (try? await scrape(coordinator)) ?? ""
        return (value(text, "sns_promotions_total") ?? 0) >= 1
          && (value(text, "sns_heartbeats_missed_total") ?? 0) >= 1
      }

      // Anything but GET /metrics is refused.
      let (_, response) = try await URLSession.shared.data(
        from: try #require(URL(string: "http://127.0.0.1:\(up.basePort + 100)/other")))
      #expect((response as? HTTPURLResponse)?.statusCode == 404)
      var post = URLRequest(url: try #require(URL(string: "http://127.0.0.1:\(up.basePort + 100)/metrics")))
      post.httpMethod = "POST"
      post.httpBody = Data("x".utf8)
      let (_, refused) = try await URLSession.shared.data(for: post)
      #expect((refused as? HTTPURLResponse)?.statusCode == 405)
      // The same endpoint answers again after those (kept-alive or new connections alike).
      #expect(try await scrape(coordinator).contains("sns_info"))
    }
  }

  func scrape(_ address: String) async throws -> String {
    let (data, response) = try await URLSession.shared.data(from: try #require(URL(string: address)))
    #expect((response as? HTTPURLResponse)?.statusCode == 200)
    return String(decoding: data, as: UTF8.self)
  }

  /// The value of one series (`name{labels}` exactly as exposed), if present.
  func value(_ text: String, _ series: String) -> Double? {
    for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
      return Double(line.dropFirst(series.count + 1).trimmingCharacters(in: .whitespaces))
    }
    return nil
  }
}
