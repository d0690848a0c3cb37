import EmberCore
import Foundation
import Logging
import Testing

/// Synchronous scaling through the registry, against a backend whose model takes a while to load.
@Suite struct ModelRegistryScaleTests {
    func registry(backend: FakeBackend) throws -> ModelRegistry {
        let model = try TestArchives.directory(name: "fake")
        var configuration = ServerConfiguration()
        configuration.modelStore = model.deletingLastPathComponent().path
        return ModelRegistry(
            backend: backend, configuration: configuration, metrics: ServerMetrics(hostname: "test"),
            logger: Logger(label: "test"))
    }

    @Test func workersStillStartingWhenTheWaitEndsAnswer206() async throws {
        let registry = try registry(backend: FakeBackend(loadDelay: 3))
        let registered = try await registry.register(
            .init(url: "fake", settings: .init(startupTimeout: .seconds(1))))
        #expect(registered == .completed(registered.message))
        #expect(registered.message.hasSuffix("registered with 0 initial workers. Use scale workers API to add workers for the model."))
        let scaled = try await registry.scale(name: "fake", version: nil, min: 1, max: 1, synchronous: true)
        #expect(scaled == .inProgress("Workers scaling in progress..."))
        // The workers keep starting after the answer.
        let pool = try registry.pool("fake", version: nil)
        #expect(pool.waitUntilReady(timeout: .seconds(10)) == .ready)
        await registry.shutdownAll(timeout: .seconds(5))
    }

    @Test func workersReadyInTimeAnswer200() async throws {
        let registry = try registry(backend: FakeBackend())
        _ = try await registry.register(.init(url: "fake"))
        let scaled = try await registry.scale(name: "fake", version: nil, min: 2, max: 2, synchronous: true)
        #expect(scaled == .completed("Workers scaled to 2 for model: fake"))
        await registry.shutdownAll(timeout: .seconds(5))
    }
}
