import EmberCore
import EmberHTTP
import EmberTesting
import HTTPTypes
import HummingbirdTesting
import Testing

/// The token step (contract §9.1): which listener needs which key, the exact refusal, expiry, and
/// rotation with the API key on the management listener.
@Suite struct TokenCheckTests {
    static func bearer(_ key: String) -> HTTPFields { [.authorization: "Bearer \(key)"] }

    @Test func theInferenceListenerNeedsTheInferenceKey() async throws {
        let tokens = TokenAuthorization()
        let inference = tokens.token(for: .inference).key
        let refused: [HTTPFields] = [
            [:], Self.bearer("wrong123"), [.authorization: "bearer \(inference)"], [.authorization: inference],
            Self.bearer("\(inference)x"), Self.bearer(tokens.token(for: .management).key), Self.bearer(tokens.apiKey),
        ]
        let service = FakeModelService(.init(models: ["mlp": ["1.0"]]))
        try await Listener.inference.test(service: service, settings: HTTPSettings(tokenAuthorization: tokens)) { client throws in
            for headers in refused {
                let ping = try await client.send(.get, "/ping", headers: headers)
                #expect(ping.status == .badRequest, "\(headers)")
                #expect(ping.json == ErrorBody.authorizationFailed, "\(headers)")
                let predict = try await client.send(
                    .post, "/predictions/mlp", body: "[1]", contentType: "application/json", headers: headers)
                #expect(predict.json == ErrorBody.authorizationFailed, "\(headers)")
            }
            // A refused request never reaches the service.
            #expect(service.calls.isEmpty)
            #expect(try await client.send(.get, "/ping", headers: Self.bearer(inference)).status == .ok)
            let predict = try await client.send(
                .post, "/predictions/mlp", body: "[1]", contentType: "application/json", headers: Self.bearer(inference))
            #expect(predict.status == .ok)
            // The 404 for an unknown path comes after the key check.
            #expect(try await client.send(.get, "/nowhere").json == ErrorBody.authorizationFailed)
        }
    }

    @Test func theManagementListenerNeedsTheManagementKey() async throws {
        let tokens = TokenAuthorization()
        let settings = HTTPSettings(enableModelAPI: true, tokenAuthorization: tokens)
        let service = FakeModelService(.init(models: ["mlp": ["1.0"]]))
        try await Listener.management.test(service: service, settings: settings) { client throws in
            for key in [tokens.token(for: .inference).key, tokens.apiKey, "nonsense"] {
                let describe = try await client.send(.get, "/models/mlp", headers: Self.bearer(key))
                #expect(describe.status == .badRequest)
                #expect(describe.json == ErrorBody.authorizationFailed)
            }
            #expect(try await client.send(.get, "/models").json == ErrorBody.authorizationFailed)
            let management = Self.bearer(tokens.token(for: .management).key)
            #expect(try await client.send(.get, "/models/mlp", headers: management).status == .ok)
            #expect(try await client.send(.get, "/models", headers: management).status == .ok)
        }
    }

    @Test func anExpiredKeyIsRefused() async throws {
        let tokens = TokenAuthorization(expirationMinutes: -1)
        try await Listener.inference.test(settings: HTTPSettings(tokenAuthorization: tokens)) { client throws in
            let ping = try await client.send(.get, "/ping", headers: Self.bearer(tokens.token(for: .inference).key))
            #expect(ping.json == ErrorBody.authorizationFailed)
        }
        try await Listener.management.test(settings: HTTPSettings(tokenAuthorization: tokens)) { client throws in
            let list = try await client.send(.get, "/models", headers: Self.bearer(tokens.token(for: .management).key))
            #expect(list.json == ErrorBody.authorizationFailed)
        }
    }

    @Test func theMetricsListenerIsOpen() async throws {
        try await Listener.metrics.test(settings: HTTPSettings(tokenAuthorization: TokenAuthorization())) { client throws in
            #expect(try await client.send(.get, "/metrics").status == .ok)
        }
    }

    @Test func withoutTokenAuthorizationNoKeyIsNeeded() async throws {
        try await Listener.inference.test { client throws in
            #expect(try await client.send(.get, "/ping").status == .ok)
        }
    }

    @Test func theAPIKeyRotatesAKeyAndTheOldOneStopsWorking() async throws {
        let tokens = TokenAuthorization()
        let settings = HTTPSettings(tokenAuthorization: tokens)
        let old = tokens.token(for: .inference).key
        try await Listener.management.test(settings: settings) { client throws in
            let rotated = try await client.send(.post, "/token?type=inference", headers: Self.bearer(tokens.apiKey))
            #expect(rotated.status == .ok)
            #expect(rotated.text == "\n")
            #expect(rotated.headers[.contentType] == "application/json")
            for (headers, uri) in [
                (Self.bearer(tokens.token(for: .management).key), "/token?type=inference"),
                (Self.bearer(tokens.apiKey), "/token?type=everything"), (Self.bearer(tokens.apiKey), "/token"),
                ([:], "/token?type=management"),
            ] {
                let refused = try await client.send(.post, uri, headers: headers)
                #expect(refused.json == ErrorBody.authenticationFailed, "\(uri)")
            }
        }
        let new = tokens.token(for: .inference).key
        #expect(new != old)
        try await Listener.inference.test(settings: settings) { client throws in
            #expect(try await client.send(.get, "/ping", headers: Self.bearer(old)).json == ErrorBody.authorizationFailed)
            #expect(try await client.send(.get, "/ping", headers: Self.bearer(new)).status == .ok)
        }
    }
}
