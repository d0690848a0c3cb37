// swift-tools-version:6.0
//
// libFuzzer targets for Ember's parsers: archives, request bodies and images, configuration files.
// Build and run with scripts/fuzz.sh (it passes -sanitize=fuzzer,address); not part of the main build.
import PackageDescription

let fuzzerFlags: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]

let package = Package(
    name: "EmberFuzz",
    dependencies: [.package(name: "Ember", path: "..")],
    targets: [
        .target(name: "FuzzSupport"),
        .executableTarget(
            name: "FuzzArchive", dependencies: ["FuzzSupport", .product(name: "EmberArchive", package: "Ember")],
            swiftSettings: fuzzerFlags),
        .executableTarget(
            name: "FuzzRequests",
            dependencies: [
                "FuzzSupport",
                .product(name: "EmberCore", package: "Ember"), .product(name: "ImageCodec", package: "Ember"),
            ],
            swiftSettings: fuzzerFlags),
        .executableTarget(
            name: "FuzzConfig",
            dependencies: [
                "FuzzSupport",
                .product(name: "EmberCore", package: "Ember"), .product(name: "EmberArchive", package: "Ember"),
            ],
            swiftSettings: fuzzerFlags),
    ]
)
