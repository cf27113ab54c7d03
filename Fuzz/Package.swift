// swift-tools-version:6.0
import PackageDescription

// libFuzzer targets for Tiny SNS (docs/RELIABILITY.md). A separate package so that the sanitizer flags
// never touch the main build:
//   swift build --package-path Fuzz -c debug -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
// `scripts/fuzz` builds and runs every target over its corpus in `Fuzz/corpus/<target>/`.
let package = Package(
  name: "TinySNSFuzz",
  dependencies: [
    .package(name: "TinySNS", path: ".."),
    .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
  ],
  targets: [
    // The `main` each fuzz executable needs, handing over to libFuzzer (see driver.c).
    .target(name: "CFuzzDriver"),
    // Context-file lines and whole files: RecordCodec.decode and the store's tail scan.
    .executableTarget(
      name: "FuzzRecordParser",
      dependencies: ["CFuzzDriver", .product(name: "SNSCore", package: "TinySNS")]
    ),
    // Every protobuf request a server, coordinator or synchronizer decodes, and its mapping to core types.
    .executableTarget(
      name: "FuzzProtobufDecode",
      dependencies: [
        "CFuzzDriver",
        .product(name: "SNSCore", package: "TinySNS"),
        .product(name: "SNSTransport", package: "TinySNS"),
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
      ]
    ),
  ]
)
