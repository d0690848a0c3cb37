import EmberCore
import EmberHTTP
import EmberTesting
import Foundation
import Testing

/// Token authorization over real HTTP (contract §9.1): which listener needs which key, the exact
/// failure, expiry, rotation with the API key, and the key file.
@Suite(.serialized) struct TokenAuthorizationTests {
    static func temporaryKeyFile() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ember-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent("key_file.json")
    }

    static func bearer(_ key: String) -> [String: String] { ["Authorization": "Bearer \(key)"] }

    static func mode(of file: URL) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
        return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    @Test func inferenceListenerNeedsTheInferenceKey() async throws {
        let tokens = TokenAuthorization()
        try await TestServer.with(models: ["mlp.mar"], tokens: tokens) { server in
            let inference = tokens.token(for: .inference).key
            let management = tokens.token(for: .management).key
            let refused: [[String: String]] = [
                [:], Self.bearer("wrong123"), ["Authorization": "bearer \(inference)"], ["Authorization": inference],
                ["Authorization": "Bearer"], Self.bearer("\(inference)x"), Self.bearer(management),
            ]
            for headers in refused {
                let ping = try await server.request("GET", port: server.inference, "/ping", headers: headers)
                #expect(ping.status == 400, "\(headers)")
                #expect(ping.json == ErrorBody.authorizationFailed, "\(headers)")
                let predict = try await server.request(
                    "POST", port: server.inference, "/predictions/mlp", body: Data("[1, 1, 1, 1]".utf8),
                    contentType: "application/json", headers: headers)
                #expect(predict.status == 400)
                #expect(predict.json == ErrorBody.authorizationFailed)
            }
            let ping = try await server.request("GET", port: server.inference, "/ping", headers: Self.bearer(inference))
            #expect(ping.status == 200)
            #expect(ping.json == ["status": "Healthy"])
            let tabs = try await server.request(
                "GET", port: server.inference, "/ping", headers: ["Authorization": "Bearer \t \(inference)"])
            #expect(tabs.status == 200)
            let predict = try await server.request(
                "POST", port: server.inference, "/predictions/mlp", body: Data("[1, 1, 1, 1]".utf8),
                contentType: "application/json", headers: Self.bearer(inference))
            #expect(predict.status == 200)
            #expect(predict.json?["prediction"] == 1)
        }
    }

    @Test func managementListenerNeedsTheManagementKey() async throws {
        let tokens = TokenAuthorization()
        try await TestServer.with(models: ["mlp.mar"], tokens: tokens) { server in
            let inference = tokens.token(for: .inference).key
            let management = tokens.token(for: .management).key
            for headers in [[:], Self.bearer(inference), Self.bearer(tokens.apiKey)] {
                let describe = try await server.request("GET", port: server.management, "/models/mlp", headers: headers)
                #expect(describe.status == 400)
                #expect(describe.json == ErrorBody.authorizationFailed)
            }
            let describe = try await server.request(
                "GET", port: server.management, "/models/mlp", headers: Self.bearer(management))
            #expect(describe.status == 200)
            #expect(describe.json?[0]?["modelName"] == "mlp")
            let list = try await server.request("GET", port: server.management, "/models", headers: Self.bearer(management))
            #expect(list.status == 200)
        }
    }

    @Test func apiDescriptionAndMetricsNeedNoToken() async throws {
        try await TestServer.with(models: ["mlp.mar"], tokens: TokenAuthorization()) { server in
            for port in [server.inference, server.management] {
                let description = try await server.request("GET", port: port, "/api-description")
                #expect(description.status == 200)
                #expect(description.json?["openapi"] != nil)
                let options = try await server.request("OPTIONS", port: port, "/")
                #expect(options.status == 200)
            }
            let metrics = try await server.request("GET", port: server.metricsPort, "/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.text.contains("ts_inference_requests_total") || metrics.text.contains("Requests2XX"))
        }
    }

    @Test func anExpiredKeyIsRefused() async throws {
        // 0.001 minute: 60 ms.
        let tokens = TokenAuthorization(expirationMinutes: 0.001)
        try await TestServer.with(models: ["mlp.mar"], tokens: tokens) { server in
            try await Task.sleep(for: .milliseconds(100))
            let ping = try await server.request(
                "GET", port: server.inference, "/ping", headers: Self.bearer(tokens.token(for: .inference).key))
            #expect(ping.status == 400)
            #expect(ping.json == ErrorBody.authorizationFailed)
            let describe = try await server.request(
                "GET", port: server.management, "/models", headers: Self.bearer(tokens.token(for: .management).key))
            #expect(describe.json == ErrorBody.authorizationFailed)
        }
    }

    @Test func rotationWithTheAPIKeyReplacesOneKeyAndRewritesTheFile() async throws {
        let file = try Self.temporaryKeyFile()
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let tokens = TokenAuthorization(file: file)
        try tokens.writeFile()
        try await TestServer.with(models: ["mlp.mar"], tokens: tokens) { server in
            let oldInference = tokens.token(for: .inference).key
            let management = tokens.token(for: .management).key
            let api = tokens.apiKey
            let before = try Data(contentsOf: file)

            // Refused: no key, the management key, an unknown or missing type.
            for (path, headers) in [
                ("/token?type=inference", [String: String]()), ("/token?type=inference", Self.bearer(management)),
                ("/token?type=api", Self.bearer(api)), ("/token", Self.bearer(api)),
            ] {
                let refused = try await server.request("GET", port: server.management, path, headers: headers)
                #expect(refused.status == 400, "\(path) \(headers)")
                #expect(refused.json == ErrorBody.authenticationFailed, "\(path) \(headers)")
            }
            #expect(try Data(contentsOf: file) == before)
            // Not on the inference listener.
            let elsewhere = try await server.request(
                "GET", port: server.inference, "/token?type=inference", headers: Self.bearer(api))
            #expect(elsewhere.json == ErrorBody.authorizationFailed)

            let rotated = try await server.request(
                "GET", port: server.management, "/token?type=inference", headers: Self.bearer(api))
            #expect(rotated.status == 200)
            #expect(rotated.text == "\n")
            #expect(rotated.headers["content-type"] == "application/json")

            let newInference = tokens.token(for: .inference).key
            #expect(newInference != oldInference)
            #expect(tokens.token(for: .management).key == management)
            let old = try await server.request("GET", port: server.inference, "/ping", headers: Self.bearer(oldInference))
            #expect(old.json == ErrorBody.authorizationFailed)
            let new = try await server.request("GET", port: server.inference, "/ping", headers: Self.bearer(newInference))
            #expect(new.status == 200)

            let written = try JSONValue.parse([UInt8](Data(contentsOf: file)))
            #expect(written["inference"]?["key"] == .string(newInference))
            #expect(written["management"]?["key"] == .string(management))
            #expect(try Self.mode(of: file) == 0o600)

            let managementRotated = try await server.request(
                "GET", port: server.management, "/token?type=management", headers: Self.bearer(api))
            #expect(managementRotated.status == 200)
            let stale = try await server.request("GET", port: server.management, "/models", headers: Self.bearer(management))
            #expect(stale.json == ErrorBody.authorizationFailed)
            let fresh = try await server.request(
                "GET", port: server.management, "/models", headers: Self.bearer(tokens.token(for: .management).key))
            #expect(fresh.status == 200)
        }
    }

    @Test func theKeyFileIsTorchServesFormatWithMode0600() throws {
        let file = try Self.temporaryKeyFile()
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let tokens = TokenAuthorization(expirationMinutes: 60, file: file)
        try tokens.writeFile()
        #expect(try Self.mode(of: file) == 0o600)
        let text = try String(contentsOf: file, encoding: .utf8)
        let json = try JSONValue.parse(Array(text.utf8))
        guard case .object(let sections) = json else {
            Issue.record("not an object: \(text)")
            return
        }
        #expect(sections.map(\.0) == ["management", "inference", "API"])
        #expect(text.hasPrefix("{\n  \"management\": {\n    \"key\": \""))
        for scope in TokenAuthorization.Scope.allCases {
            let token = tokens.token(for: scope)
            #expect(json[scope.rawValue]?["key"] == .string(token.key))
            #expect(token.key.count == 8)
            #expect(token.key.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
            guard case .string(let expiry)? = json[scope.rawValue]?["expiration time"] else {
                Issue.record("no expiration time for \(scope)")
                continue
            }
            #expect(expiry.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z/) != nil, "\(expiry)")
            let remaining = token.expiration.timeIntervalSinceNow
            #expect(remaining > 3500 && remaining <= 3600)
        }
        #expect(json["API"]?["key"] == .string(tokens.apiKey))
        #expect(json["API"]?["expiration time"] == nil)
        // Not readable by others, even after a rewrite.
        try tokens.writeFile()
        #expect(try Self.mode(of: file) == 0o600)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: file.deletingLastPathComponent().path)
        #expect(leftovers == ["key_file.json"])
    }

    @Test func keysAreFreshEachTime() {
        let keys = Set((0..<50).map { _ in TokenAuthorization().token(for: .inference).key })
        #expect(keys.count == 50)
    }
}
