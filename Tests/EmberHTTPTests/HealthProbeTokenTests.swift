import EmberCore
import EmberHTTP
import EmberTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// `health_probes_without_token` and keys from the operator's key file, on the listeners in-process.
@Suite struct HealthProbeTokenTests {
    static func bearer(_ key: String) -> HTTPFields { [.authorization: "Bearer \(key)"] }
    static let probes = ["/ping", "/v2/health/live", "/v2/health/ready", "/ping/", "/v2/health/ready?x=1"]

    static func keyFile(_ text: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ember-probe-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("keys.json")
        try Data(text.utf8).write(to: file)
        return file
    }

    @Test func withTheKeyOnTheProbesAnswerWithoutATokenAndNothingElseDoes() async throws {
        let tokens = TokenAuthorization()
        var settings = HTTPSettings(tokenAuthorization: tokens)
        settings.healthProbesWithoutToken = true
        let service = FakeModelService(.init(models: ["mlp": ["1.0"]]))
        try await Listener.inference.test(service: service, settings: settings) { client throws in
            for path in Self.probes {
                let reply = try await client.send(.get, path)
                #expect(reply.status == .ok, "\(path)")
            }
            #expect(try await client.send(.get, "/ping").json == ["status": "Healthy"])
            #expect(try await client.send(.get, "/v2/health/ready").json == ["ready": true])
            // Everything else still needs the inference key.
            for path in ["/v2/health", "/v2/health/other", "/v2/models/mlp/ready", "/v2", "/ping/more", "/predictions/mlp",
                         "/v2/health/live/x", "/nowhere"] {
                let reply = try await client.send(.get, path)
                #expect(reply.json == ErrorBody.authorizationFailed, "\(path)")
            }
            let predict = try await client.send(.post, "/predictions/mlp", body: "[1]", contentType: "application/json")
            #expect(predict.json == ErrorBody.authorizationFailed)
            #expect(!service.calls.contains { if case .predict = $0 { true } else { false } })
            // A wrong key on a probe is not looked at.
            #expect(try await client.send(.get, "/ping", headers: Self.bearer("wrong")).status == .ok)
        }
        // The management listener is not opened by it.
        try await Listener.management.test(service: service, settings: settings) { client throws in
            for path in ["/ping", "/v2/health/live", "/models"] {
                #expect(try await client.send(.get, path).json == ErrorBody.authorizationFailed, "\(path)")
            }
        }
    }

    @Test func withTheKeyOffTheProbesNeedTheInferenceKey() async throws {
        let tokens = TokenAuthorization()
        try await Listener.inference.test(settings: HTTPSettings(tokenAuthorization: tokens)) { client throws in
            for path in Self.probes {
                #expect(try await client.send(.get, path).json == ErrorBody.authorizationFailed, "\(path)")
                let keyed = try await client.send(.get, path, headers: Self.bearer(tokens.token(for: .inference).key))
                #expect(keyed.status == .ok, "\(path)")
            }
        }
    }

    @Test func readinessStillSaysWhetherTheServerIsReady() async throws {
        var settings = HTTPSettings(tokenAuthorization: TokenAuthorization())
        settings.healthProbesWithoutToken = true
        let service = FakeModelService(.init(healthy: false, ready: false))
        try await Listener.inference.test(service: service, settings: settings) { client throws in
            let ready = try await client.send(.get, "/v2/health/ready")
            #expect(ready.status == .serviceUnavailable)
            #expect(ready.json == ["ready": false])
            #expect(try await client.send(.get, "/ping").status == .internalServerError)
        }
    }

    @Test func operatorKeysOpenTheirListenersAndCannotBeRotated() async throws {
        let file = try Self.keyFile("""
            {"management": {"key": "manage-me-2026"}, "inference": {"key": "infer.Shared_Key-1"}, "API": {"key": "apiapiap"}}
            """)
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let before = try Data(contentsOf: file)
        let tokens = try TokenAuthorization(operatorFile: file)
        #expect(tokens.origin == .operatorFile(file))
        let settings = HTTPSettings(tokenAuthorization: tokens)
        try await Listener.inference.test(settings: settings) { client throws in
            #expect(try await client.send(.get, "/ping", headers: Self.bearer("infer.Shared_Key-1")).status == .ok)
            #expect(try await client.send(.get, "/ping", headers: Self.bearer("manage-me-2026")).json == ErrorBody.authorizationFailed)
        }
        try await Listener.management.test(settings: settings) { client throws in
            #expect(try await client.send(.get, "/models", headers: Self.bearer("manage-me-2026")).status == .ok)
            for headers in [Self.bearer("apiapiap"), [:]] {
                let rotate = try await client.send(.get, "/token?type=inference", headers: headers)
                #expect(rotate.status == .methodNotAllowed)
                #expect(rotate.json?["type"] == "MethodNotAllowedException")
                #expect(rotate.json?["message"] == .string(ServerError.tokenRotationDisabled.message))
            }
        }
        #expect(tokens.token(for: .inference).key == "infer.Shared_Key-1")
        #expect(try Data(contentsOf: file) == before)
        // Without an expiration time in the file, the keys do not expire.
        #expect(tokens.check("Bearer infer.Shared_Key-1", for: .inference, now: Date(timeIntervalSinceNow: 10 * 365 * 86_400)))
    }

    @Test func anExpirationTimeInTheFileIsHonoured() async throws {
        let file = try Self.keyFile("""
            {"management": {"key": "m1", "expiration time": "2000-01-01T00:00:00.000000001Z"},
             "inference": {"key": "i1", "expiration time": "2999-12-31T23:59:59Z"}}
            """)
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let tokens = try TokenAuthorization(operatorFile: file)
        try await Listener.management.test(settings: HTTPSettings(tokenAuthorization: tokens)) { client throws in
            #expect(try await client.send(.get, "/models", headers: Self.bearer("m1")).json == ErrorBody.authorizationFailed)
        }
        try await Listener.inference.test(settings: HTTPSettings(tokenAuthorization: tokens)) { client throws in
            #expect(try await client.send(.get, "/ping", headers: Self.bearer("i1")).status == .ok)
        }
    }
}
