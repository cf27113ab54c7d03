// swift-tools-version:6.0
import PackageDescription

let package = Package(
  name: "TinySNS",
  platforms: [.macOS(.v15)],
  products: [
    .library(name: "SNSCore", targets: ["SNSCore"]),
    .library(name: "SNSTransport", targets: ["SNSTransport"]),
    .executable(name: "sns", targets: ["sns"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
    .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
    .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
  ],
  targets: [
    // Transport-free heart of the system: vocabulary, state machines, actors, ports, file store.
    .target(
      name: "SNSCore",
      dependencies: [
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Metrics", package: "swift-metrics"),
      ]
    ),
    // gRPC core C API from Debian's libgrpc-dev. Links grpc and gpr from the module map:
    // pkg-config's flags for grpc break the link on Debian (see DESIGN.md).
    .systemLibrary(
      name: "CGRPCCore",
      providers: [.apt(["libgrpc-dev"])]
    ),
    // libedit (BSD-licensed readline): line editing and history in the client's REPL.
    .systemLibrary(
      name: "CEditLine",
      providers: [.apt(["libedit-dev"])]
    ),
    // glibc's malloc.h: `sns synchronizer` returns freed memory to the system after each round.
    .systemLibrary(name: "CSystemMemory"),
    .target(
      name: "SNSTransport",
      dependencies: [
        "SNSCore",
        "CGRPCCore",
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
      ]
    ),
    // Deterministic simulation of the whole system: one seed, one history (issue: simulation).
    .target(
      name: "SNSSimulation",
      dependencies: ["SNSCore", .product(name: "Logging", package: "swift-log")]
    ),
    // What the tests, the benchmarks and the chaos harness share: the child-process launcher (swift-subprocess),
    // polling, free ports, temporary directories, a quiet logger.
    .target(
      name: "SNSTestSupport",
      dependencies: [
        .product(name: "Subprocess", package: "swift-subprocess"),
        .product(name: "Logging", package: "swift-log"),
      ]
    ),
    // Benchmark scenarios behind `sns bench`: each starts what it needs on loopback and stops it.
    .target(
      name: "SNSBench",
      dependencies: [
        "SNSCore",
        "SNSTransport",
        "SNSTestSupport",
        .product(name: "Histogram", package: "hdrhistogram-swift"),
        .product(name: "Logging", package: "swift-log"),
      ]
    ),
    // Real-process fault tests behind `sns chaos` (issue #15): seeded faults, a recorded workload, a checker.
    .target(
      name: "SNSChaos",
      dependencies: [
        "SNSCore",
        "SNSTransport",
        "SNSTestSupport",
        "SNSBench",
        .product(name: "Logging", package: "swift-log"),
      ]
    ),
    .executableTarget(
      name: "sns",
      dependencies: [
        "SNSCore",
        "SNSTransport",
        "SNSSimulation",
        "SNSBench",
        "SNSChaos",
        "CEditLine",
        "CSystemMemory",
        .product(name: "Prometheus", package: "swift-prometheus"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
        .product(name: "Subprocess", package: "swift-subprocess"),
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
      ],
      path: "Sources/Executables/sns"
    ),
    .testTarget(
      name: "SNSCoreTests",
      dependencies: ["SNSCore", "SNSTestSupport", .product(name: "Logging", package: "swift-log")]
    ),
    .testTarget(
      name: "SNSSimulationTests",
      dependencies: ["SNSSimulation", "SNSCore"]
    ),
    .testTarget(
      name: "SNSTransportTests",
      dependencies: ["SNSTransport", "SNSCore", "SNSTestSupport"]
    ),
    .testTarget(
      name: "IntegrationTests",
      dependencies: ["SNSCore", "SNSTestSupport"]
    ),
    .testTarget(
      name: "SNSChaosTests",
      dependencies: ["SNSChaos", "SNSCore", "SNSTestSupport"]
    ),
    .testTarget(
      name: "SNSBenchTests",
      dependencies: ["SNSBench", "SNSCore", "SNSTestSupport"]
    ),
  ]
)
