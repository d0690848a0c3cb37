import EmberCore
import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Replicas behind one Service: two real `ember` processes given the same operator key file (mounted
/// the way Kubernetes mounts a Secret: `key_file.json` → `..data/key_file.json`, `..data` → a timestamped
/// directory swapped atomically on update) accept the same key, pick up a changed file, write no key file
/// of their own, and at SIGTERM turn readiness false while still serving, then exit 0.
@Suite(.serialized) struct SharedKeyFileTests {
    /// A Secret volume as the kubelet writes it.
    struct SecretVolume {
        let directory: URL
        var file: URL { directory.appendingPathComponent("key_file.json") }

        init(directory: URL, contents: String) throws {
            self.directory = directory
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try publish(contents)
            try FileManager.default.createSymbolicLink(atPath: file.path, withDestinationPath: "..data/key_file.json")
        }

        /// Writes a new timestamped directory and swaps `..data` to it with one rename.
        func publish(_ contents: String) throws {
            let version = "..\(UUID().uuidString)"
            let target = directory.appendingPathComponent(version)
            try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
            try Data(contents.utf8).write(to: target.appendingPathComponent("key_file.json"))
            let temporary = directory.appendingPathComponent("..data_tmp")
            try? FileManager.default.removeItem(at: temporary)
            try FileManager.default.createSymbolicLink(atPath: temporary.path, withDestinationPath: version)
            guard rename(temporary.path, directory.appendingPathComponent("..data").path) == 0 else {
                throw CocoaError(.fileWriteUnknown)
            }
        }
    }

    static func keys(inference: String, management: String) -> String {
        #"{"management": {"key": "\#(management)"}, "inference": {"key": "\#(inference)"}}"#
    }

    static func send(_ port: Int, _ path: String, key: String?, body: String? = nil) async throws -> (Int, String) {
        var request = URLRequest(url: try #require(URL(string: "http://127.0.0.1:\(port)\(path)")))
        if let body {
            request.httpMethod = "POST"
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        if let key { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        request.timeoutInterval = 30
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    struct Replica {
        let process: Process
        let inference: Int
        let management: Int
        let workingDirectory: URL
        let stderr: URL
    }

    static func start(binary: URL, store: URL, config: URL, name: String) async throws -> Replica {
        let workingDirectory = store.appendingPathComponent("cwd-\(name)")
        try FileManager.default.createDirectory(at: workingDirectory, withIntermediateDirectories: true)
        let stderrFile = store.appendingPathComponent("stderr-\(name).log")
        FileManager.default.createFile(atPath: stderrFile.path, contents: nil)
        let process = Process()
        process.executableURL = binary
        process.currentDirectoryURL = workingDirectory
        process.arguments = [
            "--start", "--foreground", "--model-store", store.path, "--models", "mlp.mar", "--ts-config", config.path, "--ncs",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: stderrFile)
        process.environment = ProcessInfo.processInfo.environment.merging(["TMPDIR": store.path]) { $1 }
        try process.run()
        func port(_ listener: String) async throws -> Int {
            let line = try #require(
                try await ProcessTests.waitFor("\(listener) API bind to: http://127.0.0.1:[0-9]+", in: stderrFile, timeout: 60),
                "\(name) did not start: \((try? String(contentsOf: stderrFile, encoding: .utf8)) ?? "")")
            return try #require(line.split(separator: ":").last.flatMap { Int($0) })
        }
        return Replica(
            process: process, inference: try await port("Inference"), management: try await port("Management"),
            workingDirectory: workingDirectory, stderr: stderrFile)
    }

    @Test func replicasShareTheOperatorsKeysAndPickUpAChangedFile() async throws {
        let binary = try #require(ProcessTests.emberBinary(), "build the ember executable first")
        let store = try TestServer.makeModelStore()
        defer { try? FileManager.default.removeItem(at: store) }
        let secret = try SecretVolume(
            directory: store.appendingPathComponent("secret"), contents: Self.keys(inference: "shared-infer-1", management: "shared-manage-1"))
        let config = store.appendingPathComponent("replica.properties")
        try Data("""
            inference_address=http://127.0.0.1:0
            management_address=http://127.0.0.1:0
            metrics_address=http://127.0.0.1:0
            grpc_inference_port=0
            grpc_management_port=0
            token_key_file=\(secret.file.path)
            health_probes_without_token=true
            drain_delay_seconds=2
            """.utf8).write(to: config)

        let replicas = [
            try await Self.start(binary: binary, store: store, config: config, name: "a"),
            try await Self.start(binary: binary, store: store, config: config, name: "b"),
        ]
        defer { for replica in replicas where replica.process.isRunning { replica.process.terminate() } }

        let row = "[1, 1, 1, 1]"
        for replica in replicas {
            #expect(try await Self.send(replica.inference, "/predictions/mlp", key: "shared-infer-1", body: row).0 == 200)
            #expect(try await Self.send(replica.inference, "/predictions/mlp", key: nil, body: row).0 == 400)
            #expect(try await Self.send(replica.inference, "/predictions/mlp", key: "shared-manage-1", body: row).0 == 400)
            #expect(try await Self.send(replica.management, "/models", key: "shared-manage-1").0 == 200)
            // The probes need no key; rotation is refused.
            #expect(try await Self.send(replica.inference, "/ping", key: nil).0 == 200)
            #expect(try await Self.send(replica.inference, "/v2/health/ready", key: nil).0 == 200)
            #expect(try await Self.send(replica.management, "/token?type=inference", key: "shared-manage-1").0 == 405)
            // No key file of its own.
            #expect(!FileManager.default.fileExists(atPath: replica.workingDirectory.appendingPathComponent("key_file.json").path))
        }

        try secret.publish(Self.keys(inference: "shared-infer-2", management: "shared-manage-2"))
        for replica in replicas {
            var status = 0
            let deadline = Date().addingTimeInterval(15)
            while status != 200, Date() < deadline {
                status = try await Self.send(replica.inference, "/predictions/mlp", key: "shared-infer-2", body: row).0
                if status != 200 { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(status == 200, "the changed key file was not picked up")
            #expect(try await Self.send(replica.inference, "/predictions/mlp", key: "shared-infer-1", body: row).0 == 400)
            #expect(try await Self.send(replica.management, "/models", key: "shared-manage-2").0 == 200)
        }
        // A broken update keeps the keys in force.
        try secret.publish("{\"inference\": ")
        try await Task.sleep(for: .seconds(2))
        #expect(try await Self.send(replicas[0].inference, "/predictions/mlp", key: "shared-infer-2", body: row).0 == 200)
        #expect(try await ProcessTests.waitFor("cannot be used; the previous keys stay", in: replicas[0].stderr, timeout: 5) != nil)

        // SIGTERM: readiness false at once, the rest serves through the drain delay, then exit 0.
        let replica = replicas[0]
        kill(replica.process.processIdentifier, SIGTERM)
        var ready = 200
        let deadline = Date().addingTimeInterval(1.5)
        while ready == 200, Date() < deadline {
            ready = try await Self.send(replica.inference, "/v2/health/ready", key: nil).0
            if ready == 200 { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(ready == 503)
        #expect(try await Self.send(replica.inference, "/predictions/mlp", key: "shared-infer-2", body: row).0 == 200)
        #expect(try await Self.send(replicas[1].inference, "/v2/health/ready", key: nil).0 == 200)
        let exitDeadline = Date().addingTimeInterval(30)
        while replica.process.isRunning, Date() < exitDeadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!replica.process.isRunning)
        #expect(replica.process.terminationStatus == 0)
    }

    @Test func aMissingKeyFileStopsTheStartWithItsName() async throws {
        let binary = try #require(ProcessTests.emberBinary())
        let store = try TestServer.makeModelStore()
        defer { try? FileManager.default.removeItem(at: store) }
        let config = store.appendingPathComponent("bad.properties")
        try Data("""
            inference_address=http://127.0.0.1:0
            management_address=http://127.0.0.1:0
            metrics_address=http://127.0.0.1:0
            grpc_inference_port=0
            grpc_management_port=0
            token_key_file=/nonexistent/keys.json
            """.utf8).write(to: config)
        let stderrFile = store.appendingPathComponent("stderr.log")
        FileManager.default.createFile(atPath: stderrFile.path, contents: nil)
        let process = Process()
        process.executableURL = binary
        process.currentDirectoryURL = store
        process.arguments = ["--start", "--foreground", "--model-store", store.path, "--ts-config", config.path, "--ncs"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: stderrFile)
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!process.isRunning)
        #expect(process.terminationStatus != 0)
        let log = try String(contentsOf: stderrFile, encoding: .utf8)
        #expect(log.contains("/nonexistent/keys.json"), "\(log)")
    }
}
