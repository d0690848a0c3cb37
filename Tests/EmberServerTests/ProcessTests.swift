import EmberCore
import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The real `ember` executable: start-up, a prediction, SIGTERM with a request in flight.
@Suite(.serialized) struct ProcessTests {
    @Test func sigtermFinishesTheRequestInFlightAndExitsZero() async throws {
        let store = try TestServer.makeModelStore()
        defer { try? FileManager.default.removeItem(at: store) }
        try await EmberProcess.with { ember in
            let config = store.appendingPathComponent("test.properties")
            try EmberProcess.writeConfiguration(to: config, extra: ["some_unknown_key=1"])
            let stdoutFile = store.appendingPathComponent("stdout.log")
            let process = try ember.start(
                [
                    "--start", "--foreground", "--model-store", store.path, "--models", "slow=slow.mar", "mlp.mar",
                    "--ts-config", config.path, "--ncs", "--disable-token-auth",
                ],
                environment: ["TMPDIR": store.path], log: store.appendingPathComponent("stderr.log"), stdout: .file(stdoutFile))

            #expect(try await EmberProcess.waitFor("Model server started\\.", in: stdoutFile, timeout: 60) != nil)
            let port = try await process.port("Inference", timeout: 5)
            #expect(try await process.waitFor("unknown configuration key ignored.*|key=some_unknown_key", timeout: 1) != nil)

            func predict(_ model: String, _ json: String) async throws -> (Int, String) {
                try await EmberProcess.predict(port: port, model, json: json)
            }
            #expect(try await predict("mlp", "[1, 1, 1, 1]").0 == 200)

            // About two seconds of work; the signal comes well after the request has reached the server.
            async let inFlight = predict("slow", "[200, 21]")
            try await Task.sleep(for: .milliseconds(500))
            kill(process.pid, SIGTERM)
            let (status, body) = try await inFlight
            #expect(status == 200)
            #expect(body.contains("42.0"))
            await process.waitForExit(timeout: 30)
            #expect(!process.isRunning)
            #expect(process.terminationStatus == 0)
        }
    }

    /// Token authorization is on by default: `key_file.json` (0600) in the working directory, `/ping`
    /// refused without the key; a `TS_DISABLE_TOKEN_AUTHORIZATION=false` variable wins over
    /// `--disable-token-auth`; `ember --stop` removes the key file.
    @Test func tokenAuthorizationIsOnByDefault() async throws {
        let store = try TestServer.makeModelStore()
        defer { try? FileManager.default.removeItem(at: store) }
        try await EmberProcess.with { ember in
            let workingDirectory = store.appendingPathComponent("cwd")
            try FileManager.default.createDirectory(at: workingDirectory, withIntermediateDirectories: true)
            let config = store.appendingPathComponent("test.properties")
            try EmberProcess.writeConfiguration(to: config, extra: ["enable_envvars_config=true"])
            let environment = ["TMPDIR": store.path, "TS_DISABLE_TOKEN_AUTHORIZATION": "false"]
            let process = try ember.start(
                [
                    "--start", "--foreground", "--model-store", store.path, "--models", "mlp.mar",
                    "--ts-config", config.path, "--ncs", "--disable-token-auth",
                ],
                environment: environment, in: workingDirectory, log: store.appendingPathComponent("stderr.log"))

            let port = try await process.port("Inference")
            let keyFile = workingDirectory.appendingPathComponent("key_file.json")
            #expect(try await process.waitFor("Key file located at \(keyFile.path)", timeout: 5) != nil)
            let attributes = try FileManager.default.attributesOfItem(atPath: keyFile.path)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            let keys = try JSONValue.parse([UInt8](Data(contentsOf: keyFile)))
            guard case .string(let key)? = keys["inference"]?["key"] else {
                Issue.record("no inference key in \(keys)")
                return
            }

            func ping(_ authorization: String?) async throws -> (Int, String) {
                var request = URLRequest(url: try #require(URL(string: "http://127.0.0.1:\(port)/ping")))
                if let authorization { request.setValue(authorization, forHTTPHeaderField: "Authorization") }
                request.timeoutInterval = 30
                let (data, response) = try await URLSession.shared.data(for: request)
                return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
            }
            let refused = try await ping(nil)
            #expect(refused.0 == 400)
            #expect(refused.1.contains("Token Authorization failed. Token either incorrect, expired, or not provided correctly"))
            #expect(try await ping("Bearer \(key)").0 == 200)

            let stop = try await offThePool { try ember.run(["--stop"], environment: environment, in: workingDirectory) }
            #expect(stop.status == 0)
            #expect(!FileManager.default.fileExists(atPath: keyFile.path))
            await process.waitForExit(timeout: 30)
            #expect(!process.isRunning)
        }
    }

    @Test func numberOfNettyThreadsIsHowManyThreadsServeTheListeners() async throws {
        let store = try TestServer.makeModelStore()
        defer { try? FileManager.default.removeItem(at: store) }
        try await EmberProcess.with { ember in
            let config = store.appendingPathComponent("test.properties")
            try EmberProcess.writeConfiguration(to: config, extra: ["number_of_netty_threads=3"])
            let process = try ember.start(
                [
                    "--start", "--foreground", "--model-store", store.path, "--models", "mlp.mar",
                    "--ts-config", config.path, "--ncs", "--disable-token-auth",
                ],
                environment: ["TMPDIR": store.path], log: store.appendingPathComponent("stderr.log"))
            let port = try await process.port("Inference")
            #expect(try await EmberProcess.predict(port: port, "mlp", json: "[1, 1, 1, 1]").status == 200)

            // NIO names the threads of a group of its own NIO-ELT-…, those of its shared one NIO-SGLTN-…:
            // every listener (HTTP and gRPC) is on the three, none on one thread per core.
            let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(process.pid)/task")
            let names = tasks.compactMap { try? String(contentsOfFile: "/proc/\(process.pid)/task/\($0)/comm", encoding: .utf8) }
            #expect(names.filter { $0.hasPrefix("NIO-ELT-") }.count == 3, "threads: \(names.sorted())")
            #expect(!names.contains { $0.hasPrefix("NIO-SGLTN-") }, "threads: \(names.sorted())")
        }
    }

    @Test func aMissingConfigurationFileIsAClearStartupError() async throws {
        try await EmberProcess.with { ember in
            let (status, output) = try await offThePool {
                try ember.run(
                    ["--start", "--foreground", "--model-store", "/tmp", "--ts-config", "/nonexistent.properties"], capture: true)
            }
            #expect(status != 0)
            #expect(output.contains("--ts-config file not found: /nonexistent.properties"))
        }
    }
}
