import EmberArchive
import EmberCore
import EmberHTTP
import EmberTorch
import Foundation
import Logging
import ServiceLifecycle

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@testable import EmberServer

/// A real Ember on ephemeral ports, built as `ember` builds it (`buildServer`): real archives in a
/// temporary model store, the libtorch backend, the three listeners. `with` runs a test against it and
/// shuts it down.
struct TestServer: Sendable {
    let inference: Int
    let management: Int
    let metricsPort: Int
    let grpcInference: Int
    let grpcManagement: Int
    let registry: ModelRegistry
    let modelStore: URL
    /// Starts the graceful shutdown that `with` otherwise starts after the body (for drain tests).
    let beginShutdown: @Sendable () async -> Void

    static let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()

    static func fixture(_ path: String) -> URL { testsDirectory.appendingPathComponent(path) }

    /// Writes the test archives into a fresh model store.
    static func makeModelStore() throws -> URL {
        let store = FileManager.default.temporaryDirectory.appendingPathComponent("ember-store-\(UUID().uuidString)")
        let work = store.appendingPathComponent(".work")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        func write(_ name: String, _ contents: String) throws -> URL {
            let url = work.appendingPathComponent(name)
            try Data(contents.utf8).write(to: url)
            return url
        }
        let mlpSpec = try write("mlp-handler.yaml", """
            ember_handler: 1
            input: {type: tensor, dtype: float32, shape: [4]}
            postprocess:
              - softmax: {dim: 1}
              - classification: {}
            """)
        let mlpConfig = try write("mlp-config.yaml", "minWorkers: 1\nmaxWorkers: 4\nbatchSize: 8\nmaxBatchDelay: 20\n")
        try ArchiveWriter(
            modelName: "mlp", version: "1.0", handler: mlpSpec.path,
            serializedFile: fixture("TorchBackendTests/Fixtures/mlp.pt"), exportPath: store, configFile: mlpConfig
        ).write()
        try ArchiveWriter(
            modelName: "mlp", version: "2.0", handler: mlpSpec.path,
            serializedFile: fixture("TorchBackendTests/Fixtures/mlp.pt"), exportPath: work
        ).write()
        try FileManager.default.moveItem(
            at: work.appendingPathComponent("mlp.mar"), to: store.appendingPathComponent("mlp-v2.mar"))
        let slowSpec = try write("slow-handler.yaml", """
            ember_handler: 1
            input: {type: tensor, dtype: float32, shape: [2]}
            postprocess: [identity]
            """)
        let slowConfig = try write("slow-config.yaml", "minWorkers: 1\nmaxWorkers: 1\nbatchSize: 1\nresponseTimeout: 3\njobQueueSize: 3\n")
        try ArchiveWriter(
            modelName: "slow", version: "1.0", handler: slowSpec.path,
            serializedFile: fixture("EmberServerTests/Fixtures/slow.pt"), exportPath: store, configFile: slowConfig
        ).write()
        // The slow model again, waiting at most 200 ms in its queue (ClientTimeoutTests).
        let slowQueueConfig = try write(
            "slowq-config.yaml", "minWorkers: 1\nmaxWorkers: 1\nbatchSize: 1\nresponseTimeout: 30\nclientTimeoutInMills: 200\n")
        try ArchiveWriter(
            modelName: "slowq", version: "1.0", handler: slowSpec.path,
            serializedFile: fixture("EmberServerTests/Fixtures/slow.pt"), exportPath: store, configFile: slowQueueConfig
        ).write()
        try ArchiveWriter(
            modelName: "classifier", version: "1.0", handler: "image_classifier",
            serializedFile: fixture("EmberTorchTests/Fixtures/tiny_classifier.pt"),
            extraFiles: [fixture("EmberTorchTests/Fixtures/index_to_name.json").path], exportPath: store
        ).write()
        let intModSpec = try write("int-mod-handler.yaml", """
            ember_handler: 1
            input: {type: tensor, dtype: int64, shape: [4]}
            postprocess: [identity]
            """)
        try ArchiveWriter(
            modelName: "intmod", version: "1.0", handler: intModSpec.path,
            serializedFile: fixture("EmberServerTests/Fixtures/int_mod.pt"), exportPath: store
        ).write()
        try FileManager.default.removeItem(at: work)
        return store
    }

    static func configuration(store: URL, extra: String = "") throws -> ServerConfiguration {
        try ServerConfiguration(properties: """
            inference_address=http://127.0.0.1:0
            management_address=http://127.0.0.1:0
            metrics_address=http://127.0.0.1:0
            grpc_inference_port=0
            grpc_management_port=0
            model_store=\(store.path)
            enable_model_api=true
            \(extra)
            """, environment: [:])
    }

    /// Starts the server with `models` registered at start-up, runs `body`, shuts down gracefully.
    /// Token authorization is off unless `tokens` is given; snapshots are written only into `snapshots`;
    /// the inference listener serves TLS with `inferenceTLS` when given.
    static func with<T: Sendable>(
        models: [String] = ["mlp.mar", "slow.mar", "classifier.mar"], extraConfiguration: String = "",
        tokens: TokenAuthorization? = nil, snapshots: SnapshotStore? = nil, inferenceTLS: TLSCredentials? = nil,
        accessLog: AccessLog? = nil, _ body: @Sendable (TestServer) async throws -> T
    ) async throws -> T {
        let store = try makeModelStore()
        defer { try? FileManager.default.removeItem(at: store) }
        var logger = Logger(label: "ember-test")
        logger.logLevel = .warning
        var configuration = try Self.configuration(
            store: store, extra: "max_request_size=1000000\nunregister_model_timeout=5\n" + extraConfiguration)
        configuration.loadModels = models
        if inferenceTLS != nil { configuration.inferenceAddress.scheme = "https" }
        let metrics = ServerMetrics(hostname: "test-host")
        let built = try await buildServer(
            configuration: configuration, backend: serverBackend(
                configuration: configuration, metrics: metrics, logger: logger,
                pythonExecutable: configuration.pythonExecutable ?? PythonWorkerFixtures.python),
            fetcher: nil, logger: logger,
            options: ServerOptions(
                tls: inferenceTLS, tokens: tokens, snapshots: snapshots.map { .init(store: $0, configuration: configuration) },
                accessLog: accessLog, metrics: metrics))
        let group = built.group
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let bound = await built.ports.ready()
            let server = TestServer(
                inference: bound.inference, management: bound.management, metricsPort: bound.metrics,
                grpcInference: bound.grpcInference, grpcManagement: bound.grpcManagement,
                registry: built.registry, modelStore: store, beginShutdown: { await group.triggerGracefulShutdown() })
            do {
                let result = try await body(server)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return result
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
        }
    }

    // MARK: Client

    struct Reply: Sendable {
        let status: Int
        let body: Data
        let headers: [String: String]
        var text: String { String(decoding: body, as: UTF8.self) }
        var json: JSONValue? { try? JSONValue.parse([UInt8](body)) }
    }

    func request(
        _ method: String, port: Int, _ path: String, body: Data? = nil, contentType: String? = nil,
        headers extraHeaders: [String: String] = [:]
    ) async throws -> Reply {
        guard let url = URL(string: "http://127.0.0.1:\(port)\(path)") else { throw URLError(.badURL) }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.httpBody = body
        request.timeoutInterval = 30
        if let contentType { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        for (name, value) in extraHeaders { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as? HTTPURLResponse
        var headers: [String: String] = [:]
        for (key, value) in http?.allHeaderFields ?? [:] {
            headers[String(describing: key).lowercased()] = String(describing: value)
        }
        return Reply(status: http?.statusCode ?? 0, body: data, headers: headers)
    }

    func predict(_ model: String, json: String) async throws -> Reply {
        try await request("POST", port: inference, "/predictions/\(model)", body: Data(json.utf8), contentType: "application/json")
    }

    func manage(_ method: String, _ path: String) async throws -> Reply {
        try await request(method, port: management, path)
    }
}

actor PortCollector {
    private var ports: [String: Int] = [:]
    private var waiters: [(Int, CheckedContinuation<[String: Int], Never>)] = []

    func set(_ name: String, _ port: Int) {
        ports[name] = port
        let ready = waiters.filter { $0.0 <= ports.count }
        waiters.removeAll { $0.0 <= ports.count }
        for waiter in ready { waiter.1.resume(returning: ports) }
    }

    func wait(for count: Int) async -> [String: Int] {
        if ports.count >= count { return ports }
        return await withCheckedContinuation { waiters.append((count, $0)) }
    }
}
