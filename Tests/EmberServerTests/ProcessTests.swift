import EmberCore
import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The real `ember` executable: start-up, a prediction, SIGTERM with a request in flight.
@Suite(.serialized) struct ProcessTests {
    static func emberBinary() -> URL? {
        let argv0 = URL(fileURLWithPath: CommandLine.arguments[0])
        let root = TestServer.testsDirectory.deletingLastPathComponent()
        let candidates = [
            argv0.deletingLastPathComponent(), argv0.deletingLastPathComponent().deletingLastPathComponent(),
            root.appendingPathComponent(".build/debug"),
        ]
        return candidates.map { $0.appendingPathComponent("ember") }.first {
            FileManager.default.isExecutableFile(atPath: $0.path)
        }
    }

    /// Reads a growing log file until `pattern` shows up.
    static func waitFor(_ pattern: String, in file: URL, timeout: TimeInterval) async throws -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
            if let range = text.range(of: pattern, options: .regularExpression) { return String(text[range]) }
            try await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    @Test func sigtermFinishesTheRequestInFlightAndExitsZero() async throws {
        let binary = try #require(Self.emberBinary(), "build the ember executable first")
        let store = try TestServer.makeModelStore()
        defer { try? FileManager.default.removeItem(at: store) }
        let config = store.appendingPathComponent("test.properties")
        try Data("""
            inference_address=http://127.0.0.1:0
            management_address=http://127.0.0.1:0
            metrics_address=http://127.0.0.1:0
            grpc_inference_port=0
            grpc_management_port=0
            some_unknown_key=1
            """.utf8).write(to: config)
        let stdoutFile = store.appendingPathComponent("stdout.log")
        let stderrFile = store.appendingPathComponent("stderr.log")
        FileManager.default.createFile(atPath: stdoutFile.path, contents: nil)
        FileManager.default.createFile(atPath: stderrFile.path, contents: nil)
        let process = Process()
        process.executableURL = binary
        process.arguments = [
            "--start", "--foreground", "--model-store", store.path, "--models", "slow=slow.mar", "mlp.mar",
            "--ts-config", config.path, "--ncs", "--disable-token-auth",
        ]
        process.standardOutput = try FileHandle(forWritingTo: stdoutFile)
        process.standardError = try FileHandle(forWritingTo: stderrFile)
        process.environment = ProcessInfo.processInfo.environment.merging(["TMPDIR": store.path]) { $1 }
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        #expect(try await Self.waitFor("Model server started\\.", in: stdoutFile, timeout: 60) != nil)
        let bound = try #require(try await Self.waitFor("Inference API bind to: http://127.0.0.1:[0-9]+", in: stderrFile, timeout: 5))
        let port = try #require(bound.split(separator: ":").last.flatMap { Int($0) })
        #expect(try await Self.waitFor("unknown configuration key ignored.*|key=some_unknown_key", in: stderrFile, timeout: 1) != nil)

        func predict(_ model: String, _ json: String) async throws -> (Int, String) {
            var request = URLRequest(url: try #require(URL(string: "http://127.0.0.1:\(port)/predictions/\(model)")))
            request.httpMethod = "POST"
            request.httpBody = Data(json.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.timeoutInterval = 30
            let (data, response) = try await URLSession.shared.data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
        }
        #expect(try await predict("mlp", "[1, 1, 1, 1]").0 == 200)

        // About two seconds of work; the signal comes well after the request has reached the server.
        async let inFlight = predict("slow", "[200, 21]")
        try await Task.sleep(for: .milliseconds(500))
        kill(process.processIdentifier, SIGTERM)
        let (status, body) = try await inFlight
        #expect(status == 200)
        #expect(body.contains("42.0"))
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!process.isRunning)
        #expect(process.terminationStatus == 0)
    }

    /// Token authorization is on by default: `key_file.json` (0600) in the working directory, `/ping`
    /// refused without the key; a `TS_DISABLE_TOKEN_AUTHORIZATION=false` variable wins over
    /// `--disable-token-auth`; `ember --stop` removes the key file.
    @Test func tokenAuthorizationIsOnByDefault() async throws {
        let binary = try #require(Self.emberBinary())
        let store = try TestServer.makeModelStore()
        defer { try? FileManager.default.removeItem(at: store) }
        let workingDirectory = store.appendingPathComponent("cwd")
        try FileManager.default.createDirectory(at: workingDirectory, withIntermediateDirectories: true)
        let config = store.appendingPathComponent("test.properties")
        try Data("""
            inference_address=http://127.0.0.1:0
            management_address=http://127.0.0.1:0
            metrics_address=http://127.0.0.1:0
            grpc_inference_port=0
            grpc_management_port=0
            enable_envvars_config=true
            """.utf8).write(to: config)
        let stderrFile = store.appendingPathComponent("stderr.log")
        FileManager.default.createFile(atPath: stderrFile.path, contents: nil)
        let environment = ProcessInfo.processInfo.environment.merging(
            ["TMPDIR": store.path, "TS_DISABLE_TOKEN_AUTHORIZATION": "false"]) { $1 }
        let process = Process()
        process.executableURL = binary
        process.currentDirectoryURL = workingDirectory
        process.arguments = [
            "--start", "--foreground", "--model-store", store.path, "--models", "mlp.mar",
            "--ts-config", config.path, "--ncs", "--disable-token-auth",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: stderrFile)
        process.environment = environment
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        let bound = try #require(
            try await Self.waitFor("Inference API bind to: http://127.0.0.1:[0-9]+", in: stderrFile, timeout: 60))
        let port = try #require(bound.split(separator: ":").last.flatMap { Int($0) })
        let keyFile = workingDirectory.appendingPathComponent("key_file.json")
        #expect(try await Self.waitFor("Key file located at \(keyFile.path)", in: stderrFile, timeout: 5) != nil)
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

        let stop = Process()
        stop.executableURL = binary
        stop.currentDirectoryURL = workingDirectory
        stop.arguments = ["--stop"]
        stop.environment = environment
        stop.standardOutput = FileHandle.nullDevice
        try stop.run()
        stop.waitUntilExit()
        #expect(stop.terminationStatus == 0)
        #expect(!FileManager.default.fileExists(atPath: keyFile.path))
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!process.isRunning)
    }

    @Test func aMissingConfigurationFileIsAClearStartupError() throws {
        let binary = try #require(Self.emberBinary())
        let process = Process()
        process.executableURL = binary
        process.arguments = ["--start", "--foreground", "--model-store", "/tmp", "--ts-config", "/nonexistent.properties"]
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = pipe
        try process.run()
        process.waitUntilExit()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus != 0)
        #expect(output.contains("--ts-config file not found: /nonexistent.properties"))
    }
}
