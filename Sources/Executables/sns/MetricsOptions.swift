import ArgumentParser
import Foundation
import Logging
import Metrics
import Prometheus
import SNSCore

/// `--metrics-listen`: where a long-running process serves its metrics in the Prometheus text format.
struct MetricsOptions: ParsableArguments {
  @Option(
    help: ArgumentHelp(
      "Serve Prometheus metrics at http://HOST:PORT/metrics (env SNS_METRICS_LISTEN).", valueName: "host:port"
    ))
  var metricsListen: Endpoint?

  /// Bootstraps swift-metrics with a Prometheus registry and starts the listener, when asked for.
  /// The caller stops the listener on shutdown.
  func start(role: String, logger: Logger) async -> MetricsListener? {
    let fromEnvironment = ProcessInfo.processInfo.environment["SNS_METRICS_LISTEN"].flatMap {
      try? Endpoint(parsing: $0)
    }
    guard let endpoint = metricsListen ?? fromEnvironment else { return nil }
    let registry = PrometheusCollectorRegistry()
    MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    // So a scrape of a process that has done nothing yet still says what it is.
    registry.makeGauge(
      descriptor: MetricNameDescriptor(
        metricName: "sns", unitName: "info", helpText: "Tiny SNS process role."),
      labels: [("role", role)]
    ).set(to: 1.0)
    do {
      let listener = try await MetricsListener(host: endpoint.host, port: endpoint.port, registry: registry)
      logger.notice(
        "serving metrics", metadata: ["metrics": "http://\(endpoint.host):\(listener.port)/metrics"])
      return listener
    } catch {
      fail("cannot serve metrics on \(endpoint): \(error)")
    }
  }
}
