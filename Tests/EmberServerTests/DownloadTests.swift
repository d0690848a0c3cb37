import EmberCore
import EmberTorch
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Testing

@testable import EmberServer

/// `allowed_urls` downloads: only matching URLs, redirects only to matching URLs, a size limit, and the
/// file removed from the store when the version is unregistered.
@Suite(.serialized) struct DownloadTests {
    /// Serves an archive, a redirect that leaves the allow-list, a redirect that stays in it, and an error.
    func withArchiveServer(archive: Data, _ body: @Sendable (Int) async throws -> Void) async throws {
        let router = Router()
        router.get("/models/mlp.mar") { _, _ in Response(status: .ok, body: .init(byteBuffer: ByteBuffer(bytes: archive))) }
        router.get("/models/gone.mar") { _, _ in Response(status: .notFound) }
        router.get("/outside.mar") { _, _ in Response(status: .ok, body: .init(byteBuffer: ByteBuffer(bytes: archive))) }
        let ports = PortCollector()
        router.get("/models/redirect-out.mar") { _, _ in
            let port = await ports.wait(for: 1)["archives"] ?? 0
            return Response(status: .found, headers: [.location: "http://127.0.0.1:\(port)/outside.mar"])
        }
        router.get("/models/redirect-in.mar") { _, _ in
            let port = await ports.wait(for: 1)["archives"] ?? 0
            return Response(status: .found, headers: [.location: "http://127.0.0.1:\(port)/models/mlp.mar"])
        }
        var logger = Logger(label: "archive-server")
        logger.logLevel = .critical
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { await ports.set("archives", $0.localAddress?.port ?? 0) }, logger: logger)
        let group = ServiceGroup(services: [app], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let port = await ports.wait(for: 1)["archives"] ?? 0
            try await body(port)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    @Test func allowListedDownloadsRedirectsAndLimits() async throws {
        let store = try TestServer.makeModelStore()
        defer { try? FileManager.default.removeItem(at: store) }
        let archive = try Data(contentsOf: store.appendingPathComponent("mlp.mar"))
        try FileManager.default.removeItem(at: store.appendingPathComponent("mlp.mar"))
        try await withArchiveServer(archive: archive) { port in
            var logger = Logger(label: "download-test")
            logger.logLevel = .critical
            let configuration = try ServerConfiguration(
                properties: "model_store=\(store.path)\nallowed_urls=http://127\\\\.0\\\\.0\\\\.1:\(port)/models/.*\n",
                environment: [:])
            #expect(configuration.allowedURLs == ["http://127\\.0\\.0\\.1:\(port)/models/.*"])
            let registry = ModelRegistry(
                backend: TorchInferenceBackend(logger: logger), configuration: configuration,
                metrics: ServerMetrics(hostname: "test"), logger: logger, fetcher: HTTPArchiveFetcher(maxBytes: 1 << 20))
            let base = "http://127.0.0.1:\(port)"
            func register(_ url: String, name: String) async -> ServerError? {
                do {
                    _ = try await registry.register(.init(url: url, modelName: name))
                    return nil
                } catch {
                    return error
                }
            }
            #expect(await register("\(base)/outside.mar", name: "a")?.message.contains("does not match any allowed URL") == true)
            #expect(await register("\(base)/models/redirect-out.mar", name: "b")?.code == .downloadFailed)
            #expect(await register("\(base)/models/gone.mar", name: "c")?.code == .downloadFailed)
            #expect(await register("\(base)/models/mlp.mar", name: "mlp") == nil)
            let downloaded = store.appendingPathComponent("mlp.mar")
            #expect(FileManager.default.fileExists(atPath: downloaded.path))
            // The same file again: TorchServe's 500.
            #expect(await register("\(base)/models/mlp.mar", name: "again")?.code == .internalError)
            #expect(await register("\(base)/models/redirect-in.mar", name: "viaRedirect") == nil)
            _ = try await registry.unregister(name: "mlp", version: nil)
            #expect(!FileManager.default.fileExists(atPath: downloaded.path))
            // Nothing partial is left in the store.
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: store.path).filter { $0.hasSuffix(".part") }
            #expect(leftovers.isEmpty)
            await registry.shutdownAll(timeout: .seconds(5))

            let tiny = ModelRegistry(
                backend: TorchInferenceBackend(logger: logger), configuration: configuration,
                metrics: ServerMetrics(hostname: "test"), logger: logger, fetcher: HTTPArchiveFetcher(maxBytes: 1000))
            do {
                _ = try await tiny.register(.init(url: "\(base)/models/mlp.mar", modelName: "big"))
                Issue.record("an archive over the size limit was accepted")
            } catch {
                #expect((error as? ServerError)?.code == .downloadFailed)
            }
            #expect(!FileManager.default.fileExists(atPath: downloaded.path))
        }
    }
}
