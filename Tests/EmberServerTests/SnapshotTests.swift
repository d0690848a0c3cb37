@testable import EmberCore
import Foundation
import Logging
import Testing

@testable import EmberServer

/// Configuration snapshots (contract §5.4): one per change, restored with the same models, versions,
/// default and workers; a write cut short never hides the last complete snapshot.
@Suite(.serialized) struct SnapshotTests {
    static func temporaryDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("ember-snapshots-\(UUID().uuidString)")
    }

    @Test func changesAreSnapshottedAndANewServerRestoresThem() async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = SnapshotStore(directory: directory)
        try await TestServer.with(models: ["mlp.mar"], snapshots: store) { server in
            #expect(store.snapshotFiles().count == 1)
            let registered = try await server.manage("POST", "/models?url=mlp-v2.mar&initial_workers=1")
            #expect(registered.status == 200, "\(registered.text)")
            let scaled = try await server.manage("PUT", "/models/mlp/2.0?min_worker=2&max_worker=3&synchronous=true")
            #expect(scaled.status == 200, "\(scaled.text)")
            let defaulted = try await server.manage("PUT", "/models/mlp/2.0/set-default")
            #expect(defaulted.status == 200, "\(defaulted.text)")
            // A refused change writes nothing.
            #expect(try await server.manage("PUT", "/models/nope?min_worker=1").status == 404)
            #expect(store.snapshotFiles().count == 4)
        }
        let files = store.snapshotFiles().map(\.lastPathComponent)
        #expect(files.count == 5)
        #expect(files.first?.hasSuffix("-shutdown.cfg") == true)
        #expect(files.last?.hasSuffix("-startup.cfg") == true)
        #expect(files.dropFirst().dropLast().allSatisfy { $0.hasSuffix("-snapshot.cfg") })

        let restored = try #require(store.latest())
        #expect(restored.file.lastPathComponent == files.first)
        let text = try String(contentsOf: restored.file, encoding: .utf8)
        #expect(text.contains("\nmodel_snapshot={\"name\"\\:\"\(restored.file.lastPathComponent)\",\"modelCount\"\\:1,"))
        let configuration = try ServerConfiguration(properties: restored.properties, environment: [:])
        #expect(configuration.inferenceAddress.port == 0)
        #expect(configuration.enableModelAPI)
        let versions = restored.models.versions
        #expect(versions.map(\.version) == ["1.0", "2.0"])
        #expect(versions.map(\.isDefault) == [false, true])
        #expect(versions.map(\.marName) == ["mlp.mar", "mlp-v2.mar"])
        #expect(versions[1].settings.minWorkers == 2 && versions[1].settings.maxWorkers == 3)
        #expect(versions[0].settings.batchSize == 8 && versions[0].settings.maxBatchDelay == .milliseconds(20))

        try await TestServer.with(models: []) { server in
            var logger = Logger(label: "snapshot-test")
            logger.logLevel = .warning
            await SnapshotRestore(models: restored.models, registry: server.registry, logger: logger).registerAll()
            #expect(await server.registry.snapshot() == restored.models)
            let described = try await server.manage("GET", "/models/mlp")
            #expect(described.json?[0]?["modelVersion"] == "2.0")
            #expect(described.json?[0]?["minWorkers"] == 2)
            #expect(described.json?[0]?["maxWorkers"] == 3)
            #expect(described.json?[0]?["workers"].map { if case .array(let a) = $0 { a.count } else { -1 } } == 2)
            let first = try await server.manage("GET", "/models/mlp/1.0")
            #expect(first.json?[0]?["batchSize"] == 8)
            #expect(try await server.predict("mlp", json: "[1, 1, 1, 1]").status == 200)
        }
    }

    @Test func aWriteCutShortLeavesTheLastCompleteSnapshot() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = SnapshotStore(directory: directory)
        let settings = ModelSettings(
            minWorkers: 1, maxWorkers: 2, batchSize: 4, maxBatchDelay: .milliseconds(10), responseTimeout: .seconds(30),
            startupTimeout: .seconds(60))
        let complete = ModelSnapshot(versions: [
            .init(modelName: "mlp", version: "1.0", isDefault: true, marName: "mlp.mar", settings: settings)
        ])
        let configuration = try ServerConfiguration(properties: "model_store=/models\njob_queue_size=7", environment: [:])
        let written = try store.write(.snapshot, configuration: configuration, models: complete, at: Date(timeIntervalSince1970: 1_800_000_000))
        let full = try String(contentsOf: written, encoding: .utf8)

        // A kill during the next write leaves its temporary file, cut anywhere: never read.
        let newer = SnapshotStore.fileName(.snapshot, at: Date(timeIntervalSince1970: 1_800_000_100))
        for cut in stride(from: 0, to: full.utf8.count, by: 7) {
            let temporary = directory.appendingPathComponent(".\(newer).\(UUID().uuidString).tmp")
            try Data(full.utf8.prefix(cut)).write(to: temporary)
            let latest = try #require(store.latest())
            #expect(latest.file == written)
            #expect(latest.models == complete)
            try FileManager.default.removeItem(at: temporary)
        }
        // Even a newer snapshot file that is itself cut short (written by something less careful) is
        // skipped for the last complete one.
        let truncated = directory.appendingPathComponent(newer)
        let cutInsideTheJSON = full.range(of: "\"maxWorkers\"").map { full[..<$0.lowerBound] } ?? ""
        try Data(cutInsideTheJSON.utf8).write(to: truncated)
        #expect(store.snapshotFiles().first == truncated)
        let latest = try #require(store.latest())
        #expect(latest.file == written)
        #expect(try ServerConfiguration(properties: latest.properties, environment: [:]).jobQueueSize == 7)
        // The atomic writer leaves no temporary file behind.
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(names.allSatisfy { !$0.hasSuffix(".tmp") })
    }
}
