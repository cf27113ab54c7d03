import Foundation
import SNSTransport

/// `baseline`: the two physical limits every other figure is compared with — a raw unary echo over our
/// SNSTransport (no SNS logic, no disk) and a raw fsync'd append loop on the disk the scenarios use.
struct BaselineScenario {
  let settings: BenchSettings

  func run() async throws -> ScenarioReport {
    var report = ScenarioReport(
      scenario: "baseline", title: "raw unary echo over SNSTransport, raw fsync'd appends",
      columns: LoadResult.columns)
    let duration = settings.pick(full: Duration.seconds(5), quick: .seconds(1))
    let echo = try await EchoBaseline.measure(concurrencies: [1, 64], duration: duration, settings: settings)
    for result in echo {
      report.rows.append(result.row("echo"))
      report.metrics.merge(result.metrics("echo.c\(result.concurrency)")) { _, new in new }
    }
    let disk = try await FsyncBaseline.measure(duration: duration, settings: settings)
    report.rows.append(disk.row("fsync append"))
    report.metrics.merge(disk.metrics("fsync.c1")) { _, new in new }
    // A ratio over a run that completed nothing (a machine loaded enough that no call finished in the window)
    // is undefined: it is left out, and the report says so.
    for (name, numerator, denominator) in [
      ("echo c64 / echo c1 throughput", echo.last, echo.first),
      ("fsync appends / echo c64 throughput", disk, echo.last),
    ] {
      guard let numerator, let denominator, denominator.throughput > 0 else {
        report.notes.append("\(name): ratio skipped, the reference run completed no operation")
        continue
      }
      report.ratios.append(BenchRatio(name: name, value: numerator.throughput / denominator.throughput))
    }
    report.notes.append(
      "echo: \(EchoBaseline.payloadSize)-byte messages on one channel (one HTTP/2 connection), client and server in this process"
    )
    report.notes.append(
      "fsync append: one \(FsyncBaseline.lineSize)-byte write(2) + fsync per operation, in the scratch directory"
    )
    return report
  }
}

/// A unary echo server and client over SNSTransport, in this process.
enum EchoBaseline {
  static let method = "/tinysns.bench.v1.Echo/Echo"
  static let payloadSize = 64

  /// Echo throughput and latency at each concurrency, after a short warm-up.
  static func measure(concurrencies: [Int], duration: Duration, settings: BenchSettings) async throws
    -> [LoadResult]
  {
    let server = try GRPCServer(
      listen: "127.0.0.1:0", handlers: [method: .unary { request, _ in request }],
      logger: LoopbackDeployment.logger, gracePeriod: .milliseconds(200))
    let serving = GRPCServerGroup([server])
    serving.start()
    let channel = GRPCChannel(target: "127.0.0.1:\(server.boundPort)")
    let payload = [UInt8](repeating: 0x61, count: payloadSize)
    let call: @Sendable (Int, Int) async throws -> Void = { _, _ in
      _ = try await channel.unary(method: method, request: payload, timeout: .seconds(10))
    }
    _ = await LoadGenerator.run(concurrency: 8, duration: .milliseconds(300), call)
    var results: [LoadResult] = []
    for concurrency in concurrencies {
      settings.progress("  echo at concurrency \(concurrency) for \(duration)")
      results.append(await LoadGenerator.run(concurrency: concurrency, duration: duration, call))
    }
    channel.close()
    await serving.stop()
    return results
  }
}

/// Appends fixed-size lines to one file, each followed by fsync: what one durable write costs on this disk.
enum FsyncBaseline {
  static let lineSize = 100

  static func measure(duration: Duration, settings: BenchSettings) async throws -> LoadResult {
    try await withScratchDirectory(settings, "fsync") { directory in
      let path = "\(directory)/append.log"
      guard FileManager.default.createFile(atPath: path, contents: nil),
        let handle = FileHandle(forWritingAtPath: path)
      else { throw BenchError.setup("cannot create \(path)") }
      defer { try? handle.close() }
      let line = Data(repeating: 0x62, count: lineSize - 1) + Data([0x0A])
      let file = SendableHandle(handle: handle)
      settings.progress("  fsync'd appends for \(duration)")
      return await LoadGenerator.run(concurrency: 1, duration: duration) { _, _ in
        try file.handle.seekToEnd()
        try file.handle.write(contentsOf: line)
        try file.handle.synchronize()
      }
    }
  }
}

/// A file handle used by one worker at a time (the fsync loop runs at concurrency 1).
struct SendableHandle: Sendable {
  let handle: FileHandle
}

/// Why a scenario could not run.
enum BenchError: Error, CustomStringConvertible {
  case setup(String)
  case timeout(String)
  /// The system answered, but not what the scenario expects: a figure from it would mean nothing.
  case unexpected(String)

  var description: String {
    switch self {
    case .setup(let why): "setup failed: \(why)"
    case .timeout(let what): "timed out: \(what)"
    case .unexpected(let what): "unexpected result: \(what)"
    }
  }
}
