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
        let process: Process
        let management: Int
    }

    static func start(binary: URL, directory: URL, store: URL, round: Int, switches: [String] = []) async throws
        -> Running
    {
        let stderrFile = directory.appendingPathComponent("stderr-\(round).log")
        FileManager.default.createFile(atPath: stderrFile.path, contents: nil)
        let process = Process()
        process.executableURL = binary
        process.currentDirectoryURL = directory
        // --models counts only for the first start; later ones restore the snapshot instead.
        process.arguments = ["--start", "--foreground", "--model-store", store.path, "--models", "mlp.mar"] + switches
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: stderrFile)
        process.environment = ProcessInfo.processInfo.environment.merging([
            "TMPDIR": directory.path, "LOG_LOCATION": directory.appendingPathComponent("logs").path,
        ]) { $1 }
        try process.run()
        let bound = try #require(
            try await ProcessTests.waitFor("Management API bind to: http://127.0.0.1:[0-9]+", in: stderrFile, timeout: 60))
        let port = try #require(bound.split(separator: ":").last.flatMap { Int($0) })
        _ = try await ProcessTests.waitFor("listeners ready", in: stderrFile, timeout: 10)
        return Running(process: process, management: port)
    }

    /// The server's working directory inside `store`, with a `./config.properties` on ephemeral ports
    /// plus `extra` lines (not `--ts-config`: a snapshot is restored only without `--ts-config`).
    static func makeWorkingDirectory(in store: URL, extra: String = "") throws -> URL {
        let directory = store.appendingPathComponent("cwd")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data("""
            inference_address=http://127.0.0.1:0
            management_address=http://127.0.0.1:0
            metrics_address=http://127.0.0.1:0
            grpc_inference_port=0
            grpc_management_port=0
            \(extra)
            """.utf8).write(to: directory.appendingPathComponent("config.properties"))
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
        let binary = try #require(ProcessTests.emberBinary())
        let store = try TestServer.makeModelStore()
        defer { try? FileManager.default.removeItem(at: store) }
        let directory = try Self.makeWorkingDirectory(
            in: store, extra: "enable_model_api=true\ndisable_token_authorization=true")

        var running = try await Self.start(binary: binary, directory: directory, store: store, round: 0)
        defer { if running.process.isRunning { kill(running.process.processIdentifier, SIGKILL) } }
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
            kill(running.process.processIdentifier, SIGKILL)
            running.process.waitUntilExit()
            let answered = await inFlight.value?.0 == 200

            running = try await Self.start(binary: binary, directory: directory, store: store, round: round)
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
        running.process.terminate()
        running.process.waitUntilExit()
        #expect(running.process.terminationStatus == 0)
    }

    /// `--disable-token-auth` and `--enable-model-api` hold for the run they were given to; the snapshot
    /// keeps the models but not the switches, so a plain restart is locked down again.
    @Test func securitySwitchesFromTheCommandLineLastOneRun() async throws {
        let binary = try #require(ProcessTests.emberBinary())
        let store = try TestServer.makeModelStore()
        defer { try? FileManager.default.removeItem(at: store) }
        let directory = try Self.makeWorkingDirectory(in: store)

        var running = try await Self.start(
            binary: binary, directory: directory, store: store, round: 0, switches: ["--disable-token-auth", "--enable-model-api"])
        defer { if running.process.isRunning { kill(running.process.processIdentifier, SIGKILL) } }
        let registered = try await Self.call(
            "POST", port: running.management, "/models?url=mlp.mar&model_name=mlp2&initial_workers=1&synchronous=true")
        #expect(registered.0 == 200)
        running.process.terminate()
        running.process.waitUntilExit()

        let snapshots = SnapshotStore(directory: directory.appendingPathComponent("logs/config")).snapshotFiles()
        let newest = try #require(snapshots.first)
        let properties = Dictionary(
            try PropertiesFile.parse(String(contentsOf: newest, encoding: .utf8)).map { ($0.key, $0.value) },
            uniquingKeysWith: { $1 })
        #expect(properties["disable_token_authorization"] == "false")
        #expect(properties["enable_model_api"] == "false")
        #expect(properties["model_snapshot"]?.contains("mlp2") == true)

        running = try await Self.start(binary: binary, directory: directory, store: store, round: 1)
        // TorchServe answers a missing key with 400 InvalidKeyException.
        #expect(try await Self.call("GET", port: running.management, "/models").0 == 400)
        running.process.terminate()
        running.process.waitUntilExit()
    }
}
