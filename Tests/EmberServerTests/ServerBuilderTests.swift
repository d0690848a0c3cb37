import EmberCore
import EmberHTTP
import EmberTesting
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@testable import EmberServer

/// `buildServer` with a backend that needs no libtorch: start-up models, restored snapshots, the
/// start-up snapshot before `ready`, the listeners' ports, and refusing https:// without credentials.
@Suite struct ServerBuilderTests {
    static var logger: Logger {
        var logger = Logger(label: "builder-test")
        logger.logLevel = .critical
        return logger
    }

    @Test func startUpModelsServeOnceTheListenersAreReady() async throws {
        let store = try FakeArchives.temporaryStore()
        defer { try? FileManager.default.removeItem(at: store) }
        try FakeArchives.write(name: "alpha", into: store)
        try FakeArchives.write(name: "beta", version: "2.0", into: store)
        let snapshots = SnapshotStore(directory: store.appendingPathComponent(".snapshots"))
        let configuration = try TestServer.configuration(store: store, extra: "load_models=all")
        let announced = Mutex<ListenerPorts.Bound?>(nil)
        let backend = FakeInferenceBackend()
        let server = try await buildServer(
            configuration: configuration, backend: backend, fetcher: nil, logger: Self.logger,
            options: ServerOptions(
                snapshots: .init(store: snapshots, configuration: configuration),
                onReady: { bound in announced.withLock { $0 = bound } }))
        #expect(await server.registry.snapshot().versions.map { "\($0.modelName)/\($0.version)" } == ["alpha/1.0", "beta/2.0"])
        #expect(backend.loaded.sorted() == ["alpha/1.0", "beta/2.0"])
        #expect(server.services.count == 7)
        #expect(server.services.first is PoolShutdownService)
        #expect(server.services.last is DrainService)

        let group = server.group
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let bound = await server.ports.ready()
            #expect(announced.withLock { $0 } == bound)
            #expect(Set([bound.inference, bound.management, bound.metrics, bound.grpcInference, bound.grpcManagement]).count == 5)
            #expect(bound.inference > 0)
            #expect(snapshots.snapshotFiles().map { $0.lastPathComponent.hasSuffix("-startup.cfg") } == [true])

            var request = URLRequest(url: try #require(URL(string: "http://127.0.0.1:\(bound.inference)/predictions/beta")))
            request.httpMethod = "POST"
            request.httpBody = Data("echo me".utf8)
            let (data, response) = try await URLSession.shared.data(for: request)
            #expect((response as? HTTPURLResponse)?.statusCode == 200)
            #expect(String(decoding: data, as: UTF8.self) == "echo me")
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(snapshots.snapshotFiles().first?.lastPathComponent.hasSuffix("-shutdown.cfg") == true)
    }

    @Test func aRestoredSnapshotReplacesLoadModels() async throws {
        let store = try FakeArchives.temporaryStore()
        defer { try? FileManager.default.removeItem(at: store) }
        try FakeArchives.write(name: "alpha", into: store)
        try FakeArchives.write(name: "beta", into: store)
        let configuration = try TestServer.configuration(store: store, extra: "load_models=all")
        let first = try await buildServer(
            configuration: configuration, backend: FakeInferenceBackend(), fetcher: nil, logger: Self.logger)
        _ = try await first.registry.unregister(name: "alpha", version: nil)
        let snapshot = await first.registry.snapshot()
        await first.registry.shutdownAll(timeout: .seconds(5))

        let restored = try await buildServer(
            configuration: configuration, backend: FakeInferenceBackend(), fetcher: nil, logger: Self.logger,
            options: ServerOptions(restoredModels: snapshot))
        #expect(await restored.registry.snapshot().versions.map { "\($0.modelName)/\($0.version)" } == ["beta/1.0"])
        #expect(await restored.registry.snapshot() == snapshot)
        await restored.registry.shutdownAll(timeout: .seconds(5))
    }

    @Test func anHTTPSAddressWithoutCredentialsIsRefused() async throws {
        let store = try FakeArchives.temporaryStore()
        defer { try? FileManager.default.removeItem(at: store) }
        var configuration = try TestServer.configuration(store: store)
        configuration.managementAddress.scheme = "https"
        await #expect(throws: ConfigurationError.self) {
            _ = try await buildServer(
                configuration: configuration, backend: FakeInferenceBackend(), fetcher: nil, logger: Self.logger)
        }
    }
}
