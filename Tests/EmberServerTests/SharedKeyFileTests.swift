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
        let process: EmberProcess
        let inference: Int
        let management: Int
        let workingDirectory: URL
    }

    static func start(_ ember: EmberProcess.Children, store: URL, config: URL, name: String) async throws -> Replica {
        let workingDirectory = store.appendingPathComponent("cwd-\(name)")
        try FileManager.default.createDirectory(at: workingDirectory, withIntermediateDirectories: true)
        let process = try ember.start(
            ["--start", "--foreground", "--model-store", store.path, "--models", "mlp.mar", "--ts-config", config.path, "--ncs"],
            environment: ["TMPDIR": store.path], in: workingDirectory, log: store.appendingPathComponent("stderr-\(name).log"))
        return Replica(
            process: process, inference: try await process.port("Inference"), management: try await process.port("Management"),
            workingDirectory: workingDirectory)
    }

    @Test func replicasShareTheOperatorsKeysAndPickUpAChangedFile() async throws {
        let store = try TestServer.makeModelStore()
        defer { try? FileManager.default.removeItem(at: store) }
        try await EmberProcess.with { ember in
            let secret = try SecretVolume(
                directory: store.appendingPathComponent("secret"), contents: Self.keys(inference: "shared-infer-1", management: "shared-manage-1"))
            let config = store.appendingPathComponent("replica.properties")
            try EmberProcess.writeConfiguration(
                to: config, extra: ["token_key_file=\(secret.file.path)", "health_probes_without_token=true", "drain_delay_seconds=2"])

            let replicas = [
                try await Self.start(ember, store: store, config: config, name: "a"),
                try await Self.start(ember, store: store, config: config, name: "b"),
            ]

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
            #expect(try await replicas[0].process.waitFor("cannot be used; the previous keys stay", timeout: 5) != nil)

            // SIGTERM: readiness false at once, the rest serves through the drain delay, then exit 0.
            let replica = replicas[0]
            kill(replica.process.pid, SIGTERM)
            var ready = 200
            let deadline = Date().addingTimeInterval(1.5)
            while ready == 200, Date() < deadline {
                ready = try await Self.send(replica.inference, "/v2/health/ready", key: nil).0
                if ready == 200 { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(ready == 503)
            #expect(try await Self.send(replica.inference, "/predictions/mlp", key: "shared-infer-2", body: row).0 == 200)
            #expect(try await Self.send(replicas[1].inference, "/v2/health/ready", key: nil).0 == 200)
            await replica.process.waitForExit(timeout: 30)
            #expect(!replica.process.isRunning)
            #expect(replica.process.terminationStatus == 0)
        }
    }

    @Test func aMissingKeyFileStopsTheStartWithItsName() async throws {
        let store = try TestServer.makeModelStore()
        defer { try? FileManager.default.removeItem(at: store) }
        try await EmberProcess.with { ember in
            let config = store.appendingPathComponent("bad.properties")
            try EmberProcess.writeConfiguration(to: config, extra: ["token_key_file=/nonexistent/keys.json"])
            let process = try ember.start(
                ["--start", "--foreground", "--model-store", store.path, "--ts-config", config.path, "--ncs"],
                in: store, log: store.appendingPathComponent("stderr.log"))
            await process.waitForExit(timeout: 30)
            #expect(!process.isRunning)
            #expect(process.terminationStatus != 0)
            let log = process.logText
            #expect(log.contains("/nonexistent/keys.json"), "\(log)")
        }
    }
}
