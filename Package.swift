// swift-tools-version:6.0
//
// Ember: a TorchServe-compatible model server.
//
// libtorch: by default the shim builds against Debian's `libtorch-dev` (headers in /usr/include,
// libraries in the default linker path). Set `EMBER_LIBTORCH=/path/to/libtorch` at build time to
// use another libtorch distribution (for example a CUDA build unpacked somewhere): its `include/`,
// `include/torch/csrc/api/include` and `lib/` are added and `lib/` goes into the rpath.
import Foundation
import PackageDescription

let libtorchRoot = Context.environment["EMBER_LIBTORCH"].flatMap { $0.isEmpty ? nil : $0 }

var shimCxxSettings: [CXXSetting] = [
    // What TorchConfig.cmake sets for Debian's (and PyTorch's cxx11-abi) builds.
    .define("_GLIBCXX_USE_CXX11_ABI", to: "1")
]
var shimLinkerSettings: [LinkerSetting] = [
    .linkedLibrary("torch"),
    .linkedLibrary("torch_cpu"),
    .linkedLibrary("c10"),
]
if let root = libtorchRoot {
    shimCxxSettings.append(
        .unsafeFlags(["-isystem", "\(root)/include", "-isystem", "\(root)/include/torch/csrc/api/include"]))
    var flags = ["-L\(root)/lib", "-Xlinker", "-rpath", "-Xlinker", "\(root)/lib"]
    if FileManager.default.fileExists(atPath: "\(root)/lib/libtorch_cuda.so") {
        // CUDA kernels register themselves at load time; keep the library even though no symbol is used.
        flags += ["-Xlinker", "--no-as-needed", "-ltorch_cuda", "-lc10_cuda", "-Xlinker", "--as-needed"]
    }
    shimLinkerSettings.append(.unsafeFlags(flags))
}

let package = Package(
    name: "Ember",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ember", targets: ["ember"]),
        .executable(name: "ember-archiver", targets: ["ember-archiver"]),
        .library(name: "EmberCore", targets: ["EmberCore"]),
        .library(name: "EmberArchive", targets: ["EmberArchive"]),
        .library(name: "TorchBackend", targets: ["TorchBackend"]),
        .library(name: "ImageCodec", targets: ["ImageCodec"]),
        .library(name: "EmberTesting", targets: ["EmberTesting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // C++17 over libtorch behind a plain C header; the only code that includes torch headers.
        .target(
            name: "CTorchShim",
            path: "CShim",
            cxxSettings: shimCxxSettings,
            linkerSettings: shimLinkerSettings
        ),
        .systemLibrary(name: "CZip", pkgConfig: "libzip", providers: [.apt(["libzip-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),

        // Pixel loops in C, bit-exact with Pillow and torchvision: resampling, crop, ToTensor/Normalize.
        // Optimised in debug builds too: the test suite resizes 2000x1500 images many times.
        .target(name: "ImageKernels", cSettings: [.unsafeFlags(["-O2"])]),
        // JPEG and PNG to RGB for the image handlers, with a pixel limit checked before allocating;
        // Pillow's resize and torchvision's crop and tensor conversion.
        .target(name: "ImageCodec", dependencies: ["CTurboJPEG", "CPNG", "ImageKernels"]),

        // Swift over the shim: Tensor, TorchModule, TorchError, tensor operations.
        .target(name: "TorchBackend", dependencies: ["CTorchShim"]),

        // Archives: .mar / zip-store / tgz / directory, MANIFEST.json, model-config.yaml, handler specs.
        .target(
            name: "EmberArchive",
            dependencies: [
                "CZip", "CZlib",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Server logic without libtorch or sockets: configuration, batching, workers, registry.
        .target(
            name: "EmberCore",
            dependencies: [
                "EmberArchive",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // The libtorch inference backend: declarative handler pipelines on the worker threads.
        .target(
            name: "EmberTorch",
            dependencies: [
                "EmberCore", "EmberArchive", "TorchBackend", "ImageCodec",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Python-handler archives through TorchServe's own worker processes (ts.model_service_worker),
        // spoken to over Unix sockets with its binary protocol.
        .target(name: "CEmberPosix"),
        .target(
            name: "EmberPython",
            dependencies: [
                "CEmberPosix", "EmberCore", "EmberArchive",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // The three HTTP listeners: TorchServe's REST contract over EmberCore.
        .target(
            name: "EmberHTTP",
            dependencies: [
                "EmberCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Swift generated from protos/ by scripts/generate-grpc.sh (committed; CI never runs the generators).
        .target(
            name: "EmberGRPCProtos",
            dependencies: [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),

        // The two gRPC listeners: TorchServe's inference and management services and the Open
        // Inference Protocol's GRPCInferenceService, over the same ModelService as the HTTP listeners.
        .target(
            name: "EmberGRPC",
            dependencies: [
                "EmberCore", "EmberHTTP", "EmberGRPCProtos",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // Fakes for tests without libtorch: a model service for the listeners, a backend for the registry.
        .target(name: "EmberTesting", dependencies: ["EmberCore", "EmberHTTP", "EmberArchive"]),

        .target(
            name: "EmberArchiverCLI",
            dependencies: [
                "EmberArchive",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "ember-archiver",
            dependencies: ["EmberArchiverCLI", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // The benchmark floor: models through the shim in-process, no HTTP (benchmarks/run.py).
        .executableTarget(name: "ember-floor-bench", dependencies: ["TorchBackend"], path: "benchmarks/floor"),
        // The image pipeline stage by stage: decode, resize, normalize, forward (benchmarks/run.py).
        .executableTarget(
            name: "ember-image-bench", dependencies: ["ImageCodec", "TorchBackend"], path: "benchmarks/image"),
        // One prediction below HTTP, stage by stage and through a WorkerPool, in-process (benchmarks/pipeline).
        .executableTarget(
            name: "ember-pipeline-bench",
            dependencies: [
                "EmberTorch", "EmberCore", "EmberArchive", "TorchBackend", .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "benchmarks/pipeline"),
        // The HTTP floors of `make bench` (benchmarks/floors.py): a bare SwiftNIO NIOHTTP1 server and a bare
        // Hummingbird 2 route, each answering a fixed body, loaded like Ember.
        .executableTarget(
            name: "ember-nio-floor",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "benchmarks/nio-floor"),
        .executableTarget(
            name: "ember-hummingbird-floor",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "benchmarks/hummingbird-floor"),
        // The server's wiring: configuration, start-up models, listeners and pools in one ServiceGroup.
        .target(
            name: "EmberServer",
            dependencies: [
                "EmberCore", "EmberHTTP", "EmberGRPC", "EmberTorch", "EmberArchive", "TorchBackend", "EmberPython",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "ember",
            dependencies: ["EmberServer", .product(name: "ArgumentParser", package: "swift-argument-parser")]),

        .testTarget(name: "TorchBackendTests", dependencies: ["TorchBackend"], exclude: ["Fixtures"]),
        .testTarget(name: "ImageCodecTests", dependencies: ["ImageCodec"], exclude: ["Fixtures"]),
        .testTarget(name: "EmberTorchTests", dependencies: ["EmberTorch", "EmberArchive", "EmberCore"], exclude: ["Fixtures"]),
        .testTarget(
            name: "EmberServerTests",
            dependencies: [
                "EmberServer", "EmberHTTP", "EmberCore", "EmberTorch", "EmberArchive", "EmberTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            exclude: ["Fixtures"]),
        // The three listeners in-process (Hummingbird's router test mode) over a fake model service:
        // no libtorch, no sockets.
        .testTarget(
            name: "EmberHTTPTests",
            dependencies: [
                "EmberHTTP", "EmberCore", "EmberTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]),
        .testTarget(name: "EmberArchiveTests", dependencies: ["EmberArchive"]),
        .testTarget(name: "EmberCoreTests", dependencies: ["EmberCore"]),
        .testTarget(name: "EmberPythonTests", dependencies: ["EmberPython", "EmberCore", "EmberArchive"], exclude: ["Fixtures"]),
        .testTarget(name: "EmberArchiverCLITests", dependencies: ["EmberArchiverCLI", "EmberArchive"]),
    ],
    cxxLanguageStandard: .cxx17
)

// Swift 7's rules now: `any` spelled out for existentials everywhere; in the server's own modules, a
// file uses a module's members only when it imports that module, so each dependency is declared
// where it is used (tests import what they need, without the check).
// Generated code is left as its generator writes it.
for target in package.targets where target.type != .system && !["CTorchShim", "EmberGRPCProtos"].contains(target.name) {
    var features: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]
    if target.type != .test { features.append(.enableUpcomingFeature("MemberImportVisibility")) }
    target.swiftSettings = (target.swiftSettings ?? []) + features
}
