import EmberCore
import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `kill -9` at random moments during management calls, then a restart: the server comes back with
/// the last completed state (contract §5.4, issue 6 "nothing lost").
@Suite(.serialized) struct SnapshotProcessTests {
    struct Running {
        let process: EmberProcess
        let management: Int
    }

    static func start(_ ember: EmberProcess.Children, directory: URL, store: URL, round: Int, switches: [String] = []) async throws
        -> Running
    {
        // --models counts only for the first start; later ones restore the snapshot instead.
        let process = try ember.start(
            ["--start", "--foreground", "--model-store", store.path, "--models", "mlp.mar"] + switches,
            environment: ["TMPDIR": directory.path, "LOG_LOCATION": directory.appendingPathComponent("logs").path],
            in: directory, log: directory.appendingPathComponent("stderr-\(round).log"))
        let port = try await process.port("Management")
        _ = try await process.waitFor("listeners ready", timeout: 10)
        return Running(process: process, management: port)
    }

    /// The server's working directory inside `store`, with a `./config.properties` on ephemeral ports
    /// plus `extra` lines (not `--ts-config`: a snapshot is restored only without `--ts-config`).
    static func makeWorkingDirectory(in store: URL, extra: [String] = []) throws -> URL {
        let directory = store.appendingPathComponent("cwd")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try EmberProcess.writeConfiguration(to: directory.appendingPathComponent("config.properties"), extra: extra)
        return directory
    }

    static func call(_ method: String, port: Int, _ path: String) async throws -> (Int, JSONValue?) {
        var request = URLRequest(url: try #require(URL(string: "http://127.0.0.1:\(port)\(path)")))
        request.httpMethod = method
        request.timeoutInterval = 30
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, try? JSONValue.parse([UInt8](data)))
    }

    /// The state a restart must reproduce: mlp's minimum workers and whether mlp2 is registered.
    static func state(port: Int) async throws -> (workers: Int, hasCopy: Bool) {
        let (_, described) = try await call("GET", port: port, "/models/mlp")
        guard case .int(let workers)? = described?[0]?["minWorkers"] else { return (-1, false) }
        let (status, _) = try await call("GET", port: port, "/models/mlp2")
        return (workers, status == 200)
    }

    @Test func killNineDuringChangesRestoresTheLastCompletedState() async throws {
        let store = try TestServer.makeModelStore()
        defer { try? FileManager.default.removeItem(at: store) }
        try await EmberProcess.with { ember in
            let directory = try Self.makeWorkingDirectory(
                in: store, extra: ["enable_model_api=true", "disable_token_authorization=true"])

            var running = try await Self.start(ember, directory: directory, store: store, round: 0)
            var expected = try await Self.state(port: running.management)
            #expect(expected.workers == 1)
            for round in 1...4 {
                // Each round starts a change and kills the server at a random moment of it.
                let port = running.management
                let change: (String, String) =
                    round % 2 == 1
                    ? ("PUT", "/models/mlp?min_worker=\(round + 1)&max_worker=\(round + 1)&synchronous=true")
                    : (expected.hasCopy ? "DELETE" : "POST", expected.hasCopy ? "/models/mlp2" : "/models?url=mlp.mar&model_name=mlp2&initial_workers=1")
                let inFlight = Task { try? await Self.call(change.0, port: port, change.1) }
                try await Task.sleep(for: .milliseconds(Int.random(in: 0...60)))
                await running.process.stop(SIGKILL)
                let answered = await inFlight.value?.0 == 200

                running = try await Self.start(ember, directory: directory, store: store, round: round)
                let restored = try await Self.state(port: running.management)
                let after =
                    round % 2 == 1 ? (workers: round + 1, hasCopy: expected.hasCopy) : (workers: expected.workers, hasCopy: !expected.hasCopy)
                // Answered: the change must survive. Not answered: either state, but a whole one.
                if answered {
                    #expect(restored == after, "round \(round)")
                } else {
                    #expect(restored == expected || restored == after, "round \(round): \(restored)")
                }
                expected = restored
            }
            await running.process.stop()
            #expect(running.process.terminationStatus == 0)
        }
    }

    /// `--disable-token-auth` and `--enable-model-api` hold for the run they were given to; the snapshot
    /// keeps the models but not the switches, so a plain restart is locked down again.
    @Test func securitySwitchesFromTheCommandLineLastOneRun() async throws {
        let store = try TestServer.makeModelStore()
        defer { try? FileManager.default.removeItem(at: store) }
        try await EmberProcess.with { ember in
            let directory = try Self.makeWorkingDirectory(in: store)

            var running = try await Self.start(
                ember, directory: directory, store: store, round: 0, switches: ["--disable-token-auth", "--enable-model-api"])
            let registered = try await Self.call(
                "POST", port: running.management, "/models?url=mlp.mar&model_name=mlp2&initial_workers=1&synchronous=true")
            #expect(registered.0 == 200)
            await running.process.stop()

            let snapshots = SnapshotStore(directory: directory.appendingPathComponent("logs/config")).snapshotFiles()
            let newest = try #require(snapshots.first)
            let properties = Dictionary(
                try PropertiesFile.parse(String(contentsOf: newest, encoding: .utf8)).map { ($0.key, $0.value) },
                uniquingKeysWith: { $1 })
            #expect(properties["disable_token_authorization"] == "false")
            #expect(properties["enable_model_api"] == "false")
            #expect(properties["model_snapshot"]?.contains("mlp2") == true)

            running = try await Self.start(ember, directory: directory, store: store, round: 1)
            // TorchServe answers a missing key with 400 InvalidKeyException.
            #expect(try await Self.call("GET", port: running.management, "/models").0 == 400)
            await running.process.stop()
        }
    }
}
